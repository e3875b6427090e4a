import { deepStrictEqual as assertEquals } from "node:assert/strict";
import assert from "node:assert/strict";
import { RecordingRunner, takeUnscripted } from "../../fakes/runner.ts";

Deno.test("the fake is strict: an unscripted command rejects with its argv, and is reported", async () => {
  const r = new RecordingRunner().on(["podman", "image", "inspect"], { stdout: "[]" });
  assertEquals((await r.run({ cmd: ["podman", "image", "inspect", "x"] })).stdout, "[]");
  // A wrong command line (here: `image rm` where only inspect was expected) fails...
  await assert.rejects(
    r.run({ cmd: ["podman", "image", "rm", "x"] }),
    /unscripted command \["podman","image","rm","x"\]/,
  );
  // ...even when the code under test swallows the error: the afterEach hook sees it.
  await r.run({ cmd: ["podman", "rmi", "y"] }).catch(() => {});
  assert.throws(() => r.spawn({ cmd: ["podman", "save", "z"] }), /unscripted command/);
  assertEquals(takeUnscripted(), [
    ["podman", "image", "rm", "x"],
    ["podman", "rmi", "y"],
    ["podman", "save", "z"],
  ]);
  // Every call is still recorded, scripted or not.
  assertEquals(r.argvs.length, 4);
});

Deno.test("a scripted spawn answers like run; the latest registration wins", async () => {
  const r = new RecordingRunner().on(["podman"], { code: 3 }).on(["podman", "save"], {});
  assertEquals((await r.spawn({ cmd: ["podman", "save", "x"] }).status).code, 0);
  assertEquals((await r.run({ cmd: ["podman", "load"] })).code, 3);
});
