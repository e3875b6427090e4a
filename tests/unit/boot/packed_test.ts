import assert from "node:assert/strict";
import {
  cacheDirs,
  fileUrl,
  folderName,
  importPacked,
  pack,
  unpack,
  unpackedEntry,
} from "../../../src/boot/packed.ts";
import { rewriteChunk } from "../../../scripts/chunks.ts";

const env = (vars: Record<string, string>) => (n: string) => vars[n];

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "venvoy-packed-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const FILES = {
  "main.js": 'import { x } from "./chunk-A1.js";\nglobalThis.__packedMain = x;\n',
  "chunk-A1.js": "export const x = 1;\n",
};

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

Deno.test("pack and unpack round-trip; damaged or odd packs are refused", async () => {
  const big = { ...FILES, "chunk-B2.js": "export const y = 2;\n".repeat(2000) };
  const p = await pack("main.js", big);
  assert.match(p.sha, /^[0-9a-f]{64}$/);
  assert.ok(p.gz.length < p.size / 4, "compressed");
  assert.deepEqual(await unpack(p), { entry: "main.js", files: big });
  // The same files in another order pack to the same bytes (reproducible builds).
  const reversed = Object.fromEntries(Object.entries(big).reverse());
  assert.deepEqual(await pack("main.js", reversed), p);
  await assert.rejects(unpack({ ...p, size: p.size + 1 }), /damaged/);
  await assert.rejects(pack("nope.js", FILES), /entry nope.js is not among the files/);
  await assert.rejects(pack("main.js", { ...FILES, "../up.js": "" }), /unexpected file name/);
});

Deno.test("unpackedEntry writes the folder once, reuses it, and rewrites an incomplete one", async () => {
  await withTmp(async (dir) => {
    const p = await pack("main.js", FILES);
    const cache = `${dir}/cache`;
    const folder = `${cache}/${folderName(p)}`;
    const entry = await unpackedEntry(p, [cache]);
    assert.equal(entry, `${folder}/main.js`);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), FILES["chunk-A1.js"]);
    assert.equal((await Deno.stat(`${folder}/main.js`)).mode! & 0o777, 0o644);
    assert.equal((await Deno.stat(cache)).mode! & 0o777, 0o700);
    assert.deepEqual([...Deno.readDirSync(cache)].map((e) => e.name), [folderName(p)]);

    // Reused as it is: a marker written into a chunk survives.
    await Deno.writeTextFile(`${folder}/chunk-A1.js`, "export const x = 2;\n");
    assert.equal(await unpackedEntry(p, [cache]), entry);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), "export const x = 2;\n");

    // No completion mark (a crash mid-write, or another version's folder): rewritten.
    await Deno.remove(`${folder}/.complete`);
    await unpackedEntry(p, [cache]);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), FILES["chunk-A1.js"]);

    // Writable by others: not trusted, rewritten with safe permissions.
    await Deno.chmod(folder, 0o777);
    await Deno.writeTextFile(`${folder}/chunk-A1.js`, "export const x = 3;\n");
    await unpackedEntry(p, [cache]);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), FILES["chunk-A1.js"]);
    assert.equal((await Deno.stat(folder)).mode! & 0o777, 0o755);
  });
});

Deno.test("unpackedEntry falls back to the next folder, and names every failure", async () => {
  await withTmp(async (dir) => {
    const p = await pack("main.js", FILES);
    await Deno.writeTextFile(`${dir}/file`, "not a folder");
    const entry = await unpackedEntry(p, [`${dir}/file/cache`, `${dir}/second`]);
    assert.equal(entry, `${dir}/second/${folderName(p)}/main.js`);
    await assert.rejects(
      unpackedEntry(p, [`${dir}/file/a`, `${dir}/file/b`]),
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
    const old = ["rest-0000000000000001", "rest-0000000000000002.mjs", "rest-0000000000000003"];
    old.forEach((n, i) => {
      if (n.endsWith(".mjs")) Deno.writeTextFileSync(`${cache}/${n}`, "x");
      else Deno.mkdirSync(`${cache}/${n}`);
      Deno.utimeSync(`${cache}/${n}`, 1000 + i, 1000 + i);
    });
    Deno.writeTextFileSync(`${cache}/notes.txt`, "not ours");
    const p = await pack("main.js", FILES);
    await unpackedEntry(p, [cache]);
    assert.deepEqual(
      [...Deno.readDirSync(cache)].map((e) => e.name).sort(),
      [
        "notes.txt",
        old[1],
        old[2],
        folderName(p),
      ].sort(),
    );
  });
});

Deno.test("importPacked runs the entry and its chunks from the cache (path with a space)", async () => {
  await withTmp(async (dir) => {
    const key = `__venvoy_packed_${crypto.randomUUID().slice(0, 8)}`;
    const p = await pack("main.js", {
      "main.js": `import { x } from "./chunk-A1.js";\nglobalThis[${
        JSON.stringify(key)
      }] = [x, import.meta.url];\n`,
      "chunk-A1.js": "export const x = 42;\n",
    });
    await importPacked(p, [`${dir}/a cache`]);
    assert.deepEqual((globalThis as Record<string, unknown>)[key], [
      42,
      fileUrl(`${dir}/a cache/${folderName(p)}/main.js`),
    ]);
  });
});

Deno.test("rewriteChunk: lazy createRequire, run-time chunk URLs, and a loud failure", () => {
  const banner =
    'var g=1;import{createRequire as __deno_internal_createRequire} from "node:module";' +
    'var m=__deno_internal_createRequire(import.meta.url);var n=()=>m("node:fs");';
  const out = rewriteChunk("c.js", banner);
  assert.ok(!out.includes('from "node:module"'), out);
  assert.ok(out.includes('var m=(id)=>(m__r??=globalThis.process.getBuiltinModule("node:module")'));
  assert.ok(out.endsWith('var n=()=>m("node:fs");'));

  assert.equal(
    rewriteChunk("m.js", 'let{a}=await import("./cli-X1.js");import("./chunk-2.js")'),
    'let{a}=await import(new URL("./cli-X1.js",import.meta.url).href);' +
      'import(new URL("./chunk-2.js",import.meta.url).href)',
  );
  assert.equal(rewriteChunk("n.js", 'import("node:fs")'), 'import("node:fs")');
  assert.throws(
    () => rewriteChunk("d.js", "import * as __deno_internal_createRequire from 'x';"),
    /d.js: Deno's createRequire banner changed/,
  );
});
