import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert/strict";
import {
  ChecksumError,
  formatSha256Sums,
  parseSha256Sums,
  sha256Hex,
  verifySha256,
} from "../../../src/release/sha256sums.ts";

const A = "a".repeat(64);
const B = "B".repeat(64);

Deno.test("parseSha256Sums reads text and binary mode lines, skips blanks and comments", () => {
  const sums = parseSha256Sums(`# venvoy 0.1.0\n${A}  venvoy-x\n\n${B} *venvoy y.exe\r\n`);
  assertEquals([...sums], [["venvoy-x", A], ["venvoy y.exe", "b".repeat(64)]]);
});

Deno.test("parseSha256Sums rejects a malformed line, naming it", () => {
  throws(() => parseSha256Sums(`${A}  ok\nnot a checksum line\n`, "u/SHA256SUMS"), {
    message: "u/SHA256SUMS line 2 is not '<sha256>  <file>': not a checksum line",
  });
  throws(() => parseSha256Sums(`${A.slice(1)}  short\n`), /line 1/);
  throws(() => parseSha256Sums(`${A}  x\n${"c".repeat(64)}  x\n`), /lists x twice/);
});

Deno.test("formatSha256Sums writes what sha256sum -c reads, sorted by name", () => {
  const text = formatSha256Sums({ "venvoy-b": B.toLowerCase(), VERSION: A });
  assertEquals(text, `${A}  VERSION\n${"b".repeat(64)}  venvoy-b\n`);
  assertEquals(formatSha256Sums(parseSha256Sums(text)), text);
});

Deno.test("sha256Hex matches the known digest of 'abc'", async () => {
  assertEquals(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("verifySha256 accepts a match and refuses a mismatch or a missing entry", async () => {
  const bytes = new TextEncoder().encode("abc");
  const good = new Map([["f", await sha256Hex(bytes)]]);
  await verifySha256("f", bytes, good);
  await rejects(verifySha256("f", new TextEncoder().encode("abd"), good), (e) => {
    return e instanceof ChecksumError &&
      /checksum mismatch for f: SHA256SUMS says ba78/.test(e.message) &&
      /nothing was changed/.test(e.hint ?? "");
  });
  await rejects(verifySha256("g", bytes, good), /SHA256SUMS has no entry for g/);
});
