import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { OutputExistsError } from "../../../src/archive/errors.ts";
import { MANIFEST_NAME } from "../../../src/archive/manifest.ts";
import { extractVerified } from "../../../src/archive/reader.ts";
import { spool, TarGzWriter } from "../../../src/archive/writer.ts";
import { DenoRunner } from "../../../src/process/mod.ts";
import { manifestFor } from "./craft.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";

const runner = new DenoRunner();
const hasTar = runner.which("tar") !== null;
if (!hasTar) console.error("skipping the `tar xzf` checks: no tar on PATH");

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
}

const LONG = "env/persist/python/lib/python3.11/site-packages/" + "a-very-long-name-".repeat(8) +
  "é.txt";

async function writeSample(dir: string) {
  const src = join(dir, "src.bin");
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 251);
  await Deno.writeFile(src, big);
  const out = join(dir, "out.tar.gz");
  const w = await TarGzWriter.create(out);
  await w.addFile("image.tar", src);
  await w.addBytes("restore.sh", "#!/bin/sh\necho hi\n", { mode: 0o755 });
  await w.addBytes(LONG, "long name\n");
  await w.addStream("stream.txt", streamOf([new TextEncoder().encode("abc")]), { size: 3 });
  await w.addBytes("env/restore.sh", "#!/bin/sh\necho hi\n", { mode: 0o755 });
  await w.addSymlink("env/persist/link", "../restore.sh");
  const members = w.members;
  const manifest = { ...manifestFor([]), members };
  await w.addBytes(MANIFEST_NAME, JSON.stringify(manifest));
  const done = await w.finish();
  return { out, big, done, members };
}

Deno.test("writer output verifies with the safe reader, checksums computed while writing", async () => {
  const dir = await tempDir("venvoy-writer-");
  try {
    const { out, big, done, members } = await writeSample(dir);
    const sha = createHash("sha256").update(big).digest("hex");
    assertEquals(members["image.tar"], {
      type: "file",
      size: big.length,
      sha256: sha,
      mode: 0o644,
    });
    assertEquals(done.path, out);
    assertEquals(done.size, (await Deno.stat(out)).size);
    assertEquals(
      done.sha256,
      createHash("sha256").update(await Deno.readFile(out)).digest("hex"),
    );
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names, ["out.tar.gz", "src.bin"], "no temporary file is left behind");

    const got = await extractVerified(out, { tmpDir: dir });
    assertEquals(await Deno.readFile(join(got.dir, "image.tar")), big);
    assertEquals(await Deno.readTextFile(join(got.dir, LONG)), "long name\n");
    assertEquals(
      await Deno.readTextFile(join(got.dir, "env/persist/link")),
      "#!/bin/sh\necho hi\n",
    );
    assertEquals(got.checksums["image.tar"], sha);
    await got.cleanup();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "writer output is a standard .tar.gz that `tar xzf` extracts (long names, modes, links)",
  ignore: !hasTar,
  fn: async () => {
    const dir = await tempDir("venvoy-writer-");
    try {
      const { out, big } = await writeSample(dir);
      const x = join(dir, "x");
      await Deno.mkdir(x);
      const res = await runner.run({ cmd: ["tar", "-xzf", out, "-C", x] });
      assertEquals(res.code, 0, res.stderr);
      assertEquals(await Deno.readFile(join(x, "image.tar")), big);
      assertEquals(await Deno.readTextFile(join(x, LONG)), "long name\n");
      assert(((await Deno.stat(join(x, "restore.sh"))).mode! & 0o100) !== 0, "restore.sh is +x");
      assertEquals(await Deno.readLink(join(x, "env/persist/link")), "../restore.sh");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("writer refuses to overwrite without force, replaces with force", async () => {
  const dir = await tempDir("venvoy-writer-");
  try {
    const out = join(dir, "x.tar.gz");
    await Deno.writeTextFile(out, "precious");
    await assert.rejects(TarGzWriter.create(out), (e: unknown) => {
      assert(e instanceof OutputExistsError);
      assert.match(e.message, /already exists/);
      assert.match(e.hint!, /--force/);
      return true;
    });
    assertEquals(await Deno.readTextFile(out), "precious");
    const w = await TarGzWriter.create(out, { force: true });
    await w.addBytes("a", "b");
    await w.finish();
    assert((await Deno.readFile(out))[0] === 0x1f, "replaced by a gzip file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an aborted export leaves no file behind", async () => {
  const dir = await tempDir("venvoy-writer-");
  try {
    const out = join(dir, "x.tar.gz");
    const w = await TarGzWriter.create(out);
    await w.addBytes("a", "b".repeat(100_000));
    await w.abort();
    assertEquals([...Deno.readDirSync(dir)].length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stream shorter or longer than announced is an error", async () => {
  const dir = await tempDir("venvoy-writer-");
  try {
    const w = await TarGzWriter.create(join(dir, "x.tar.gz"));
    const bytes = new TextEncoder().encode("abcdef");
    await assert.rejects(
      w.addStream("s", streamOf([bytes]), { size: 4 }),
      /changed while it was being archived \(expected 4 bytes, got more\)/,
    );
    await w.abort();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool copies a stream of unknown length and hashes it", async () => {
  const dir = await tempDir("venvoy-writer-");
  try {
    const parts = [new Uint8Array(70_000).fill(1), new Uint8Array(5).fill(2)];
    const seen: number[] = [];
    const got = await spool(streamOf(parts), join(dir, "s"), (n) => seen.push(n));
    assertEquals(got.size, 70_005);
    const all = new Uint8Array(70_005);
    all.set(parts[0]);
    all.set(parts[1], 70_000);
    assertEquals(got.sha256, createHash("sha256").update(all).digest("hex"));
    assertEquals(seen.at(-1), 70_005);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TarGzWriter refuses a member name with a newline (exit 2) and abort leaves nothing", async () => {
  const dir = await tempDir("venvoy-writer-");
  try {
    const w = await TarGzWriter.create(join(dir, "out.tar.gz"));
    await w.addBytes("ok.txt", "fine\n");
    for (const bad of ["env/a\nb.txt", "env/a\rb", "env/\u001b[31mred"]) {
      await assert.rejects(
        w.addBytes(bad, "x"),
        (e) => e instanceof UsageError && e.exitCode === 2 && /line break/.test(e.message),
      );
    }
    assertEquals(Object.keys(w.members), ["ok.txt"]);
    await w.abort();
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TarGzWriter: a file that cannot be opened is an error, and abort() returns", async () => {
  const root = await tempDir("venvoy-writer-");
  // The folder does not exist: the file stream fails (in the background) and closes.
  const w = await TarGzWriter.create(join(root, "missing", "out.tar.gz"));
  await new Promise((r) => setTimeout(r, 50)); // let the background open fail
  await assert.rejects(
    w.addBytes("README.md", "x"),
    (e: Error) => /cannot write .*out\.tar\.gz: .*(ENOENT|no such file)/.test(e.message),
  );
  // Before, this waited for a 'close' the stream had emitted already: pending for ever.
  await w.abort();
  assertEquals([...Deno.readDirSync(root)], []);
});
