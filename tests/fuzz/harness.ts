/**
 * What every fuzz case is judged by, whatever it mutated:
 *   - typed:   it ends normally or with a VenvoyError (ArchiveError and its subclasses,
 *              GrammarError, UsageError...); a TypeError, RangeError or a raw Deno error
 *              escaping is a bug;
 *   - bounded: it ends within a time limit;
 *   - sealed:  nothing outside the target folder changes (a sentinel parent folder, with
 *              files beside the target, is compared entry by entry, contents included);
 *   - undone:  a refused import or extraction leaves the target exactly as it was.
 */
import { createHash } from "node:crypto";
import { join, relative, resolve } from "node:path";
import { VenvoyError } from "../../src/ui/errors.ts";

/** A refusal venvoy shows to a person (exit code and hint), not a crash. */
export function isTypedError(e: unknown): boolean {
  return e instanceof VenvoyError;
}

export class CaseTimeout extends Error {}

/** `work()`, or a CaseTimeout once `ms` have passed (the case is then a failure). */
export async function within<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeout(`case still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How cases ended, by error class ("ok" for none): shows how deep the mutations reach. */
export const outcomes = new Map<string, number>();

function count(e: unknown) {
  const key = e === null ? "ok" : (e as Error)?.constructor?.name ?? typeof e;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

/** Runs `work`; returns the error it threw (null if none), failing on an untyped one. */
export async function outcome(ms: number, work: () => Promise<unknown>): Promise<Error | null> {
  try {
    await within(ms, work);
    count(null);
    return null;
  } catch (e) {
    count(e);
    if (e instanceof CaseTimeout) throw e;
    if (!isTypedError(e)) {
      throw new Error(`untyped error escaped: ${(e as Error)?.stack ?? String(e)}`, { cause: e });
    }
    return e as Error;
  }
}

/** The same for synchronous parsers, timed after the fact. */
export function outcomeSync(ms: number, work: () => unknown): Error | null {
  const t0 = performance.now();
  let err: Error | null = null;
  try {
    work();
  } catch (e) {
    err = e as Error;
  }
  count(err);
  const took = performance.now() - t0;
  if (took > ms) throw new CaseTimeout(`case took ${Math.round(took)} ms (limit ${ms} ms)`);
  if (err !== null && !isTypedError(err)) {
    throw new Error(`untyped error escaped: ${err?.stack ?? String(err)}`);
  }
  return err;
}

export type Tree = Map<string, string>;

/** Every entry under `root`: kind, mode, size and sha256 (files), target (links). */
export async function snapshotTree(root: string): Promise<Tree> {
  const out: Tree = new Map();
  const visit = async (dir: string) => {
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    for (const name of names.sort()) {
      const p = join(dir, name);
      const st = await Deno.lstat(p);
      const rel = relative(root, p);
      const mode = ((st.mode ?? 0) & 0o7777).toString(8);
      if (st.isSymlink) out.set(rel, `link ${await Deno.readLink(p)}`);
      else if (st.isDirectory) {
        out.set(rel, `dir ${mode}`);
        await visit(p);
      } else if (st.isFile) {
        const sha = createHash("sha256").update(await Deno.readFile(p)).digest("hex");
        out.set(rel, `file ${mode} ${st.size} ${sha}`);
      } else out.set(rel, `other ${mode}`);
    }
  };
  await visit(root);
  return out;
}

/** The entries that differ between two trees ("+ added", "- removed", "~ changed"). */
export function treeDiff(
  before: Tree,
  after: Tree,
  ignore: (rel: string) => boolean = () => false,
) {
  const diff: string[] = [];
  for (const [k, v] of before) {
    if (ignore(k)) continue;
    if (!after.has(k)) diff.push(`- ${k} (${v})`);
    else if (after.get(k) !== v) diff.push(`~ ${k}: ${v} -> ${after.get(k)}`);
  }
  for (const [k, v] of after) if (!before.has(k) && !ignore(k)) diff.push(`+ ${k} (${v})`);
  return diff;
}

/** True when `p` is `dir` or below it. */
export function isWithin(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !rel.startsWith("/"));
}

/**
 * Every link under `dir` ends inside `dir`: resolved by the kernel where it resolves,
 * by its text from its real parent folder where it dangles.
 */
export async function linksStayInside(dir: string): Promise<string[]> {
  const real = await Deno.realPath(dir);
  const bad: string[] = [];
  const visit = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      const st = await Deno.lstat(p);
      if (st.isSymlink) {
        const target = await Deno.readLink(p);
        const end = await Deno.realPath(p).catch(async () =>
          resolve(await Deno.realPath(d), target)
        );
        if (!isWithin(real, end)) bad.push(`${relative(dir, p)} -> ${target}`);
      } else if (st.isDirectory) await visit(p);
      else if (!st.isFile) bad.push(`${relative(dir, p)} is neither a file, a folder nor a link`);
    }
  };
  await visit(dir);
  return bad;
}

/** The case's folder: `<root>/target` is where the code under test may write. */
export interface CaseRoot {
  root: string;
  target: string;
  before: Tree;
}

/**
 * A sentinel parent `<base>/case-N/` holding a file, a folder and a link beside
 * `target/` (everything a traversal would reach first), and `files` (the input), then
 * snapshotted. `fill` puts the target's existing state in place first.
 */
export async function caseRoot(
  base: string,
  options: { files?: Record<string, Uint8Array>; fill?: (target: string) => Promise<void> } = {},
): Promise<CaseRoot> {
  const root = await Deno.makeTempDir({ dir: base, prefix: "case-" });
  await Deno.writeTextFile(join(root, "sentinel.txt"), "must not change\n");
  await Deno.mkdir(join(root, "outside"));
  await Deno.writeTextFile(join(root, "outside", "secret"), "host file\n");
  await Deno.symlink("outside", join(root, "link-to-outside"));
  for (const [name, bytes] of Object.entries(options.files ?? {})) {
    await Deno.writeFile(join(root, name), bytes);
  }
  const target = join(root, "target");
  await Deno.mkdir(target);
  await options.fill?.(target);
  return { root, target, before: await snapshotTree(root) };
}

/**
 * A folder for the cases: on tmpfs (/dev/shm) where there is one, since the fuzzer
 * measures the parsers, not the disk (import fsyncs what it writes); else the temp dir.
 */
export async function fuzzBase(prefix: string): Promise<string> {
  try {
    return await Deno.makeTempDir({ dir: "/dev/shm", prefix });
  } catch {
    return await Deno.makeTempDir({ prefix });
  }
}

/** A compact, printable summary of why a case failed, for fast-check's report. */
export function fail(what: string, lines: string[]): never {
  throw new Error(`${what}:\n  ${lines.slice(0, 20).join("\n  ")}`);
}
