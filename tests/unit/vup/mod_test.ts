import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { currentDir, parseArgs, runVupCore } from "../../../src/vup/mod.ts";
import { HELP } from "../../../src/vup/core.ts";
import { ctx, fakeVenv, mkdirp, tempHome } from "./helpers.ts";

const noMake = () => Promise.reject(new Error("must not create"));

Deno.test("parseArgs: options anywhere, --opt=value, -- ends options", () => {
  const names = {
    "--start-dir": { key: "startDir", value: true },
    "--no-traverse": { key: "noTraverse", value: false },
  };
  const p = parseArgs(["--no-traverse", "main", "--start-dir=~/x"], names);
  assert(typeof p !== "string");
  assertEquals(p.positional, ["main"]);
  assertEquals(p.flags.get("startDir"), "~/x");
  assertEquals(p.flags.get("noTraverse"), true);
  const q = parseArgs(["--", "--start-dir"], names);
  assert(typeof q !== "string");
  assertEquals(q.positional, ["--start-dir"]);
  assertEquals(parseArgs(["--bogus"], names), "unknown option '--bogus'");
  assertEquals(parseArgs(["--start-dir"], names), "option '--start-dir' needs a directory");
  assertEquals(parseArgs(["--no-traverse=1"], names), "option '--no-traverse' takes no value");
});

Deno.test("runVupCore: the find contract and `-d` (= --start-dir + --no-traverse)", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  fakeVenv(`${h}/proj/bar/.venv/main`);
  mkdirp(`${h}/proj/foo`);
  const c = ctx(h, `${h}/proj/foo`);
  assertEquals((await runVupCore(c, ["find", "main"], { makeVenv: noMake })).out, [
    `${h}/.venv/main`,
  ]);
  assertEquals(
    (await runVupCore(c, ["find", "main", "--start-dir", "../bar", "--no-traverse"], {
      makeVenv: noMake,
    })).out,
    [`${h}/proj/bar/.venv/main`],
  );
  assertEquals(
    (await runVupCore(c, ["find", "-d", "~/proj/bar", "main", "--with-prompt"], {
      makeVenv: noMake,
    })).out,
    [`${h}/proj/bar/.venv/main`, "bar/main", "~/proj/bar/.venv/"],
  );
  // -d never climbs: ~/proj/foo has no .venv
  assertEquals((await runVupCore(c, ["find", "-d", ".", "main"], { makeVenv: noMake })).code, 1);
});

Deno.test("runVupCore: argument errors are usage errors (status 2) with a hint", async () => {
  const h = await tempHome();
  const c = ctx(h, h);
  for (
    const args of [
      ["find"],
      ["find", "a", "b"],
      ["find", "-x", "a"],
      ["find", "-d"],
      ["find", "-d", "x", "--start-dir", "y", "a"],
      ["ls", "a", "b"],
      ["ls", "a", "--start-dir", "b"],
      ["init", "x"],
      ["new"],
      ["rm-check"],
      ["validate"],
      ["prompt"],
      ["off", "x"],
      ["frobnicate"],
    ]
  ) {
    const r = await runVupCore(c, args, { makeVenv: noMake });
    assertEquals(r.code, 2, args.join(" "));
    assertEquals(r.out, [], args.join(" "));
    assert(r.err[0].startsWith("vup: error: "), r.err[0]);
    assertEquals(r.err.at(-1), "hint: see 'vup help'");
  }
});

Deno.test("runVupCore: help, -h and --help print usage and every subcommand", async () => {
  const h = await tempHome();
  for (const a of ["help", "-h", "--help"]) {
    const r = await runVupCore(ctx(h, h), [a], { makeVenv: noMake });
    assertEquals(r, { code: 0, out: [HELP], err: [] });
  }
  for (
    const sub of [
      "vup <name>",
      "vup -d <dir> <name>",
      "vup ls [dir]",
      "vup init",
      "vup new <name>",
      "vup rm <name>",
      "vup off",
      "vup help",
    ]
  ) {
    assert(HELP.includes(sub), sub);
  }
  const none = await runVupCore(ctx(h, h), [], { makeVenv: noMake });
  assertEquals(none.code, 2);
});

Deno.test("runVupCore: validate exit codes and ls DIR / --start-dir", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/p/.venv/a`);
  const c = ctx(h, h);
  assertEquals((await runVupCore(c, ["validate", "p/.venv/a"], { makeVenv: noMake })).code, 0);
  assertEquals((await runVupCore(c, ["validate", "p/.venv/b"], { makeVenv: noMake })).code, 1);
  assertEquals((await runVupCore(c, ["ls", "p"], { makeVenv: noMake })).out, ["  a  ~/p"]);
  assertEquals((await runVupCore(c, ["ls", "--start-dir", "p"], { makeVenv: noMake })).out, [
    "  a  ~/p",
  ]);
});

Deno.test("currentDir: keeps a valid logical $PWD, maps a real path back under ~", async () => {
  const root = await tempHome();
  mkdirp(`${root}/real/home/proj`);
  Deno.symlinkSync(`${root}/real/home`, `${root}/home`);
  const home = `${root}/home`;
  const real = `${root}/real/home/proj`;
  assertEquals(currentDir(home, { pwd: `${home}/proj`, real }), `${home}/proj`);
  // stale or missing PWD: the real cwd, mapped under the symlinked home
  assertEquals(currentDir(home, { pwd: "/nonexistent", real }), `${home}/proj`);
  assertEquals(currentDir(home, { pwd: undefined, real }), `${home}/proj`);
  assertEquals(currentDir(home, { pwd: undefined, real: "/" }), "/");
});

/** What src/vup may import: its own files, and the node:-free path helpers of src/util. */
const VUP_ALLOWED_OUTSIDE = new Set(["../util/path.ts"]);

Deno.test("src/vup imports nothing outside src/vup but src/util/path.ts (the instant path)", async () => {
  const dir = fileURLToPath(new URL("../../../src/vup/", import.meta.url));
  for (const e of Deno.readDirSync(dir)) {
    const src = await Deno.readTextFile(dir + e.name);
    const specs = [
      ...src.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"/g),
    ]
      .map((m) => m[1] ?? m[2]);
    for (const s of specs) {
      const own = s.startsWith("./") && !s.includes("..");
      assert(own || VUP_ALLOWED_OUTSIDE.has(s), `${e.name} imports ${s}`);
    }
  }
});

Deno.test("attack: a folder name starting with a newline is refused, never split", async () => {
  const h = await tempHome();
  const nl = `${h}/\nx`;
  fakeVenv(`${nl}/.venv/main`);
  const c = ctx(h, nl);
  const refused = (o: { code: number; out: string[]; err: string[] }) => {
    assertEquals(o.code, 1);
    assertEquals(o.out, []);
    assert(
      o.err.some((l) => /^vup: error: ~\/\\nx\/\.venv\/\w+ contains a newline/.test(l)),
      o.err.join("\n"),
    );
  };
  refused(await runVupCore(c, ["rm-check", "main"], { makeVenv: noMake }));
  refused(await runVupCore(c, ["find", "--with-prompt", "main"], { makeVenv: noMake }));
  refused(await runVupCore(c, ["new", "other"], { makeVenv: noMake }));
  const ls = await runVupCore(c, ["ls"], { makeVenv: noMake });
  assertEquals(ls.out, []);
  assert(ls.err.some((l) => l.includes("a control character in the path; skipped")));
});

Deno.test("--nul: find, new and rm-check end each field with NUL (for the shell)", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  const c = ctx(h, h);
  const f = await runVupCore(c, ["find", "--nul", "--with-prompt", "main"], { makeVenv: noMake });
  assertEquals(f, { code: 0, out: [`${h}/.venv/main`, "~/main", "~/.venv/"], err: [], nul: true });
  const r = await runVupCore(c, ["rm-check", "--nul", "main"], { makeVenv: noMake });
  assertEquals([r.out, r.nul], [[`${h}/.venv/main`, "~/.venv/", ""], true]);
  const n = await runVupCore(c, ["new", "b", "--nul"], {
    makeVenv: (p) => {
      fakeVenv(p);
      return Promise.resolve(null);
    },
  });
  assertEquals([n.code, n.out, n.nul], [0, [`${h}/.venv/b`], true]);
  // Without --nul, lines as before.
  assertEquals((await runVupCore(c, ["find", "main"], { makeVenv: noMake })).nul, undefined);
});

Deno.test("a symlinked ~ (/home/u -> /gpfs/home/u): its real path is a branch of ~", async () => {
  const root = await tempHome();
  mkdirp(`${root}/gpfs/u/proj/.venv`);
  fakeVenv(`${root}/gpfs/u/proj/.venv/web`);
  Deno.symlinkSync(`${root}/gpfs/u`, `${root}/u`);
  const home = `${root}/u`;
  const real = `${root}/gpfs/u/proj`;
  // $PWD is the real path itself (the shell resolved the link): mapped under ~.
  assertEquals(currentDir(home, { pwd: real, real }), `${home}/proj`);
  const c = ctx(home, currentDir(home, { pwd: real, real }));
  const found = await runVupCore(c, ["find", "web"], { makeVenv: noMake });
  assertEquals([found.code, found.out], [0, [`${home}/proj/.venv/web`]]);
  assertEquals((await runVupCore(c, ["ls"], { makeVenv: noMake })).out, ["  web  ~/proj"]);
  // A real path given to -d or ls is within ~ too.
  const d = await runVupCore(ctx(home, home), ["find", "-d", real, "web"], { makeVenv: noMake });
  assertEquals(d.out, [`${home}/proj/.venv/web`]);
  // new creates ./.venv/<name> in the project, not ~/.venv/<name>.
  const made: string[] = [];
  const n = await runVupCore(c, ["new", "x"], {
    makeVenv: (p) => {
      made.push(p);
      fakeVenv(p);
      return Promise.resolve(null);
    },
  });
  assertEquals([n.code, made], [0, [`${home}/proj/.venv/x`]]);
  assert(Deno.statSync(`${real}/.venv/x/bin/activate`).isFile);
});
