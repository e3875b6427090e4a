import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  create,
  find,
  formatTable,
  init,
  ls,
  type MakeVenv,
  NOT_BRANCH,
  prompt,
  promptId,
  rmCheck,
  validateCommand,
  validateVenv,
} from "../../../src/vup/core.ts";
import { ctx, fakeVenv, mkdirp, tempHome } from "./helpers.ts";

const OUTSIDE = "/"; // any directory outside the temporary home

Deno.test("validate: 0 valid, 1 not found, 2 not a directory, 3 no bin/activate", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/ok`);
  mkdirp(`${h}/.venv/empty`);
  Deno.writeTextFileSync(`${h}/.venv/file`, "");
  mkdirp(`${h}/.venv/dirActivate/bin/activate`);
  assertEquals(validateVenv(h, `${h}/.venv/ok`).code, 0);
  assertEquals(validateVenv(h, `${h}/.venv/nope`).code, 1);
  assertEquals(validateVenv(h, `${h}/.venv/file`).code, 2);
  assertEquals(validateVenv(h, `${h}/.venv/empty`).code, 3);
  assertEquals(validateVenv(h, `${h}/.venv/dirActivate`).code, 3);
  // the subcommand: relative and ~ paths, a message on stderr only when invalid
  const c = ctx(h, `${h}/.venv`);
  assertEquals(validateCommand(c, "ok"), { code: 0, out: [], err: [] });
  assertEquals(validateCommand(c, "~/.venv/ok").code, 0);
  const r = validateCommand(c, "empty");
  assertEquals(r.code, 3);
  assertEquals(r.out, []);
  assert(/~\/\.venv\/empty has no bin\/activate/.test(r.err[0]));
  assertEquals(validateCommand(c, "nope").code, 1);
  assertEquals(validateCommand(c, "file").code, 2);
});

Deno.test("find: the closest valid venv wins, searching up to ~", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  fakeVenv(`${h}/proj/foo/.venv/main`);
  mkdirp(`${h}/proj/foo/deep/er`);
  const r = find(ctx(h, `${h}/proj/foo/deep/er`), "main");
  assertEquals(r, { code: 0, out: [`${h}/proj/foo/.venv/main`], err: [] });
  assertEquals(find(ctx(h, `${h}/proj`), "main").out, [`${h}/.venv/main`]);
  assertEquals(find(ctx(h, h), "main").out, [`${h}/.venv/main`]);
});

Deno.test("find: each level checks .venv, then .venv/<name>, then bin/activate, in order", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  // level a/b/c: .venv is a file -> warning
  mkdirp(`${h}/a/b/c`);
  Deno.writeTextFileSync(`${h}/a/b/c/.venv`, "");
  // level a/b: .venv/main is a file -> warning
  mkdirp(`${h}/a/b/.venv`);
  Deno.writeTextFileSync(`${h}/a/b/.venv/main`, "");
  // level a: .venv/main has no bin/activate -> warning
  mkdirp(`${h}/a/.venv/main/bin`);
  // level a/b/c/d: .venv exists without main -> silent; a/b/c/d/e: no .venv -> silent
  mkdirp(`${h}/a/b/c/d/.venv/other`);
  mkdirp(`${h}/a/b/c/d/e`);
  const r = find(ctx(h, `${h}/a/b/c/d/e`), "main");
  assertEquals(r.code, 0);
  assertEquals(r.out, [`${h}/.venv/main`]);
  assertEquals(r.err, [
    "vup: warning: ~/a/b/c/.venv is not a directory; skipped",
    "vup: warning: ~/a/b/.venv/main is not a directory; skipped",
    "vup: warning: ~/a/.venv/main has no bin/activate, so it is not a venv; skipped",
  ]);
});

Deno.test("find: no match is an error (status 1) after the warnings", async () => {
  const h = await tempHome();
  mkdirp(`${h}/p/.venv/main`); // not a venv
  const r = find(ctx(h, `${h}/p`), "main");
  assertEquals(r.code, 1);
  assertEquals(r.out, []);
  assertEquals(
    r.err[0],
    "vup: warning: ~/p/.venv/main has no bin/activate, so it is not a venv; skipped",
  );
  assertEquals(r.err[1], "vup: error: no venv named 'main' in any .venv/ from ~/p up to ~");
  assert(r.err[2].startsWith("hint: "));
});

Deno.test("find: outside ~ falls back to ~/.venv/ only", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  assertEquals(find(ctx(h, OUTSIDE), "main").out, [`${h}/.venv/main`]);
  const miss = find(ctx(h, OUTSIDE), "nope");
  assertEquals(miss.code, 1);
  assert(miss.err[0].includes("in ~/.venv/ (outside ~, vup looks only in ~/.venv/)"), miss.err[0]);
});

Deno.test("find --start-dir: relative, ~ and absolute; must be within ~", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  fakeVenv(`${h}/proj/bar/.venv/main`);
  mkdirp(`${h}/proj/foo/sub`);
  const c = ctx(h, `${h}/proj/foo`);
  const want = [`${h}/proj/bar/.venv/main`];
  assertEquals(find(c, "main", { startDir: "../bar", noTraverse: true }).out, want);
  assertEquals(find(c, "main", { startDir: "~/proj/bar", noTraverse: true }).out, want);
  assertEquals(find(c, "main", { startDir: `${h}/proj/bar`, noTraverse: true }).out, want);
  // outside ~ (absolute, or by climbing out with ..)
  for (const d of ["/", "../../..", `${h}/..`]) {
    const r = find(c, "main", { startDir: d, noTraverse: true });
    assertEquals(r.code, 1, d);
    assert(r.err[0].includes("is outside your home directory"), r.err[0]);
  }
  // not a directory
  assert(
    find(c, "main", { startDir: "missing", noTraverse: true }).err[0].includes("does not exist"),
  );
  // with traversal, --start-dir searches upward from there
  assertEquals(find(c, "main", { startDir: "sub" }).out, [`${h}/.venv/main`]);
});

Deno.test("find --no-traverse looks only in <dir>/.venv/<name>, with the same warnings", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  mkdirp(`${h}/proj/foo/.venv/main`); // invalid
  const c = ctx(h, `${h}/proj/foo`);
  const r = find(c, "main", { startDir: ".", noTraverse: true });
  assertEquals(r.code, 1);
  assertEquals(
    r.err[0],
    "vup: warning: ~/proj/foo/.venv/main has no bin/activate, so it is not a venv; skipped",
  );
  assertEquals(r.err[1], "vup: error: no venv named 'main' in ~/proj/foo/.venv/");
});

Deno.test("find --with-prompt prints the path, the prompt id and the ~ form of .venv/", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/proj/foo/.venv/main`);
  fakeVenv(`${h}/.venv/main`);
  assertEquals(find(ctx(h, `${h}/proj/foo`), "main", { withPrompt: true }).out, [
    `${h}/proj/foo/.venv/main`,
    "foo/main",
    "~/proj/foo/.venv/",
  ]);
  assertEquals(find(ctx(h, h), "main", { withPrompt: true }).out, [
    `${h}/.venv/main`,
    "~/main",
    "~/.venv/",
  ]);
});

Deno.test("find: bad names are usage errors (status 2)", async () => {
  const h = await tempHome();
  for (const n of [undefined, "", ".", "..", "a/b", "-x", "a\nb"]) {
    const r = find(ctx(h, h), n);
    assertEquals(r.code, 2, String(n));
    assert(r.err[0].startsWith("vup: error: "), r.err[0]);
  }
});

Deno.test("find: a name and a path with spaces", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/my proj/.venv/the env`);
  const r = find(ctx(h, `${h}/my proj`), "the env", { withPrompt: true });
  assertEquals(r.out, [`${h}/my proj/.venv/the env`, "my proj/the env", "~/my proj/.venv/"]);
});

Deno.test("prompt: branch name, or ~ for the home directory", () => {
  const h = "/home/u";
  assertEquals(promptId(h, "/home/u/.venv/main"), "~/main");
  assertEquals(promptId(h, "/home/u/proj/foo/.venv/main"), "foo/main");
  assertEquals(prompt(ctx(h, "/home/u/proj/foo"), ".venv/main").out, ["foo/main"]);
  assertEquals(prompt(ctx(h, "/"), "~/.venv/data").out, ["~/data"]);
  assertEquals(prompt(ctx(h, "/"), undefined).code, 2);
});

/** The layout of the example: `vup ls` from ~/proj/foo/webscrape. */
async function exampleHome(): Promise<string> {
  const h = await tempHome();
  fakeVenv(`${h}/proj/foo/webscrape/.venv/web`);
  fakeVenv(`${h}/proj/foo/.venv/main`);
  for (const n of ["data", "main", "longname"]) fakeVenv(`${h}/.venv/${n}`);
  return h;
}

Deno.test("ls: closest first, * for the active venv, names padded to the longest + 2", async () => {
  const h = await exampleHome();
  const r = ls(ctx(h, `${h}/proj/foo/webscrape`, { VIRTUAL_ENV: `${h}/proj/foo/.venv/main` }));
  assertEquals(r.code, 0);
  assertEquals(r.err, []);
  // Within one .venv/ the names are sorted; the example lists ~ unsorted.
  assertEquals(r.out, [
    "  web       ~/proj/foo/webscrape",
    "* main      ~/proj/foo",
    "  data      ~",
    "  longname  ~",
    "  main      ~",
  ]);
});

Deno.test("ls: the active venv is recognised through a symlinked path", async () => {
  const h = await exampleHome();
  Deno.symlinkSync(`${h}/proj`, `${h}/link`);
  const r = ls(ctx(h, h, { VIRTUAL_ENV: `${h}/link/foo/.venv/main` }), { startDir: "proj/foo" });
  assertEquals(r.out[0], "* main      ~/proj/foo");
});

Deno.test("ls [dir]: relative, ~ and absolute start directories; must be within ~", async () => {
  const h = await exampleHome();
  const c = ctx(h, `${h}/proj`);
  const want = ["  main      ~/proj/foo", "  data      ~", "  longname  ~", "  main      ~"];
  assertEquals(ls(c, { startDir: "foo" }).out, want);
  assertEquals(ls(c, { startDir: "~/proj/foo" }).out, want);
  assertEquals(ls(c, { startDir: `${h}/proj/foo` }).out, want);
  const out = ls(c, { startDir: "/" });
  assertEquals(out.code, 1);
  assert(out.err[0].includes("outside your home directory"));
});

Deno.test("ls: outside ~ lists ~/.venv/ only; nothing found is said on stderr", async () => {
  const h = await exampleHome();
  assertEquals(ls(ctx(h, OUTSIDE)).out, ["  data      ~", "  longname  ~", "  main      ~"]);
  const empty = await tempHome();
  const r = ls(ctx(empty, empty));
  assertEquals(r, { code: 0, out: [], err: ["vup: no venvs in ~/.venv/"] });
});

Deno.test("ls: skips invalid entries, warning about folders that are not venvs", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/good`);
  mkdirp(`${h}/.venv/broken`);
  Deno.writeTextFileSync(`${h}/.venv/.gitignore`, "*\n");
  mkdirp(`${h}/p`);
  Deno.writeTextFileSync(`${h}/p/.venv`, "");
  const r = ls(ctx(h, `${h}/p`));
  assertEquals(r.out, ["  good  ~"]);
  assertEquals(r.err, [
    "vup: warning: ~/p/.venv is not a directory; skipped",
    "vup: warning: ~/.venv/broken has no bin/activate, so it is not a venv; skipped",
  ]);
});

Deno.test("ls --names prints each name once, for completion", async () => {
  const h = await exampleHome();
  const r = ls(ctx(h, `${h}/proj/foo/webscrape`), { names: true });
  assertEquals(r.out, ["web", "main", "data", "longname"]);
});

Deno.test("formatTable with no rows prints nothing", () => {
  assertEquals(formatTable("/h", []), []);
});

Deno.test("init: creates .venv in the cwd within ~, silently", async () => {
  const h = await tempHome();
  mkdirp(`${h}/proj`);
  assertEquals(init(ctx(h, `${h}/proj`)), { code: 0, out: [], err: [] });
  assert(Deno.statSync(`${h}/proj/.venv`).isDirectory);
});

Deno.test("init: an existing .venv is an error that suggests vup new", async () => {
  const h = await tempHome();
  mkdirp(`${h}/.venv`);
  const r = init(ctx(h, h));
  assertEquals(r.code, 1);
  assertEquals(r.err, [
    "vup: error: ~/.venv already exists",
    "hint: create a venv in it with: vup new <name>",
  ]);
});

Deno.test("init: outside ~ creates ~/.venv", async () => {
  const h = await tempHome();
  assertEquals(init(ctx(h, OUTSIDE)).code, 0);
  assert(Deno.statSync(`${h}/.venv`).isDirectory);
  assertEquals(init(ctx(h, OUTSIDE)).code, 1);
});

const fakeMake: MakeVenv = (path) => {
  fakeVenv(path);
  return Promise.resolve(null);
};

Deno.test("new: within ~ without .venv/ is an error suggesting vup init", async () => {
  const h = await tempHome();
  const r = await create(ctx(h, h), "main", { makeVenv: fakeMake });
  assertEquals(r.code, 1);
  assertEquals(r.err, ["vup: error: there is no .venv/ in ~", "hint: create one with: vup init"]);
});

Deno.test("new: creates the venv and prints its path (and prompt lines for the shell)", async () => {
  const h = await tempHome();
  mkdirp(`${h}/proj/foo/.venv`);
  const made: string[] = [];
  const r = await create(ctx(h, `${h}/proj/foo`), "main", {
    makeVenv: (p) => {
      made.push(p);
      return fakeMake(p);
    },
  });
  assertEquals(made, [`${h}/proj/foo/.venv/main`]);
  assertEquals(r, { code: 0, out: [`${h}/proj/foo/.venv/main`], err: [] });
  const r2 = await create(ctx(h, `${h}/proj/foo`), "dev", { makeVenv: fakeMake, withPrompt: true });
  assertEquals(r2.out, [`${h}/proj/foo/.venv/dev`, "foo/dev", "~/proj/foo/.venv/"]);
});

Deno.test("new: an existing name is an error and nothing is run", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  let ran = false;
  const r = await create(ctx(h, h), "main", {
    makeVenv: () => {
      ran = true;
      return Promise.resolve(null);
    },
  });
  assertEquals(r.code, 1);
  assert(r.err[0].includes("a venv named 'main' already exists in ~/.venv/"), r.err[0]);
  assertEquals(ran, false);
});

Deno.test("new: outside ~ creates ~/.venv/ first when needed", async () => {
  const h = await tempHome();
  const r = await create(ctx(h, OUTSIDE), "main", { makeVenv: fakeMake });
  assertEquals(r.out, [`${h}/.venv/main`]);
});

Deno.test("new: a failed python3 -m venv leaves nothing behind", async () => {
  const h = await tempHome();
  mkdirp(`${h}/.venv`);
  const r = await create(ctx(h, h), "main", {
    makeVenv: (p) => {
      mkdirp(`${p}/lib`);
      return Promise.resolve("python3 -m venv exited with status 1");
    },
  });
  assertEquals(r.code, 1);
  assert(r.err[0].includes("could not create ~/.venv/main: python3 -m venv exited with status 1"));
  assertEquals([...Deno.readDirSync(`${h}/.venv`)], []);
});

Deno.test("rm-check: outside ~, or no .venv/ here: must be removed from the branch dir", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  mkdirp(`${h}/proj`);
  for (const cwd of [OUTSIDE, `${h}/proj`]) {
    const r = rmCheck(ctx(h, cwd), "main");
    assertEquals(r.code, 1);
    assertEquals(r.err[0], `vup: error: ${NOT_BRANCH}`);
    assertEquals(NOT_BRANCH, "venvs must be removed from their branch directory.");
  }
});

Deno.test("rm-check: missing and invalid venvs are errors", async () => {
  const h = await tempHome();
  mkdirp(`${h}/proj/.venv/broken`);
  const c = ctx(h, `${h}/proj`);
  const missing = rmCheck(c, "main");
  assertEquals(missing.code, 1);
  assertEquals(
    missing.err[0],
    "vup: error: 'main' is not in this directory's .venv/ (~/proj/.venv/)",
  );
  const broken = rmCheck(c, "broken");
  assertEquals(broken.code, 1);
  assert(broken.err[0].includes("not a venv; nothing was removed"), broken.err[0]);
});

Deno.test("rm-check: prints path, where and whether active; warns in ~ only", async () => {
  const h = await tempHome();
  fakeVenv(`${h}/.venv/main`);
  fakeVenv(`${h}/proj/.venv/main`);
  const home = rmCheck(ctx(h, h, { VIRTUAL_ENV: `${h}/.venv/main` }), "main");
  assertEquals(home.code, 0);
  assertEquals(home.out, [`${h}/.venv/main`, "~/.venv/", "active"]);
  assertEquals(home.err, [
    "Warning: This will permanently remove the 'main' venv from your home directory (~/.venv/).",
  ]);
  const proj = rmCheck(ctx(h, `${h}/proj`, { VIRTUAL_ENV: `${h}/.venv/main` }), "main");
  assertEquals(proj, { code: 0, out: [`${h}/proj/.venv/main`, "~/proj/.venv/", ""], err: [] });
});
