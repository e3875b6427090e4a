import assert from "node:assert/strict";
import { after, every } from "../../../src/util/timer.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("after fires once; a cancelled one never fires", async () => {
  let fired = 0;
  let cancelled = 0;
  after(10, () => fired++);
  after(10, () => cancelled++).cancel();
  await sleep(60);
  assert.equal(fired, 1);
  assert.equal(cancelled, 0);
});

Deno.test("every repeats until cancelled", async () => {
  let n = 0;
  const t = every(10, () => n++);
  await sleep(80);
  t.cancel();
  const seen = n;
  assert.ok(seen >= 2, `fired ${seen} times`);
  await sleep(40);
  assert.equal(n, seen, "nothing after cancel");
});
