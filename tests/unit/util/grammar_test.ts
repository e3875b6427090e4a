import assert, { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  checkImageRef,
  checkLine,
  isImageRef,
  isPythonName,
  isPythonVersion,
  shellQuote,
} from "../../../src/util/grammar.ts";
import { printable, ProcessError, UsageError } from "../../../src/ui/errors.ts";

const HEX = "0123456789abcdef".repeat(4);

Deno.test("image references: the OCI grammar", () => {
  for (
    const ok of [
      "python",
      "python:3.11-slim",
      "library/python:3.11",
      "docker.io/library/python:3.11-slim",
      "localhost/venvoy-lab/python:3.11",
      "localhost:5000/team/img:1.0",
      "registry.example.org:443/a/b/c",
      "[::1]:5000/img:tag",
      `python@sha256:${HEX}`,
      `python:3.11@sha256:${HEX}`,
      "ghcr.io/org/name_with__double:v1.2.3_rc-1",
      "rocker/r-ver:4.4",
      "mambaorg/micromamba:1.5",
    ]
  ) {
    assert(isImageRef(ok), ok);
    assertEquals(checkImageRef(ok), ok);
  }
  for (
    const bad of [
      "",
      "Python:3.11",
      "python:3.11\n%setup",
      "python:3.11 slim",
      "python:",
      "python:-x",
      "python:" + "t".repeat(129),
      "python@sha256:abc",
      "python@md5:" + HEX,
      "a//b",
      "-a/b",
      "a/b-",
      "$(id)",
      "x;id",
      "/abs/path",
    ]
  ) {
    assert(!isImageRef(bad), bad);
    throws(() => checkImageRef(bad), (e) => e instanceof UsageError && e.exitCode === 2, bad);
  }
  // Image IDs, and .sif paths only where the caller takes them.
  assertEquals(checkImageRef(HEX), HEX);
  assertEquals(checkImageRef(`sha256:${HEX}`), `sha256:${HEX}`);
  throws(() => checkImageRef("/data/base.sif"), UsageError);
  assertEquals(checkImageRef("/data/base.sif", { sif: true }), "/data/base.sif");
  assertEquals(checkImageRef(`b.sif@sha256:${HEX}`, { sif: true }), `b.sif@sha256:${HEX}`);
  throws(() => checkImageRef("/data/../etc/x.sif", { sif: true }), UsageError);
  throws(() => checkImageRef("/data/a b.sif", { sif: true }), UsageError);
  throws(() => checkImageRef("/data/a\n%setup\nb.sif", { sif: true }), UsageError);
});

Deno.test("PEP 503 names and PEP 440 versions", () => {
  for (const n of ["numpy", "zope.interface", "typing_extensions", "A1", "a-b"]) {
    assert(isPythonName(n), n);
  }
  for (const n of ["", "-a", "a-", "$(id)", "a b", "a\nb", "a'b", "a/b"]) {
    assert(!isPythonName(n), n);
  }
  for (const v of ["1.0", "2.1.0.post1", "1!2.0", "1.0+cpu", "1.0rc1", "0.13.9"]) {
    assert(isPythonVersion(v), v);
  }
  for (const v of ["", "1.0;id", "1.0\n", '1"', "$(id)", "1 0", "1`id`"]) {
    assert(!isPythonVersion(v), v);
  }
});

Deno.test("a line break or control character is refused, and shown escaped", () => {
  throws(() => checkLine("x", "a\nb"), /invalid x 'a\\nb': it contains a line break/);
  throws(() => checkLine("x", "a\rb"), /line break/);
  throws(() => checkLine("x", "a\x1b[2Jb"), /control character/);
  assertEquals(checkLine("x", "a b"), "a b");
  assertEquals(printable("a\x1bb"), "a\\x1bb");
  assertEquals(printable("a\u2028b\\", 3), "a\\u…");
});

Deno.test("an engine's stderr in an error is shown escaped, line by line", () => {
  const e = new ProcessError(["podman", "load"], {
    code: 125,
    stderr: "Error: bad tag \x1b[2J\x1b[31mevil\u009b\nsecond line\n",
  });
  assertEquals(
    e.message,
    "podman failed (exit 125):\nError: bad tag \\x1b[2J\\x1b[31mevil\\u009b\nsecond line",
  );
});

Deno.test("shellQuote: one word, whatever it holds", async () => {
  for (const v of ["plain", "with space", "it's", "$(id)", "`id`", "a\\b", ""]) {
    const out = await new Deno.Command("sh", { args: ["-c", `printf %s ${shellQuote(v)}`] })
      .output();
    assertEquals(new TextDecoder().decode(out.stdout), v);
  }
  throws(() => shellQuote("a\nb"), UsageError);
});
