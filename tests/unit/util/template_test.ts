import assert from "node:assert/strict";
import { fill } from "../../../src/util/template.ts";

Deno.test("fill: one syntax, {{KEY}}; other braces and @@ markers pass through", () => {
  assert.equal(
    fill("FROM {{FROM}} '{{.Id}}' @@python {{A_B}}", { FROM: "x", A_B: "$y" }),
    "FROM x '{{.Id}}' @@python $y",
  );
});

Deno.test("fill: a key without a value is a bug, not a blank", () => {
  assert.throws(() => fill("{{NAME}}", {}), /internal: template value NAME missing/);
});

Deno.test("every template in templates/ uses only the {{KEY}} syntax", async () => {
  const root = new URL("../../../templates/", import.meta.url);
  for (const dir of ["", "archive/", "jobs/"]) {
    for await (const e of Deno.readDir(new URL(dir, root))) {
      if (!e.isFile) continue;
      const text = await Deno.readTextFile(new URL(dir + e.name, root));
      assert(!/@@[A-Z_]+@@/.test(text), `${dir}${e.name} still uses @@KEY@@`);
    }
  }
});
