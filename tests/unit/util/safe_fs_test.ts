import assert from "node:assert/strict";
import { join } from "node:path";
import {
  copyNewContained,
  isNormalRelative,
  lstatContained,
  mkdirContained,
  readContained,
  readContainedIfExists,
  readContainedText,
  UnsafePathError,
  writeNewContained,
} from "../../../src/util/safe_fs.ts";
import { tempDir } from "../../fakes/tmp.ts";

const assertEquals: (a: unknown, b: unknown) => void = (a, b) => assert.deepEqual(a, b);
/** fn throws an instance of `cls` whose message holds `text`. */
function assertThrows(fn: () => unknown, cls: abstract new (...a: never[]) => Error, text = "") {
  assert.throws(fn, (e: unknown) => e instanceof cls && e.message.includes(text));
}

const cap = { maxBytes: 1024 };

async function layout() {
  const top = await tempDir("venvoy-safefs-");
  const root = join(top, "root");
  const outside = join(top, "outside");
  await Deno.mkdir(join(root, "d"), { recursive: true });
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(outside, "secret"), "host secret\n");
  await Deno.writeTextFile(join(root, "d", "ok.txt"), "fine\n");
  return { top, root, outside };
}

Deno.test("isNormalRelative accepts plain paths and refuses every other form", () => {
  for (const ok of ["a", "a/b", "a.b/c-d", "..a", "a..", ".hidden"]) assert(isNormalRelative(ok));
  for (
    const bad of ["", "/a", "a/../b", "..", "../a", "./a", "a/./b", "a//b", "a/", "a\\b", "a\0"]
  ) {
    assert(!isNormalRelative(bad), bad);
  }
});

Deno.test("readContained reads a regular file inside the root", async () => {
  const { root } = await layout();
  assertEquals(readContainedText(root, "d/ok.txt", cap), "fine\n");
  assertEquals(readContainedIfExists(root, "d/none.txt", cap), null);
  assertThrows(() => readContained(root, "d/none.txt", cap), Deno.errors.NotFound);
});

Deno.test("readContained refuses a link as the last segment, even one pointing inside", async () => {
  const { root, outside } = await layout();
  await Deno.symlink(join(outside, "secret"), join(root, "d", "out.txt"));
  await Deno.symlink("ok.txt", join(root, "d", "in.txt"));
  assertThrows(() => readContained(root, "d/out.txt", cap), UnsafePathError, "link");
  assertThrows(() => readContained(root, "d/in.txt", cap), UnsafePathError, "link");
});

Deno.test("readContained refuses a link to a folder on the way", async () => {
  const { root, outside } = await layout();
  await Deno.symlink(outside, join(root, "via"));
  assertThrows(() => readContained(root, "via/secret", cap), UnsafePathError, "link");
  assertThrows(() => lstatContained(root, "via/secret"), UnsafePathError, "link");
});

Deno.test("readContained refuses a FIFO at once instead of blocking on it", async () => {
  const { root } = await layout();
  const mk = await new Deno.Command("mkfifo", { args: [join(root, "d", "fifo")] }).output();
  assert(mk.success);
  const started = performance.now();
  assertThrows(() => readContained(root, "d/fifo", cap), UnsafePathError, "not a regular file");
  assert(performance.now() - started < 2000);
});

Deno.test("readContained refuses a file over the cap and paths that leave the root", async () => {
  const { root } = await layout();
  await Deno.writeFile(join(root, "big"), new Uint8Array(2048));
  assertThrows(() => readContained(root, "big", cap), UnsafePathError, "larger than 1024");
  assertThrows(() => readContained(root, "d/../../outside/secret", cap), UnsafePathError);
  assertThrows(() => readContained(root, "/etc/passwd", cap), UnsafePathError);
});

Deno.test("lstatContained reports a last-segment link as a link, not its target", async () => {
  const { root, outside } = await layout();
  await Deno.symlink(outside, join(root, "d", "l"));
  assert(lstatContained(root, "d/l")?.isSymlink);
  assertEquals(lstatContained(root, "nothing/here"), null);
});

Deno.test("writeNewContained creates a new file and its folders", async () => {
  const { root } = await layout();
  writeNewContained(root, "new/deep/f.txt", new TextEncoder().encode("x"));
  assertEquals(await Deno.readTextFile(join(root, "new", "deep", "f.txt")), "x");
});

Deno.test("writeNewContained never writes through a planted link, dangling or not", async () => {
  const { root, outside } = await layout();
  // The attack of issue 18.1: a link placed first, then a file written at the same path.
  await Deno.symlink(join(outside, "secret"), join(root, "d", "data.csv"));
  await Deno.symlink(join(outside, "authorized_keys"), join(root, "d", "keys"));
  const bytes = new TextEncoder().encode("attacker\n");
  assertThrows(() => writeNewContained(root, "d/data.csv", bytes), UnsafePathError);
  assertThrows(() => writeNewContained(root, "d/keys", bytes), UnsafePathError);
  assertEquals(await Deno.readTextFile(join(outside, "secret")), "host secret\n");
  assertEquals(await Deno.lstat(join(outside, "authorized_keys")).catch(() => null), null);
});

Deno.test("writeNewContained refuses an existing file and a link to a folder on the way", async () => {
  const { root, outside } = await layout();
  await Deno.symlink(outside, join(root, "via"));
  const bytes = new TextEncoder().encode("x");
  assertThrows(() => writeNewContained(root, "d/ok.txt", bytes), UnsafePathError, "exists");
  assertThrows(() => writeNewContained(root, "via/planted", bytes), UnsafePathError, "link");
  assertEquals(await Deno.lstat(join(outside, "planted")).catch(() => null), null);
  assertEquals(await Deno.readTextFile(join(root, "d", "ok.txt")), "fine\n");
});

Deno.test("mkdirContained makes folders but not through a link", async () => {
  const { root, outside } = await layout();
  mkdirContained(root, "a/b/c");
  assert((await Deno.lstat(join(root, "a", "b", "c"))).isDirectory);
  mkdirContained(root, "a/b/c"); // again: nothing to do
  await Deno.symlink(outside, join(root, "via"));
  assertThrows(() => mkdirContained(root, "via/x"), UnsafePathError, "link");
  assertEquals(await Deno.lstat(join(outside, "x")).catch(() => null), null);
});

Deno.test("copyNewContained streams a trusted file to a new path, never over a link", async () => {
  const { root, top, outside } = await layout();
  const from = join(top, "blob");
  await Deno.writeFile(from, new Uint8Array(3 * (1 << 20) + 5).fill(7));
  copyNewContained(from, root, "in/data.bin");
  assertEquals((await Deno.stat(join(root, "in", "data.bin"))).size, 3 * (1 << 20) + 5);
  await Deno.symlink(join(outside, "secret"), join(root, "in", "l"));
  assertThrows(() => copyNewContained(from, root, "in/l"), UnsafePathError);
  assertEquals(await Deno.readTextFile(join(outside, "secret")), "host secret\n");
});
