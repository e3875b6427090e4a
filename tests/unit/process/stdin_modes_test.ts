import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DenoRunner } from "../../../src/process/mod.ts";

Deno.test('DenoRunner: stdin "null" is a mode, not the text "null"', async () => {
  const res = await new DenoRunner().run({ cmd: ["cat"], stdin: "null" });
  assertEquals(res.stdout, "");
});

Deno.test("DenoRunner: other stdin strings are fed to the program", async () => {
  const res = await new DenoRunner().run({ cmd: ["cat"], stdin: "hello" });
  assertEquals(res.stdout, "hello");
});
