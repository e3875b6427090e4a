/**
 * vup-core's logic. Every function takes the home directory, the current directory and the
 * environment as parameters (a VupContext) and returns an Outcome: lines for stdout, lines for
 * stderr and an exit status. Only ./mod.ts touches Deno.args, Deno.env and the real streams.
 *
 * The file system is read with Deno's synchronous calls: a handful of stat calls is faster
 * than scheduling promises, and this runs on every `vup` activation.
 */
import { basename, dirname, join } from "../util/path.ts";
import { isWithin, levelsUpTo, normalize, resolveUserPath, tildify } from "./paths.ts";

export interface VupContext {
  /** $HOME, normalised. */
  home: string;
  /** The current directory, absolute and normalised (the logical $PWD when it is valid). */
  cwd: string;
  env: (name: string) => string | undefined;
}

export interface Outcome {
  code: number;
  out: string[];
  err: string[];
  /** stdout's fields end with NUL instead of newline (`--nul`, for the shell function). */
  nul?: boolean;
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** validate's statuses (the contract: 0 valid, 1 not found, 2 not a directory, 3 no activate). */
export const VALID = { ok: 0, notFound: 1, notDir: 2, noActivate: 3 } as const;

const PROG = "vup";

export function errorLines(message: string, hint?: string): string[] {
  return hint ? [`${PROG}: error: ${message}`, `hint: ${hint}`] : [`${PROG}: error: ${message}`];
}

export function warningLine(message: string): string {
  return `${PROG}: warning: ${message}`;
}

/** A failure (status 1): any warnings, then `vup: error: …` and an optional hint. */
function fail(message: string, opts: { hint?: string; warnings?: string[] } = {}): Outcome {
  return {
    code: EXIT.failure,
    out: [],
    err: [...(opts.warnings ?? []), ...errorLines(message, opts.hint)],
  };
}

/** Bad arguments (status 2). */
function usage(message: string): Outcome {
  return { code: EXIT.usage, out: [], err: errorLines(message, "see 'vup help'") };
}

// ---------------------------------------------------------------------------- file system

export type Kind = "missing" | "dir" | "file" | "other";

/** What is at `p`, following symlinks; a dangling symlink is "other" (it exists, but is no dir). */
export function kindOf(p: string): Kind {
  try {
    const st = Deno.statSync(p);
    return st.isDirectory ? "dir" : st.isFile ? "file" : "other";
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return "other";
    try {
      Deno.lstatSync(p);
      return "other";
    } catch {
      return "missing";
    }
  }
}

function exists(p: string): boolean {
  return kindOf(p) !== "missing";
}

// ---------------------------------------------------------------------------- names and paths

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** A path for a message: newlines and other control characters shown escaped. */
export function shownPath(p: string): string {
  return p.replace(
    new RegExp(CONTROL.source, "g"),
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\t"
        ? "\\t"
        : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * A path vup-core would hand to the shell (to source, or to rm -rf) must not hold a newline
 * or another control character: a reader that splits lines would act on another path
 * (issue 11, item 4). The shell function reads NUL-separated fields as well.
 */
function controlInPath(home: string, p: string): Outcome | null {
  if (!CONTROL.test(p)) return null;
  return fail(
    `${shownPath(tildify(home, p))} contains a newline or another control character; ` +
      "vup will not use it",
    { hint: "rename the folder to a name without control characters" },
  );
}

/** A venv name is one path component that cannot be mistaken for an option or a path. */
export function checkName(name: string | undefined): string | null {
  if (name === undefined || name === "") return "missing venv name";
  if (name === "." || name === "..") return `'${name}' is not a venv name`;
  if (name.includes("/")) return `a venv name cannot contain '/': '${name}'`;
  if (name.startsWith("-")) return `unknown option '${name}'`;
  if (CONTROL.test(name)) return "a venv name cannot contain control characters";
  return null;
}

/**
 * `p` as a path under ~ when it lies under the real path of a symlinked ~ (clusters link
 * /home/u to /gpfs/home/u, and a shell there often shows the real path): such a folder is a
 * branch of ~ like any other. Other paths unchanged.
 */
export function homeForm(home: string, p: string): string {
  if (isWithin(home, p)) return p;
  try {
    const realHome = Deno.realPathSync(home);
    if (realHome !== home && realHome !== "/" && isWithin(realHome, p)) {
      return home + p.slice(realHome.length);
    }
  } catch { /* home does not exist */ }
  return p;
}

/**
 * A user-supplied directory (`-d`, `ls DIR`, `--start-dir`), resolved and checked: it must be
 * within ~ and be a directory.
 */
function userDir(ctx: VupContext, dir: string): { dir: string } | { fail: Outcome } {
  if (dir === "") return { fail: usage("empty directory argument") };
  const given = resolveUserPath(dir, ctx);
  if (given === null) {
    return { fail: usage(`'${dir}': ~user paths are not supported; use a full path`) };
  }
  const abs = homeForm(ctx.home, given);
  if (!isWithin(ctx.home, abs)) {
    return {
      fail: fail(
        `${abs} is outside your home directory (${ctx.home})`,
        { hint: "vup works within ~; give a directory within ~" },
      ),
    };
  }
  const k = kindOf(abs);
  if (k !== "dir") {
    return {
      fail: fail(
        k === "missing"
          ? `${tildify(ctx.home, abs)} does not exist`
          : `${tildify(ctx.home, abs)} is not a directory`,
      ),
    };
  }
  return { dir: abs };
}

/** The .venv/ folder of a branch directory, in ~ form with a trailing slash. */
export function whereOf(home: string, branch: string): string {
  return tildify(home, join(branch, ".venv")) + "/";
}

/** `foo/main` for ~/proj/foo/.venv/main, `~/main` for ~/.venv/main. */
export function promptId(home: string, venvPath: string): string {
  const p = normalize(venvPath);
  const name = basename(p);
  const branch = dirname(dirname(p));
  if (branch === home) return `~/${name}`;
  return `${branch === "/" ? "" : basename(branch)}/${name}`;
}

/** Whether `venvPath` is the venv named by $VIRTUAL_ENV (same path, or same real path). */
export function isActive(ctx: VupContext, venvPath: string): boolean {
  const active = ctx.env("VIRTUAL_ENV");
  if (!active) return false;
  if (!active.startsWith("/")) return false;
  if (normalize(active) === venvPath) return true;
  try {
    return Deno.realPathSync(active) === Deno.realPathSync(venvPath);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------- validate

export interface Validation {
  code: number;
  message: string;
}

/** `vup-core validate` (docs/vup.md): 0 valid, 1 not found, 2 not a directory, 3 no bin/activate. */
export function validateVenv(home: string, path: string): Validation {
  const shown = tildify(home, path);
  const k = kindOf(path);
  if (k === "missing") return { code: VALID.notFound, message: `${shown} does not exist` };
  if (k !== "dir") return { code: VALID.notDir, message: `${shown} is not a directory` };
  if (kindOf(join(path, "bin", "activate")) !== "file") {
    return { code: VALID.noActivate, message: `${shown} has no bin/activate, so it is not a venv` };
  }
  return { code: VALID.ok, message: `${shown} is a valid venv` };
}

export function validateCommand(ctx: VupContext, path: string | undefined): Outcome {
  if (path === undefined || path === "") return usage("validate needs a path");
  const abs = resolveUserPath(path, ctx);
  if (abs === null) return usage(`'${path}': ~user paths are not supported; use a full path`);
  const v = validateVenv(ctx.home, abs);
  return { code: v.code, out: [], err: v.code === 0 ? [] : [`${PROG}: ${v.message}`] };
}

// ---------------------------------------------------------------------------- find

export interface FindOptions {
  startDir?: string;
  noTraverse?: boolean;
  /** Also print the prompt identifier and the ~ form of the .venv/ (for the shell function). */
  withPrompt?: boolean;
}

/**
 * Checks one level: its .venv/<name>. Returns the venv path, or null after adding any warning.
 */
function checkLevel(
  ctx: VupContext,
  level: { branch: string; name: string; warnings: string[] },
): string | null {
  const { branch, name, warnings } = level;
  const dotVenv = join(branch, ".venv");
  const k = kindOf(dotVenv);
  if (k === "missing") return null;
  if (k !== "dir") {
    warnings.push(warningLine(`${tildify(ctx.home, dotVenv)} is not a directory; skipped`));
    return null;
  }
  const venv = join(dotVenv, name);
  const v = validateVenv(ctx.home, venv);
  if (v.code === VALID.notFound) return null;
  if (v.code !== VALID.ok) {
    warnings.push(warningLine(`${v.message}; skipped`));
    return null;
  }
  return venv;
}

/** The directories `find` and `ls` search, or a failure. */
function searchLevels(
  ctx: VupContext,
  opts: { startDir?: string; noTraverse?: boolean },
): { levels: string[]; fallback: boolean } | { fail: Outcome } {
  const { startDir, noTraverse = false } = opts;
  if (startDir !== undefined) {
    const r = userDir(ctx, startDir);
    if ("fail" in r) return r;
    return { levels: noTraverse ? [r.dir] : levelsUpTo(ctx.home, r.dir), fallback: false };
  }
  if (!isWithin(ctx.home, ctx.cwd)) return { levels: [ctx.home], fallback: true };
  return { levels: noTraverse ? [ctx.cwd] : levelsUpTo(ctx.home, ctx.cwd), fallback: false };
}

export function activationLines(ctx: VupContext, venv: string): string[] {
  return [venv, promptId(ctx.home, venv), whereOf(ctx.home, dirname(dirname(venv)))];
}

export function find(ctx: VupContext, name: string | undefined, opts: FindOptions = {}): Outcome {
  const bad = checkName(name);
  if (bad) return usage(bad);
  const s = searchLevels(ctx, opts);
  if ("fail" in s) return s.fail;
  const warnings: string[] = [];
  for (const branch of s.levels) {
    const venv = checkLevel(ctx, { branch, name: name!, warnings });
    if (venv) {
      const bad = controlInPath(ctx.home, venv);
      if (bad) return { ...bad, err: [...warnings, ...bad.err] };
      return { code: 0, out: opts.withPrompt ? activationLines(ctx, venv) : [venv], err: warnings };
    }
  }
  const first = tildify(ctx.home, s.levels[0]);
  const where = s.levels.length === 1
    ? `in ${whereOf(ctx.home, s.levels[0])}`
    : `in any .venv/ from ${first} up to ~`;
  const why = s.fallback ? " (outside ~, vup looks only in ~/.venv/)" : "";
  return fail(
    `no venv named '${name}' ${where}${why}`,
    { hint: "'vup ls' lists the venvs you can use", warnings },
  );
}

// ---------------------------------------------------------------------------- ls

export interface VenvRow {
  name: string;
  /** The directory that holds the .venv/. */
  branch: string;
  path: string;
  active: boolean;
}

/** The valid venvs of each level, closest first; warnings for what is skipped and why. */
export function collectVenvs(
  ctx: VupContext,
  levels: string[],
): { rows: VenvRow[]; warnings: string[] } {
  const rows: VenvRow[] = [];
  const warnings: string[] = [];
  for (const branch of levels) {
    const dotVenv = join(branch, ".venv");
    const k = kindOf(dotVenv);
    if (k === "missing") continue;
    if (k !== "dir") {
      warnings.push(warningLine(`${tildify(ctx.home, dotVenv)} is not a directory; skipped`));
      continue;
    }
    let names: string[];
    try {
      names = [...Deno.readDirSync(dotVenv)].map((e) => e.name);
    } catch (e) {
      warnings.push(
        warningLine(`cannot read ${tildify(ctx.home, dotVenv)}: ${(e as Error).message}`),
      );
      continue;
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = join(dotVenv, name);
      if (CONTROL.test(path)) {
        warnings.push(
          warningLine(
            `${shownPath(tildify(ctx.home, path))}: a control character in the path; skipped`,
          ),
        );
        continue;
      }
      const v = validateVenv(ctx.home, path);
      // Files beside the venvs (.gitignore, notes) are not venvs and not worth a warning.
      if (v.code === VALID.noActivate) warnings.push(warningLine(`${v.message}; skipped`));
      if (v.code !== VALID.ok) continue;
      rows.push({ name, branch, path, active: isActive(ctx, path) });
    }
  }
  return { rows, warnings };
}

/** `vup ls`: `*` or space, a space, the name padded to the longest plus two spaces, the ~ path. */
export function formatTable(home: string, rows: VenvRow[]): string[] {
  const width = Math.max(0, ...rows.map((r) => r.name.length));
  return rows.map((r) =>
    `${r.active ? "*" : " "} ${r.name.padEnd(width)}  ${tildify(home, r.branch)}`
  );
}

export interface LsOptions {
  startDir?: string;
  /** One name per line, each once: for shell completion. */
  names?: boolean;
}

export function ls(ctx: VupContext, opts: LsOptions = {}): Outcome {
  const s = searchLevels(ctx, { startDir: opts.startDir });
  if ("fail" in s) return s.fail;
  const { rows, warnings: err } = collectVenvs(ctx, s.levels);
  if (opts.names) return { code: 0, out: [...new Set(rows.map((r) => r.name))], err: [] };
  if (rows.length === 0) {
    const from = s.levels.length === 1
      ? `in ${whereOf(ctx.home, s.levels[0])}`
      : `from ${tildify(ctx.home, s.levels[0])} up to ~`;
    err.push(`${PROG}: no venvs ${from}`);
  }
  return { code: 0, out: formatTable(ctx.home, rows), err };
}

// ---------------------------------------------------------------------------- init and new

/** Where `vup init` and `vup new` create .venv/: the cwd within ~, otherwise ~. */
export function createTarget(ctx: VupContext): string {
  return isWithin(ctx.home, ctx.cwd) ? ctx.cwd : ctx.home;
}

export function init(ctx: VupContext): Outcome {
  const dotVenv = join(createTarget(ctx), ".venv");
  if (exists(dotVenv)) {
    return fail(
      `${tildify(ctx.home, dotVenv)} already exists`,
      { hint: "create a venv in it with: vup new <name>" },
    );
  }
  try {
    Deno.mkdirSync(dotVenv);
  } catch (e) {
    return fail(`cannot create ${tildify(ctx.home, dotVenv)}: ${(e as Error).message}`);
  }
  return { code: 0, out: [], err: [] };
}

/** Creates a venv at an absolute path (python3 -m venv); resolves to an error text or null. */
export type MakeVenv = (path: string) => Promise<string | null>;

export interface CreateOptions {
  /** Makes the venv (python3 -m venv in production, a fake in tests). */
  makeVenv: MakeVenv;
  withPrompt?: boolean;
}

export async function create(
  ctx: VupContext,
  name: string | undefined,
  opts: CreateOptions,
): Promise<Outcome> {
  const bad = checkName(name);
  if (bad) return usage(bad);
  const inHome = isWithin(ctx.home, ctx.cwd);
  const target = createTarget(ctx);
  const dotVenv = join(target, ".venv");
  const shownDot = tildify(ctx.home, dotVenv);
  const k = kindOf(dotVenv);
  if (k === "missing") {
    if (inHome) {
      return fail(
        `there is no .venv/ in ${tildify(ctx.home, target)}`,
        { hint: "create one with: vup init" },
      );
    }
    try {
      Deno.mkdirSync(dotVenv); // outside ~, make ~/.venv/ for the user.
    } catch (e) {
      return fail(`cannot create ${shownDot}: ${(e as Error).message}`);
    }
  } else if (k !== "dir") {
    return fail(`${shownDot} is not a directory`);
  }
  const venv = join(dotVenv, name!);
  const badPath = controlInPath(ctx.home, venv);
  if (badPath) return badPath;
  if (exists(venv)) {
    return fail(
      `a venv named '${name}' already exists in ${shownDot}/`,
      { hint: `activate it with: vup ${name}` },
    );
  }
  const problem = await opts.makeVenv(venv);
  const v = validateVenv(ctx.home, venv);
  if (problem !== null || v.code !== VALID.ok) {
    // We made this folder, so a half-made venv does not block the next `vup new`.
    try {
      Deno.removeSync(venv, { recursive: true });
    } catch { /* nothing was created */ }
    return fail(`could not create ${tildify(ctx.home, venv)}: ${problem ?? v.message}`);
  }
  return { code: 0, out: opts.withPrompt ? activationLines(ctx, venv) : [venv], err: [] };
}

// ---------------------------------------------------------------------------- rm (checks only)

export const NOT_BRANCH = "venvs must be removed from their branch directory.";

/**
 * Everything `vup rm` checks before it asks for confirmation. Prints the venv
 * path, the ~ form of its .venv/, and `active` or an empty line; the shell function asks,
 * deactivates and deletes.
 */
export function rmCheck(ctx: VupContext, name: string | undefined): Outcome {
  const bad = checkName(name);
  if (bad) return usage(bad);
  const hint = "cd to the directory that holds the venv's .venv/ ('vup ls' shows it)";
  if (!isWithin(ctx.home, ctx.cwd)) return fail(NOT_BRANCH, { hint });
  const dotVenv = join(ctx.cwd, ".venv");
  if (kindOf(dotVenv) !== "dir") return fail(NOT_BRANCH, { hint });
  const venv = join(dotVenv, name!);
  const badPath = controlInPath(ctx.home, venv);
  if (badPath) return badPath;
  const where = whereOf(ctx.home, ctx.cwd);
  const v = validateVenv(ctx.home, venv);
  if (v.code === VALID.notFound) {
    return fail(
      `'${name}' is not in this directory's .venv/ (${where})`,
      { hint: "'vup ls' shows where each venv lives" },
    );
  }
  if (v.code !== VALID.ok) {
    return fail(`${v.message}; nothing was removed`);
  }
  const err: string[] = [];
  if (ctx.cwd === ctx.home) {
    err.push(
      `Warning: This will permanently remove the '${name}' venv from your home directory (~/.venv/).`,
    );
  }
  return { code: 0, out: [venv, where, isActive(ctx, venv) ? "active" : ""], err };
}

// ---------------------------------------------------------------------------- prompt and help

export function prompt(ctx: VupContext, path: string | undefined): Outcome {
  if (path === undefined || path === "") return usage("prompt needs a venv path");
  const abs = resolveUserPath(path, ctx);
  if (abs === null) return usage(`'${path}': ~user paths are not supported; use a full path`);
  return { code: 0, out: [promptId(ctx.home, abs)], err: [] };
}

export const HELP = `vup: find and activate Python venvs kept in .venv/<name>/ folders

Usage:
  vup <name>            activate the closest .venv/<name>, searching from the current
                        directory up to ~ (outside ~: ~/.venv/<name>)
  vup -d <dir> <name>   activate <dir>/.venv/<name>; <dir> is relative, absolute or ~/...,
                        and must be within ~ (no upward search)
  vup ls [dir]          list the venvs from [dir] (default: the current directory) up to ~;
                        * marks the active one (outside ~: ~/.venv/ only)
  vup init              create .venv/ here (outside ~: ~/.venv/)
  vup new <name>        create .venv/<name> here with python3 -m venv and activate it
                        (outside ~: in ~/.venv/, created if needed)
  vup rm <name>         remove .venv/<name> from this directory, after you type its name
  vup off               deactivate the active venv and restore the prompt
  vup help, -h, --help  this help

The prompt shows (<branch>/<name>), where <branch> is the folder holding .venv/
(~ for the home directory). Set it up with: eval "$(venvoy shell-init bash)"

Backend (for scripts and the shell function; results on stdout, messages on stderr):
  venvoy vup-core find <name> [--start-dir DIR] [--no-traverse] [-d DIR] [--with-prompt]
  venvoy vup-core ls [DIR] [--start-dir DIR] [--names]
  venvoy vup-core validate <path>     exit 0 valid, 1 not found, 2 not a directory,
                                      3 no bin/activate
  venvoy vup-core init | new <name> [--with-prompt] | rm-check <name> | prompt <venv-path>
  venvoy vup-core help`;

export function help(): Outcome {
  return { code: 0, out: [HELP], err: [] };
}
