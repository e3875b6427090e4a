import assert from "node:assert/strict";
import {
  cacheDirs,
  CacheError,
  fileUrl,
  folderName,
  importPacked,
  keepFresh,
  pack,
  prune,
  unpack,
  unpackedFolder,
  unsafeReason,
} from "../../../src/boot/packed.ts";
import { sha256Hex } from "../../../src/util/hash.ts";
import { rewriteChunk } from "../../../scripts/chunks.ts";
import { tempDir } from "../../fakes/tmp.ts";

const env = (vars: Record<string, string>) => (n: string) => vars[n];

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.realPath(await tempDir("venvoy-packed-"));
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

Deno.test("cacheDirs: XDG_CACHE_HOME, else ~/.cache; never a shared temp folder", () => {
  assert.deepEqual(cacheDirs(env({ XDG_CACHE_HOME: "/x/c", HOME: "/h", TMPDIR: "/t" }), "linux"), [
    "/x/c/venvoy",
  ]);
  // A relative XDG_CACHE_HOME is invalid by the spec, and ignored.
  assert.deepEqual(cacheDirs(env({ XDG_CACHE_HOME: "c", HOME: "/h", TMPDIR: "/t" }), "linux"), [
    "/h/.cache/venvoy",
  ]);
  assert.deepEqual(cacheDirs(env({ TMPDIR: "/t" }), "linux"), []);
  assert.deepEqual(
    cacheDirs(env({ LOCALAPPDATA: "C:\\Users\\a\\AppData\\Local", TEMP: "C:\\T" }), "windows"),
    ["C:\\Users\\a\\AppData\\Local\\venvoy\\cache"],
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
  // Each module's hash and static imports, for the check before it is loaded.
  assert.deepEqual(p.index["main.js"], [await sha256Hex(FILES["main.js"]), "chunk-A1.js"]);
  assert.deepEqual(p.index["chunk-A1.js"], [await sha256Hex(FILES["chunk-A1.js"])]);
  // The same files in another order pack to the same bytes (reproducible builds).
  const reversed = Object.fromEntries(Object.entries(big).reverse());
  assert.deepEqual(await pack("main.js", reversed), p);
  await assert.rejects(unpack({ ...p, size: p.size + 1 }), /damaged/);
  await assert.rejects(unpack({ ...p, sha: "0".repeat(64) }), /damaged/);
  await assert.rejects(pack("nope.js", FILES), /entry nope.js is not among the files/);
  await assert.rejects(pack("main.js", { ...FILES, "../up.js": "" }), /unexpected file name/);
  await assert.rejects(
    pack("main.js", { "main.js": 'import"./gone.js";' }),
    /main.js imports gone.js, which is not packed/,
  );
});

Deno.test("unpackedFolder writes the folder once, reuses it, and rewrites an incomplete one", async () => {
  await withTmp(async (dir) => {
    const p = await pack("main.js", FILES);
    const cache = `${dir}/cache/venvoy`;
    const folder = `${cache}/${folderName(p)}`;
    assert.equal(await unpackedFolder(p, [cache]), folder);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), FILES["chunk-A1.js"]);
    assert.equal((await Deno.stat(`${folder}/main.js`)).mode! & 0o777, 0o644);
    assert.equal((await Deno.stat(cache)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${dir}/cache`)).mode! & 0o777, 0o700);
    assert.deepEqual([...Deno.readDirSync(cache)].map((e) => e.name), [folderName(p)]);

    // Reused as it is (the check of each module comes when it is loaded).
    await Deno.writeTextFile(`${folder}/chunk-A1.js`, "export const x = 2;\n");
    assert.equal(await unpackedFolder(p, [cache]), folder);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), "export const x = 2;\n");

    // No completion mark (a crash mid-write, or another version's folder): rewritten.
    await Deno.remove(`${folder}/.complete`);
    await unpackedFolder(p, [cache]);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), FILES["chunk-A1.js"]);

    // Writable by others: not trusted, rewritten with safe permissions.
    await Deno.chmod(folder, 0o777);
    await Deno.writeTextFile(`${folder}/chunk-A1.js`, "export const x = 3;\n");
    await unpackedFolder(p, [cache]);
    assert.equal(await Deno.readTextFile(`${folder}/chunk-A1.js`), FILES["chunk-A1.js"]);
    assert.equal((await Deno.stat(folder)).mode! & 0o777, 0o755);
  });
});

Deno.test("no cache folder, or one that is a file: a clear error naming XDG_CACHE_HOME", async () => {
  await withTmp(async (dir) => {
    const p = await pack("main.js", FILES);
    await Deno.writeTextFile(`${dir}/file`, "not a folder");
    await assert.rejects(
      unpackedFolder(p, [`${dir}/file/venvoy`]),
      (e: Error) =>
        e instanceof CacheError && e.message.includes(`${dir}/file`) &&
        e.message.includes("XDG_CACHE_HOME"),
    );
    await assert.rejects(unpackedFolder(p, []), /HOME is not set[^]*hint: set XDG_CACHE_HOME/);
  });
});

const DAY = 24 * 60 * 60 * 1000;
const ago = (ms: number) => new Date(Date.now() - ms);
const setUse = (folder: string, when: Date) => Deno.utimeSync(`${folder}/.complete`, when, when);
const useOf = (folder: string) => Deno.lstatSync(`${folder}/.complete`).mtime!.getTime();

Deno.test("a new version drops only other versions unused for more than 7 days", async () => {
  await withTmp(async (dir) => {
    const cache = `${dir}/cache`;
    await Deno.mkdir(cache, { mode: 0o700 });
    const mk = (name: string, used: Date, marker = true) => {
      Deno.mkdirSync(`${cache}/${name}`);
      if (marker) {
        Deno.writeTextFileSync(`${cache}/${name}/.complete`, "x\n");
        setUse(`${cache}/${name}`, used);
      } else Deno.utimeSync(`${cache}/${name}`, used, used);
    };
    mk("rest-0000000000000001", ago(30 * DAY)); // unused for a month: goes
    mk("rest-0000000000000002", ago(6 * DAY)); // used 6 days ago: stays
    mk("rest-0000000000000003", ago(8 * DAY)); // goes
    mk("rest-0000000000000004.123.tmp", ago(9 * DAY), false); // a crashed unpack: goes
    mk("rest-0000000000000005.77.tmp", ago(60_000), false); // an unpack now: stays
    Deno.writeTextFileSync(`${cache}/rest-0000000000000006.mjs`, "x"); // old single file
    Deno.utimeSync(`${cache}/rest-0000000000000006.mjs`, ago(10 * DAY), ago(10 * DAY));
    Deno.writeTextFileSync(`${cache}/notes.txt`, "not ours");
    Deno.utimeSync(`${cache}/notes.txt`, ago(99 * DAY), ago(99 * DAY));
    const p = await pack("main.js", FILES);
    await unpackedFolder(p, [cache]);
    assert.deepEqual(
      [...Deno.readDirSync(cache)].map((e) => e.name).sort(),
      [
        "notes.txt",
        "rest-0000000000000002",
        "rest-0000000000000005.77.tmp",
        folderName(p),
      ].sort(),
    );
  });
});

/** A pack whose modules record that they ran, and a chunk loaded by a dynamic import. */
async function markerPack(dir: string) {
  const key = `__venvoy_packed_${crypto.randomUUID().slice(0, 8)}`;
  const p = await pack("main.js", {
    "main.js": `import { x } from "./chunk-A1.js";\nglobalThis[${
      JSON.stringify(key)
    }] = [x, import.meta.url];\n`,
    "chunk-A1.js": "export const x = 42;\n",
    "late-B1.js": "export const late = 7;\n",
  });
  const evil = `${dir}/evil.js`;
  const marker = `${dir}/PWNED`;
  // What an attacker plants: running it leaves the marker file.
  const evilJs = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "x");\nexport const x = 42;\n`;
  return { p, key, evil, evilJs, marker };
}

const result = (key: string) => (globalThis as Record<string, unknown>)[key];
const absent = (path: string) => {
  try {
    Deno.lstatSync(path);
    return false;
  } catch {
    return true;
  }
};
const root = Deno.uid() === 0;
const NOBODY = 65534;
if (!root) {
  console.error(
    "SKIP the other-user attacks on the code cache: they need root (to chown to 65534)",
  );
}

Deno.test("importPacked runs the entry and its chunks from the cache (path with a space)", async () => {
  await withTmp(async (dir) => {
    const { p, key } = await markerPack(dir);
    await importPacked(p, [`${dir}/a cache/venvoy`]);
    assert.deepEqual(result(key), [
      42,
      fileUrl(`${dir}/a cache/venvoy/${folderName(p)}/main.js`),
    ]);
    // Dynamic imports go through the same check.
    const late = await globalThis.__venvoyImport!("./late-B1.js") as { late: number };
    assert.equal(late.late, 7);
  });
});

Deno.test("attack: a changed, linked or foreign module in the cache is never run", async (t) => {
  for (
    const [what, plant] of [
      [
        "changed content",
        (f: string, m: Awaited<ReturnType<typeof markerPack>>) =>
          Deno.writeTextFileSync(f, m.evilJs),
      ],
      ["a symlink to another file", (f: string, m: Awaited<ReturnType<typeof markerPack>>) => {
        Deno.writeTextFileSync(m.evil, m.evilJs);
        Deno.removeSync(f);
        Deno.symlinkSync(m.evil, f);
      }],
      ["a file of another user", (f: string, m: Awaited<ReturnType<typeof markerPack>>) => {
        Deno.writeTextFileSync(f, m.evilJs);
        if (root) Deno.chownSync(f, NOBODY, NOBODY);
        else Deno.chmodSync(f, 0o666);
      }],
    ] as const
  ) {
    await t.step(what, async () => {
      await withTmp(async (dir) => {
        const m = await markerPack(dir);
        const cache = `${dir}/c/venvoy`;
        const folder = await unpackedFolder(m.p, [cache]);
        plant(`${folder}/chunk-A1.js`, m);
        // The check fails, the folder (ours) is written afresh, and the real module runs.
        await importPacked(m.p, [cache]);
        assert.equal((result(m.key) as unknown[])[0], 42);
        assert.ok(absent(m.marker), "the planted module ran");
        assert.equal(Deno.readTextFileSync(`${folder}/chunk-A1.js`), "export const x = 42;\n");

        // Planted after the start, in a module loaded later: refused, not run.
        plant(`${folder}/late-B1.js`, m);
        await assert.rejects(globalThis.__venvoyImport!("./late-B1.js"), CacheError);
        assert.ok(absent(m.marker), "the planted late module ran");
      });
    });
  }
});

Deno.test("attack: the unpacked folder swapped for a link to someone else's copy", async () => {
  await withTmp(async (dir) => {
    const m = await markerPack(dir);
    const cache = `${dir}/c/venvoy`;
    const folder = await unpackedFolder(m.p, [cache]);
    // The attacker's complete-looking copy, with the right .complete mark.
    const theirs = `${dir}/theirs`;
    Deno.mkdirSync(theirs);
    for (const name of ["main.js", "chunk-A1.js", "late-B1.js", ".complete"]) {
      Deno.copyFileSync(`${folder}/${name}`, `${theirs}/${name}`);
    }
    Deno.writeTextFileSync(`${theirs}/main.js`, m.evilJs);
    Deno.removeSync(folder, { recursive: true });
    Deno.symlinkSync(theirs, folder);
    await importPacked(m.p, [cache]);
    assert.ok(absent(m.marker), "the planted folder ran");
    assert.ok(!Deno.lstatSync(folder).isSymlink, "the link was replaced by our own folder");
    assert.equal(Deno.readTextFileSync(`${theirs}/main.js`), m.evilJs, "theirs untouched");
  });
});

Deno.test({
  name: "attack: a cache folder that another user owns or can write is refused",
  ignore: !root,
  fn: async (t) => {
    const cases: [string, (base: string) => string][] = [
      ["venvoy/ pre-created by another user", (base) => {
        Deno.mkdirSync(`${base}/venvoy`, { mode: 0o755 });
        Deno.chownSync(`${base}/venvoy`, NOBODY, NOBODY);
        return "owned by uid 65534";
      }],
      ["XDG_CACHE_HOME owned by another user", (base) => {
        Deno.chownSync(base, NOBODY, NOBODY);
        return "owned by uid 65534";
      }],
      ["XDG_CACHE_HOME world-writable, not sticky", (base) => {
        Deno.chmodSync(base, 0o777);
        return "writable by others";
      }],
      ["XDG_CACHE_HOME group-writable", (base) => {
        Deno.chmodSync(base, 0o775);
        return "writable by its group";
      }],
      ["venvoy/ a link to another user's folder", (base) => {
        Deno.mkdirSync(`${base}/../other`, { mode: 0o755 });
        Deno.chownSync(`${base}/../other`, NOBODY, NOBODY);
        Deno.symlinkSync(`${base}/../other`, `${base}/venvoy`);
        return "is a symbolic link";
      }],
    ];
    for (const [what, plant] of cases) {
      await t.step(what, async () => {
        await withTmp(async (dir) => {
          const m = await markerPack(dir);
          const base = `${dir}/xdg`;
          Deno.mkdirSync(base, { mode: 0o700 });
          const why = plant(base);
          // Whatever the attacker prepared inside, with the right name and mark, never runs.
          try {
            const folder = `${base}/venvoy/${folderName(m.p)}`;
            Deno.mkdirSync(folder, { recursive: true });
            for (const [n, text] of Object.entries({ "main.js": m.evilJs, "chunk-A1.js": "" })) {
              Deno.writeTextFileSync(`${folder}/${n}`, text);
            }
            Deno.writeTextFileSync(`${folder}/.complete`, `${m.p.sha}\nmain.js\n`);
          } catch { /* not writable: nothing planted */ }
          await assert.rejects(
            importPacked(m.p, [`${base}/venvoy`]),
            (e: Error) =>
              e instanceof CacheError && e.message.includes(why) &&
              e.message.includes("hint: set XDG_CACHE_HOME"),
          );
          assert.ok(absent(m.marker), "the planted module ran");
        });
      });
    }
  },
});

Deno.test("a root-owned sticky folder (like /tmp) above our own folder is fine", async () => {
  // Deno.makeTempDir is under /tmp: root's, mode 1777.
  await withTmp((dir) => {
    const st = Deno.statSync("/tmp");
    if (st.uid !== 0 || (st.mode! & 0o1777) !== 0o1777) {
      console.log("skipped: /tmp is not root-owned 1777 here");
      return Promise.resolve();
    }
    assert.equal(unsafeReason(dir), null);
    // But our own part may not be like that.
    Deno.mkdirSync(`${dir}/own`, { mode: 0o777 });
    Deno.chmodSync(`${dir}/own`, 0o1777);
    assert.match(unsafeReason(`${dir}/own`, `${dir}/own`)!, /writable by others/);
    return Promise.resolve();
  });
});

Deno.test("a cache reached through a link (a home on /gpfs) is used at its real path", async () => {
  await withTmp(async (dir) => {
    const m = await markerPack(dir);
    Deno.mkdirSync(`${dir}/gpfs/home/u`, { recursive: true });
    Deno.symlinkSync(`${dir}/gpfs/home/u`, `${dir}/u`);
    const [cache] = cacheDirs(env({ HOME: `${dir}/u` }), "linux");
    await importPacked(m.p, [cache]);
    assert.equal(
      (result(m.key) as unknown[])[1],
      fileUrl(`${dir}/gpfs/home/u/.cache/venvoy/${folderName(m.p)}/main.js`),
    );
  });
});

Deno.test("rewriteChunk: lazy createRequire, checked run-time chunk imports, and a loud failure", () => {
  const banner =
    'var g=1;import{createRequire as __deno_internal_createRequire} from "node:module";' +
    'var m=__deno_internal_createRequire(import.meta.url);var n=()=>m("node:fs");';
  const out = rewriteChunk("c.js", banner);
  assert.ok(!out.includes('from "node:module"'), out);
  assert.ok(out.includes('var m=(id)=>(m__r??=globalThis.process.getBuiltinModule("node:module")'));
  assert.ok(out.endsWith('var n=()=>m("node:fs");'));

  assert.equal(
    rewriteChunk("m.js", 'let{a}=await import("./cli-X1.js");import("./chunk-2.js")'),
    'let{a}=await globalThis.__venvoyImport("./cli-X1.js");' +
      'globalThis.__venvoyImport("./chunk-2.js")',
  );
  assert.equal(rewriteChunk("n.js", 'import("node:fs")'), 'import("node:fs")');
  assert.throws(
    () => rewriteChunk("d.js", "import * as __deno_internal_createRequire from 'x';"),
    /d.js: Deno's createRequire banner changed/,
  );
});

Deno.test("race: upgrading while an old venvoy runs never removes the modules it still needs", async () => {
  await withTmp(async (dir) => {
    const cache = `${dir}/cache`;
    const m = await markerPack(dir);
    // Version A was unpacked a month ago and not used since.
    const a = await unpackedFolder(m.p, [cache]);
    setUse(a, ago(30 * DAY));
    Deno.utimeSync(a, ago(30 * DAY), ago(30 * DAY));
    // Now a session of A starts (`venvoy run`, still open) ...
    await importPacked(m.p, [cache]);
    assert.deepEqual(result(m.key), [42, fileUrl(`${a}/main.js`)]);
    assert.ok(Date.now() - useOf(a) < 60_000, "starting marks the folder as in use");
    // ... while the user installs three newer versions (each unpacks and prunes).
    for (const v of [1, 2, 3]) {
      await unpackedFolder(
        await pack("main.js", { ...FILES, "chunk-A1.js": `export const x = ${v};\n` }),
        [
          cache,
        ],
      );
    }
    // The open session's next lazy import still finds its module.
    const late = await globalThis.__venvoyImport!("./late-B1.js") as { late: number };
    assert.equal(late.late, 7);
    // Once unused for more than 7 days, the next unpack of another version removes it.
    setUse(a, ago(8 * DAY));
    prune(cache, "rest-ffffffffffffffff");
    assert.ok(absent(a));
  });
});

Deno.test("keepFresh marks the folder as in use while the process runs", async () => {
  await withTmp(async (dir) => {
    Deno.writeTextFileSync(`${dir}/.complete`, "x\n");
    setUse(dir, ago(30 * DAY));
    const stop = keepFresh(dir, 10);
    try {
      await new Promise((r) => setTimeout(r, 80));
      assert.ok(Date.now() - useOf(dir) < 60_000);
    } finally {
      stop();
    }
  });
});
