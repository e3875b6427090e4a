import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DenoRunner } from "../../../src/process/mod.ts";

Deno.test('DenoRunner: stdin "null" is a mode, not the text "null"', async () => {
  const res = await new DenoRunner().run({ cmd: ["cat"], stdin: "null" });
  assertEquals(res.stdout, "");
});

Deno.test("DenoRunner: input is fed to the program, even the text 'null'", async () => {
  const res = await new DenoRunner().run({ cmd: ["cat"], input: "hello" });
  assertEquals(res.stdout, "hello");
  const res2 = await new DenoRunner().run({ cmd: ["cat"], input: "null" });
  assertEquals(res2.stdout, "null");
});
