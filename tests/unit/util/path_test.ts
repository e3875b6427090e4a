import assert from "node:assert/strict";
import { posix } from "node:path";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "../../../src/util/path.ts";

const SEGMENTS = [
  "",
  ".",
  "..",
  "a",
  "b c",
  "/",
  "//",
  "a/",
  "/a",
  "a/..",
  "../x",
  "./y/",
  "/a/../b",
];

/** Every pair and triple of segments: the inputs node:path's posix functions are held to. */
function* inputs(): Generator<string[]> {
  for (const a of SEGMENTS) {
    yield [a];
    for (const b of SEGMENTS) {
      yield [a, b];
      for (const c of SEGMENTS) yield [a, b, c];
    }
  }
}

Deno.test("POSIX join, resolve, dirname, basename and isAbsolute equal node:path's posix ones", {
  ignore: Deno.build.os === "windows",
}, () => {
  let n = 0;
  for (const parts of inputs()) {
    assert.equal(join(...parts), posix.join(...parts), `join ${JSON.stringify(parts)}`);
    assert.equal(resolve(...parts), posix.resolve(...parts), `resolve ${JSON.stringify(parts)}`);
    const whole = parts.join("");
    assert.equal(dirname(whole), posix.dirname(whole), `dirname ${JSON.stringify(whole)}`);
    assert.equal(basename(whole), posix.basename(whole), `basename ${JSON.stringify(whole)}`);
    assert.equal(isAbsolute(whole), posix.isAbsolute(whole), `isAbsolute ${JSON.stringify(whole)}`);
    n++;
  }
  assert.ok(n > 2000, `${n} cases`);
  assert.equal(delimiter, posix.delimiter);
  assert.equal(resolve(), Deno.cwd());
});

Deno.test("src/util/path.ts imports no node: module on POSIX (its reason to exist)", async () => {
  const text = await Deno.readTextFile(new URL("../../../src/util/path.ts", import.meta.url));
  const staticImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*from\s+"([^"]+)"/gm)]
    .map((m) => m[1]);
  assert.deepEqual(staticImports, []);
});
