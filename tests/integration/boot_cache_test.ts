/**
 * The single file's code cache (issue 11, item 1), attacked through the real dist/venvoy:
 * code planted in the cache by another user, or through a link, never runs. The planted
 * module writes a marker file; the tests assert it is absent.
 */
import assert from "node:assert/strict";
import { venvoy, venvoyBin } from "./cli.ts";

const root = Deno.uid() === 0;
const NOBODY = 65534;
if (!root) {
  console.error(
    "SKIP the other-user attacks on the code cache: they need root (to chown to 65534)",
  );
}

/** The build's folder name (rest-<16 hex>) and its modules, read from dist/venvoy itself. */
async function build() {
  const text = await Deno.readTextFile(await venvoyBin());
  const line = text.split("\n").find((l) => l.startsWith("const __VENVOY_PACKED__ = "))!;
  const packed = JSON.parse(line.slice(line.indexOf("{"), line.lastIndexOf("}") + 1));
  return {
    sha: packed.sha as string,
    folder: `rest-${(packed.sha as string).slice(0, 16)}`,
    modules: Object.keys(JSON.parse(packed.index)),
  };
}

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "venvoy-boot-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const absent = (path: string) => {
  try {
    Deno.lstatSync(path);
    return false;
  } catch {
    return true;
  }
};

/** A complete-looking folder for this build whose every module leaves `marker` when run. */
function plant(folder: string, b: Awaited<ReturnType<typeof build>>, marker: string) {
  Deno.mkdirSync(folder, { recursive: true });
  const evil = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");\n`;
  for (const m of b.modules) Deno.writeTextFileSync(`${folder}/${m}`, evil);
  Deno.writeTextFileSync(`${folder}/.complete`, `${b.sha}\nmain.js\n`);
}

Deno.test("dist/venvoy unpacks into XDG_CACHE_HOME/venvoy, private, and runs from there", async () => {
  await withTmp(async (dir) => {
    const b = await build();
    const r = await venvoy(["--version"], { env: { XDG_CACHE_HOME: `${dir}/xdg` } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(Deno.statSync(`${dir}/xdg/venvoy`).mode! & 0o777, 0o700);
    assert.ok(Deno.statSync(`${dir}/xdg/venvoy/${b.folder}/main.js`).isFile);
  });
});

Deno.test({
  name: "attack via dist/venvoy: a cache folder pre-created by another user is refused",
  ignore: !root,
  fn: async () => {
    await withTmp(async (dir) => {
      const b = await build();
      const marker = `${dir}/PWNED`;
      const xdg = `${dir}/xdg`;
      Deno.mkdirSync(xdg, { mode: 0o700 });
      plant(`${xdg}/venvoy/${b.folder}`, b, marker);
      for (const p of [`${xdg}/venvoy`, `${xdg}/venvoy/${b.folder}`]) {
        Deno.chownSync(p, NOBODY, NOBODY);
        Deno.chmodSync(p, 0o777);
      }
      const r = await venvoy(["--version"], { env: { XDG_CACHE_HOME: xdg } });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /venvoy: error: will not load venvoy's code from .*owned by uid 65534/,
      );
      assert.match(r.stderr, /hint: set XDG_CACHE_HOME/);
      assert.ok(absent(marker), "the planted code ran");
    });
  },
});

Deno.test("attack via dist/venvoy: planted modules and links in our own cache never run", async () => {
  await withTmp(async (dir) => {
    const b = await build();
    const marker = `${dir}/PWNED`;
    const xdg = `${dir}/xdg`;
    const folder = `${xdg}/venvoy/${b.folder}`;
    // The right name and mark, but the wrong code: every module is checked by its hash.
    plant(folder, b, marker);
    let r = await venvoy(["--version"], { env: { XDG_CACHE_HOME: xdg } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "0.1.0");
    assert.ok(absent(marker), "planted modules ran");
    // Now the real folder: each module swapped for a link to the planted copy.
    plant(`${dir}/theirs`, b, marker);
    for (const m of b.modules) {
      Deno.removeSync(`${folder}/${m}`);
      Deno.symlinkSync(`${dir}/theirs/${m}`, `${folder}/${m}`);
    }
    r = await venvoy(["list"], { env: { XDG_CACHE_HOME: xdg, VENVOY_HOME: `${dir}/vh` } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(absent(marker), "linked modules ran");
    // And the whole folder swapped for a link.
    Deno.removeSync(folder, { recursive: true });
    Deno.symlinkSync(`${dir}/theirs`, folder);
    r = await venvoy(["--version"], { env: { XDG_CACHE_HOME: xdg } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(absent(marker), "a linked folder ran");
    assert.ok(!Deno.lstatSync(folder).isSymlink);
  });
});

Deno.test("dist/venvoy: a home reached through a link works; no home at all is a clear error", async () => {
  await withTmp(async (dir) => {
    const b = await build();
    Deno.mkdirSync(`${dir}/gpfs/home/u`, { recursive: true });
    Deno.symlinkSync(`${dir}/gpfs/home/u`, `${dir}/u`);
    let r = await venvoy(["--version"], {
      env: { HOME: `${dir}/u`, PATH: Deno.env.get("PATH") ?? "" },
      clearEnv: true,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Deno.statSync(`${dir}/gpfs/home/u/.cache/venvoy/${b.folder}/main.js`).isFile);
    // No HOME, no XDG_CACHE_HOME: no shared temp folder any more, but a hint.
    r = await venvoy(["--version"], {
      env: { PATH: Deno.env.get("PATH") ?? "", TMPDIR: dir },
      clearEnv: true,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no cache folder[^]*hint: set XDG_CACHE_HOME/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["gpfs", "u"]);
  });
});

Deno.test("attack via dist/venvoy: a module changed after start-up is refused with one clear error", async () => {
  await withTmp(async (dir) => {
    const b = await build();
    const xdg = `${dir}/xdg`;
    const env = { XDG_CACHE_HOME: xdg, VENVOY_HOME: `${dir}/vh` };
    assert.equal((await venvoy(["--version"], { env })).code, 0); // unpacked, verified
    // The module `run` imports lazily, after the entry was checked, now holds other code.
    const marker = `${dir}/PWNED`;
    const runMain = b.modules.find((m) => m.startsWith("run_main-"))!;
    Deno.writeTextFileSync(
      `${xdg}/venvoy/${b.folder}/${runMain}`,
      `Deno.writeTextFileSync(${
        JSON.stringify(marker)
      }, "ran");\nexport const runFast = () => 0;\n`,
    );
    const r = await venvoy(["run", "--name", "x", "--command", "true"], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(absent(marker), "the changed module ran");
    assert.match(r.stderr, /^venvoy: error: will not load venvoy's code: .* is not the module/);
    assert.match(r.stderr, /\nhint: remove .* and run venvoy again\n$/);
    assert.equal(r.stderr.split("venvoy: error:").length, 2, r.stderr);
    assert.ok(!r.stderr.includes("unexpected"), r.stderr);
  });
});
