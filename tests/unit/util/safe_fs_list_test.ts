/** listContained: a folder's entries, never through a link (src/util/safe_fs.ts). */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { listContained, UnsafePathError } from "../../../src/util/safe_fs.ts";
import { tempDir } from "../../fakes/tmp.ts";

Deno.test("listContained lists a folder; a link, a file or a link on the way is refused", async () => {
  const root = await tempDir("venvoy-list-");
  const host = await tempDir("venvoy-host-");
  try {
    await Deno.mkdir(join(root, "a/b"), { recursive: true });
    await Deno.writeTextFile(join(root, "a/b/x.txt"), "x");
    await Deno.writeTextFile(join(host, "secret"), "s");
    await Deno.symlink(host, join(root, "a/link"));
    await Deno.symlink(host, join(root, "up"));
    assertEquals(listContained(root, "a/b")?.map((e) => e.name), ["x.txt"]);
    assertEquals(listContained(root, "a/none"), null);
    for (const rel of ["a/link", "up/", "a/b/x.txt", "up/secret", "a/../up"]) {
      assert.throws(() => listContained(root, rel), UnsafePathError, rel);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(host, { recursive: true });
  }
});
