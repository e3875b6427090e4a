/** scripts/chunks.ts replaceWithWhole: `venvoy run`'s fast path as one module in the build. */
import assert from "node:assert/strict";
import { replaceWithWhole } from "../../../scripts/chunks.ts";

const SPLIT = {
  "main.js":
    'import"./chunk-E.js";let{runFast:r}=await globalThis.__venvoyImport("./run_main-AB12.js");' +
    'let{runCli:c}=await globalThis.__venvoyImport("./cli-CD34.js");',
  "chunk-E.js": "export const e=1;",
  "run_main-AB12.js": 'import{a}from"./chunk-R.js";export{a as runFast};',
  "chunk-R.js": 'import{e}from"./chunk-E.js";export const a=e;',
  "cli-CD34.js": 'import{z}from"./chunk-C.js";export{z as runCli};',
  "chunk-C.js": "export const z=2;",
};

Deno.test("replaceWithWhole: the chunk becomes the whole module; what only it reached goes", () => {
  const whole =
    'var a=1;var n=()=>globalThis.__venvoyImport("./cli-CD34.js");export{a as runFast};';
  const out = replaceWithWhole(SPLIT, "main.js", "run_main-", whole);
  assert.equal(out["run_main-AB12.js"], whole);
  assert.deepEqual(Object.keys(out).sort(), [
    "chunk-C.js",
    "chunk-E.js",
    "cli-CD34.js",
    "main.js",
    "run_main-AB12.js",
  ]);
});

Deno.test("replaceWithWhole: a whole module that still imports statically fails the build", () => {
  for (
    const whole of [
      'import{e}from"./chunk-E.js";export const a=e;',
      'var x=1;import{join as j}from"node:path";export{x as runFast};',
      'import"npm:yaml";export const a=1;',
    ]
  ) {
    assert.throws(
      () => replaceWithWhole(SPLIT, "main.js", "run_main-", whole),
      /bundled whole still imports statically/,
      whole,
    );
  }
  // Strings and dynamic imports are not static imports.
  const ok = 'var s="import x from \'y\'";var n=()=>import("node:crypto");export{s as runFast};';
  assert.ok(replaceWithWhole(SPLIT, "main.js", "run_main-", ok));
});

Deno.test("replaceWithWhole: no such chunk, or two, or a dangling reference fail the build", () => {
  assert.throws(() => replaceWithWhole(SPLIT, "main.js", "nope-", "x"), /found 0/);
  assert.throws(
    () => replaceWithWhole({ ...SPLIT, "run_main-ZZ.js": "" }, "main.js", "run_main-", "x"),
    /found 2/,
  );
  assert.throws(
    () => replaceWithWhole(SPLIT, "main.js", "run_main-", 'globalThis.__venvoyImport("./gone.js")'),
    /gone.js is referenced but was not written/,
  );
});
