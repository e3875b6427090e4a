import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { imageTag, isValidName, validateName } from "../../../src/util/names.ts";
import { UsageError } from "../../../src/ui/errors.ts";

Deno.test("valid names", () => {
  for (const n of ["a", "venvoy-env", "cancer.study_2", "9lives", "x".repeat(63)]) {
    assert(isValidName(n), n);
  }
});

Deno.test("invalid names are usage errors that state the rule", () => {
  for (const n of ["", "-a", ".a", "_a", "Upper", "has space", "a/b", "x".repeat(64), "é"]) {
    assert.throws(
      () => validateName(n),
      (e) => e instanceof UsageError && e.exitCode === 2 && /lower-case letters/.test(e.hint ?? ""),
      n,
    );
  }
});

Deno.test("image tag", () => {
  assertEquals(imageTag("demo"), "localhost/venvoy/demo:latest");
});
