import assert from "node:assert/strict";
import {
  cacheDirs,
  fileUrl,
  importPacked,
  moduleFileName,
  pack,
  unpack,
  unpackedPath,
} from "../../../src/boot/packed.ts";

const enc = new TextEncoder();
const env = (vars: Record<string, string>) => (n: string) => vars[n];

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "venvoy-packed-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.chmod(dir, 0o755).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cacheDirs: XDG_CACHE_HOME, else ~/.cache, then a per-user temp folder", () => {
  const uid = Deno.uid() ?? "user";
  assert.deepEqual(cacheDirs(env({ XDG_CACHE_HOME: "/x/c", HOME: "/h" }), "linux"), [
    "/x/c/venvoy",
    `/tmp/venvoy-cache-${uid}`,
  ]);
  // A relative XDG_CACHE_HOME is invalid by the spec, and ignored.
  assert.deepEqual(cacheDirs(env({ XDG_CACHE_HOME: "c", HOME: "/h", TMPDIR: "/t" }), "linux"), [
    "/h/.cache/venvoy",
    `/t/venvoy-cache-${uid}`,
  ]);
  assert.deepEqual(cacheDirs(env({}), "linux"), [`/tmp/venvoy-cache-${uid}`]);
  assert.deepEqual(
    cacheDirs(env({ LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local", TEMP: "C:\\T" }), "windows"),
    ["C:\\Users\\a\\AppData\\Local\\venvoy\\cache", `C:\\T\\venvoy-cache-${uid}`],
  );
});

Deno.test("fileUrl escapes each path segment and keeps a Windows drive", () => {
  assert.equal(fileUrl("/home/a b/c#d.mjs"), "file:///home/a%20b/c%23d.mjs");
  assert.equal(fileUrl("C:\\Users\\a b\\x.mjs"), "file:///C:/Users/a%20b/x.mjs");
});

Deno.test("pack and unpack round-trip; a damaged pack is refused", async () => {
  const source = enc.encode("export const x = 1;\n".repeat(1000));
  const p = await pack(source);
  assert.equal(p.size, source.length);
  assert.match(p.sha, /^[0-9a-f]{64}$/);
  assert.ok(p.gz.length < source.length / 4, "compressed");
  assert.deepEqual(await unpack(p), source);
  await assert.rejects(unpack({ ...p, size: p.size + 1 }), /damaged/);
});

Deno.test("unpackedPath writes once, reuses, and replaces a file of the wrong size", async () => {
  await withTmp(async (dir) => {
    const p = await pack(enc.encode("globalThis.x = 1;\n"));
    const path = await unpackedPath(p, [`${dir}/cache`]);
    assert.equal(path, `${dir}/cache/${moduleFileName(p)}`);
    assert.equal(await Deno.readTextFile(path), "globalThis.x = 1;\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
    assert.equal((await Deno.stat(`${dir}/cache`)).mode! & 0o777, 0o700);
    assert.deepEqual([...Deno.readDirSync(`${dir}/cache`)].map((e) => e.name), [
      moduleFileName(p),
    ]);

    // Reused: a marker written into the file (same size) survives.
    await Deno.writeTextFile(path, "globalThis.y = 1;\n");
    assert.equal(await unpackedPath(p, [`${dir}/cache`]), path);
    assert.equal(await Deno.readTextFile(path), "globalThis.y = 1;\n");

    // Truncated: rewritten.
    await Deno.writeTextFile(path, "glob");
    await unpackedPath(p, [`${dir}/cache`]);
    assert.equal(await Deno.readTextFile(path), "globalThis.x = 1;\n");

    // Writable by others: not trusted, rewritten with safe permissions.
    await Deno.writeTextFile(path, "globalThis.z = 1;\n");
    await Deno.chmod(path, 0o666);
    await unpackedPath(p, [`${dir}/cache`]);
    assert.equal(await Deno.readTextFile(path), "globalThis.x = 1;\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
  });
});

Deno.test("unpackedPath falls back to the next folder, and names every failure", async () => {
  await withTmp(async (dir) => {
    const p = await pack(enc.encode("globalThis.x = 1;\n"));
    await Deno.writeTextFile(`${dir}/file`, "not a folder");
    const path = await unpackedPath(p, [`${dir}/file/cache`, `${dir}/second`]);
    assert.equal(path, `${dir}/second/${moduleFileName(p)}`);
    await assert.rejects(
      unpackedPath(p, [`${dir}/file/a`, `${dir}/file/b`]),
      (e: Error) =>
        e.message.includes(`${dir}/file/a:`) && e.message.includes(`${dir}/file/b:`) &&
        e.message.includes("XDG_CACHE_HOME"),
    );
  });
});

Deno.test("a new version keeps the two newest other versions and drops older ones", async () => {
  await withTmp(async (dir) => {
    const cache = `${dir}/cache`;
    await Deno.mkdir(cache);
    const old = [
      "rest-0000000000000001.mjs",
      "rest-0000000000000002.mjs",
      "rest-0000000000000003.mjs",
    ];
    old.forEach((n, i) => {
      Deno.writeTextFileSync(`${cache}/${n}`, "x");
      Deno.utimeSync(`${cache}/${n}`, 1000 + i, 1000 + i);
    });
    Deno.writeTextFileSync(`${cache}/notes.txt`, "not ours");
    const p = await pack(enc.encode("globalThis.x = 1;\n"));
    await unpackedPath(p, [cache]);
    assert.deepEqual(
      [...Deno.readDirSync(cache)].map((e) => e.name).sort(),
      [
        "notes.txt",
        old[1],
        old[2],
        moduleFileName(p),
      ].sort(),
    );
  });
});

Deno.test("importPacked runs the module from the cache folder (path with a space)", async () => {
  await withTmp(async (dir) => {
    const key = `__venvoy_packed_test_${crypto.randomUUID().slice(0, 8)}`;
    const p = await pack(enc.encode(`globalThis[${JSON.stringify(key)}] = import.meta.url;\n`));
    await importPacked(p, [`${dir}/a cache`]);
    const url = (globalThis as Record<string, unknown>)[key];
    assert.equal(url, fileUrl(`${dir}/a cache/${moduleFileName(p)}`));
  });
});
