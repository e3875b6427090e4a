/**
 * Run records: `venvoy record` runs a command like `venvoy run --command`, then writes what
 * it ran, in which image and package state, and the sha256 of every input and output to
 * `$VENVOY_PROJECTS/<name>/records/<UTC id>.json`.
 *
 *   records/<id>.json       one run record (written atomically)
 *   records/blobs/<sha256>  text outputs up to 1 MiB, and inputs carried by an archive
 *                           (`export --with-inputs`), named by their sha256
 */
import { join } from "node:path";
import type { RunContext } from "../session/run.ts";
import { CommandExit, UsageError, VenvoyError } from "../ui/errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { isNormalRelative } from "../util/safe_fs.ts";
import {
  collectEntries,
  type FileEntry,
  isInside,
  isText,
  KEEP_TEXT_MAX,
  relativeTo,
} from "./files.ts";

export const RECORD_FORMAT = "venvoy-record";
export const RECORD_FORMAT_VERSION = 1;
export const RECORDS_DIR = "records";
export const BLOBS_DIR = "blobs";
export const RECORD_ID_RE = /^\d{8}_\d{6}(-\d{1,4})?$/;
const SHA_RE = /^[0-9a-f]{64}$/;

export interface RunRecord {
  format: typeof RECORD_FORMAT;
  format_version: number;
  id: string;
  environment: string;
  command: string;
  /** The folder the command ran in (at /workspace); every path below is relative to it. */
  workdir: string;
  image: string;
  image_id: string | null;
  /** The snapshot id of the package state the command ran with. */
  snapshot: string | null;
  engine: string;
  /** The host's CPU architecture (Deno.build.arch: x86_64, aarch64). */
  architecture: string;
  os: string;
  started: string;
  ended: string;
  exit_code: number;
  /** --inputs and --outputs as given, relative to workdir. */
  input_paths: string[];
  output_paths: string[];
  inputs: FileEntry[];
  outputs: FileEntry[];
  /** --outputs that did not exist after the run. */
  missing_outputs: string[];
  /**
   * The folders among and under the inputs and outputs that existed before the run (an empty
   * `out/` the command writes into): verify makes them before its re-run. Absent in records
   * made before venvoy 0.2.
   */
  dirs_before?: string[];
  venvoy_version: string;
}

export function recordsDir(projectDir: string): string {
  return join(projectDir, RECORDS_DIR);
}

export function blobPath(projectDir: string, sha256: string): string {
  if (!SHA_RE.test(sha256)) throw new VenvoyError(`internal: '${sha256}' is not a sha256`);
  return join(projectDir, RECORDS_DIR, BLOBS_DIR, sha256);
}

function utcId(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** A free id for a record ended at `when`: YYYYMMDD_HHMMSS, then -2, -3… in the same second. */
export async function freeRecordId(dir: string, when: Date): Promise<string> {
  const base = utcId(when);
  for (let i = 1; i < 10000; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    if (!(await exists(join(dir, `${id}.json`)))) return id;
  }
  throw new VenvoyError(`too many records in one second in ${dir}`);
}

/** Writes the record atomically; returns its path. */
export async function writeRecord(projectDir: string, record: RunRecord): Promise<string> {
  const dir = recordsDir(projectDir);
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, `${record.id}.json`);
  await writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n", { fsync: true });
  return path;
}

/** Keeps a copy of small text outputs, so `verify` can show the first differing byte. */
async function keepTextOutputs(projectDir: string, cwd: string, outputs: FileEntry[]) {
  for (const o of outputs) {
    if (o.type !== "file" || o.size > KEEP_TEXT_MAX) continue;
    const bytes = await Deno.readFile(join(cwd, o.path));
    if (!isText(bytes)) continue;
    const blob = blobPath(projectDir, o.sha256);
    if (!(await exists(blob))) {
      await Deno.mkdir(join(projectDir, RECORDS_DIR, BLOBS_DIR), { recursive: true });
      await writeFileAtomic(blob, bytes, { fsync: true });
    }
    o.kept = true;
  }
}

const entryPath = (e: unknown) => (e as { path?: unknown })?.path;

function checkEntries(list: unknown, what: string, inside: boolean, file: string): FileEntry[] {
  if (!Array.isArray(list)) throw new VenvoyError(`${file}: ${what} is not a list`);
  for (const e of list) {
    const p = entryPath(e);
    const ok = typeof p === "string" &&
      (inside ? isNormalRelative(p) : isNormalRelative(p.replace(/^(\.\.\/)+/, "")));
    if (!ok) throw new VenvoyError(`${file}: ${what} has an invalid path ${JSON.stringify(p)}`);
    const t = (e as FileEntry).type;
    if (t === "file") {
      const f = e as { size?: unknown; sha256?: unknown };
      if (
        typeof f.sha256 !== "string" || !SHA_RE.test(f.sha256) || !Number.isSafeInteger(f.size) ||
        (f.size as number) < 0
      ) {
        throw new VenvoyError(`${file}: ${what} entry ${p} needs a size and a sha256`);
      }
    } else if (t !== "symlink" || typeof (e as { target?: unknown }).target !== "string") {
      throw new VenvoyError(`${file}: ${what} entry ${p} has an unknown type`);
    }
  }
  return list as FileEntry[];
}

/** Parses and checks a record (records arrive in archives: nothing is taken on trust). */
export function parseRecord(text: string, file: string): RunRecord {
  // deno-lint-ignore no-explicit-any
  let r: any;
  try {
    r = JSON.parse(text);
  } catch (e) {
    throw new VenvoyError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (r?.format !== RECORD_FORMAT || typeof r.format_version !== "number") {
    throw new VenvoyError(`${file} is not a venvoy run record`);
  }
  if (r.format_version > RECORD_FORMAT_VERSION) {
    throw new VenvoyError(`${file} is a newer record format (${r.format_version})`, {
      hint: "upgrade venvoy",
    });
  }
  if (typeof r.id !== "string" || !RECORD_ID_RE.test(r.id)) {
    throw new VenvoyError(`${file} has an invalid id`);
  }
  if (typeof r.command !== "string" || r.command === "") {
    throw new VenvoyError(`${file} has no command`);
  }
  checkEntries(r.inputs, "inputs", false, file);
  checkEntries(r.outputs, "outputs", true, file);
  // Normal relative paths only: `x/../../..` would lead verify's walk out of its scratch folder.
  for (const k of ["output_paths", "missing_outputs", "dirs_before"]) {
    const list = r[k];
    if (k === "dirs_before" && list === undefined) continue;
    if (!Array.isArray(list) || !list.every((p) => typeof p === "string" && isNormalRelative(p))) {
      throw new VenvoyError(
        `${file}: ${k} is not a list of plain relative paths inside the folder (no '..')`,
      );
    }
  }
  if (!Number.isInteger(r.exit_code)) throw new VenvoyError(`${file} has no exit_code`);
  return r as RunRecord;
}

/**
 * parseRecord, and the record's id must be its file name (`<id>.json`): ids are then unique
 * in a folder, and nothing that is keyed by the id (verify's scratch folders) is shared.
 */
export function parseRecordFile(text: string, file: string, idFromName: string): RunRecord {
  const r = parseRecord(text, file);
  if (r.id !== idFromName) {
    throw new VenvoyError(
      `${file}: its id ${JSON.stringify(r.id)} is not its file name (${idFromName}.json)`,
    );
  }
  return r;
}

export interface RecordListing {
  id: string;
  file: string;
  record: RunRecord | null;
  error: string | null;
}

/** The records of an environment, newest first; unreadable ones carry their error. */
export async function listRecords(projectDir: string): Promise<RecordListing[]> {
  const dir = recordsDir(projectDir);
  const out: RecordListing[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^(.+)\.json$/.exec(e.name);
      if (!e.isFile || !m || !RECORD_ID_RE.test(m[1])) continue;
      const file = join(dir, e.name);
      try {
        out.push({
          id: m[1],
          file,
          record: parseRecordFile(await Deno.readTextFile(file), file, m[1]),
          error: null,
        });
      } catch (err) {
        out.push({ id: m[1], file, record: null, error: (err as Error).message });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = (id: string) => id.replace(/-(\d+)$/, (_, n) => `-${n.padStart(4, "0")}`);
  return out.sort((a, b) => (key(a.id) < key(b.id) ? 1 : key(a.id) > key(b.id) ? -1 : 0));
}

/** One line per record for `history`, and its JSON form. */
export function recordSummary(r: RunRecord) {
  return {
    id: r.id,
    command: r.command,
    exit_code: r.exit_code,
    snapshot: r.snapshot,
    image_id: r.image_id,
    engine: r.engine,
    architecture: r.architecture,
    started: r.started,
    ended: r.ended,
    inputs: r.inputs.length,
    outputs: r.outputs.length,
    missing_outputs: r.missing_outputs,
  };
}

export interface RecordOptions {
  name?: string;
  command?: string;
  inputs?: string[];
  outputs?: string[];
}

export interface RecordContext extends RunContext {
  venvoyVersion: string;
  now?: () => Date;
}

export interface RecordResult {
  record: RunRecord;
  path: string;
}

/** Inputs as '/'-separated paths relative to cwd; each must exist. */
async function inputEntries(cwd: string, given: string[]) {
  const paths: string[] = [];
  const entries: FileEntry[] = [];
  for (const g of given) {
    const rel = relativeTo(cwd, g);
    const found = await collectEntries(cwd, rel === "" ? "." : rel);
    if (!found) {
      throw new UsageError(`input '${g}' does not exist`, { hint: "fix the path in --inputs" });
    }
    paths.push(rel === "" ? "." : rel);
    entries.push(...found);
  }
  return { paths, entries };
}

/**
 * Runs the command in the environment (src/session/run.ts, exactly as `venvoy run --command`),
 * then writes the run record. A failed command is recorded too; the caller learns its code
 * from the record. Missing outputs are recorded in `missing_outputs`.
 */
export async function recordRun(ctx: RecordContext, opts: RecordOptions): Promise<RecordResult> {
  const { runEnv } = await import("../session/run.ts");
  const { runtimeFor, imageFor } = await import("../session/mod.ts");
  const { loadEnv, pickEnvName } = await import("../env/store.ts");
  if (!opts.command) {
    throw new UsageError("record needs --command", {
      hint: 'e.g. venvoy record --command "python analysis.py" --outputs results/',
    });
  }
  const now = ctx.now ?? (() => new Date());
  const name = await pickEnvName(ctx.paths, { flag: opts.name }, ctx.note);
  const env = await loadEnv(ctx.paths, name);
  const outputPaths: string[] = [];
  for (const g of opts.outputs ?? []) {
    const rel = relativeTo(ctx.cwd, g);
    if (!isInside(rel)) {
      throw new UsageError(`output '${g}' is not inside the current folder`, {
        hint: "the command sees only this folder (at /workspace): name outputs inside it",
      });
    }
    if (await exists(join(ctx.cwd, rel))) {
      ctx.note(`${rel} exists before the run; what is there after the run is recorded`);
    }
    outputPaths.push(rel);
  }
  const inputs = await inputEntries(ctx.cwd, opts.inputs ?? []);
  const runtime = await runtimeFor(ctx, env);
  const image = imageFor(runtime, env);
  const info = await runtime.inspect(image);
  const projectDir = join(ctx.paths.projects, name);
  const snapshot = await snapshotId(env, projectDir).catch((e) => {
    ctx.note(`could not snapshot the package state: ${(e as Error).message}`);
    return null;
  });

  const dirsBefore = await foldersBefore(ctx.cwd, [...inputs.paths, ...outputPaths]);
  const started = now();
  let code = 0;
  try {
    const hooks = await import("../snapshot/env_hooks.ts");
    await runEnv(
      {
        autoSaver: hooks.startSessionAutoSave,
        savedUnchanged: hooks.unchangedSinceSaved,
        ...ctx,
      },
      { name, command: opts.command },
    );
  } catch (e) {
    if (!(e instanceof CommandExit)) throw e;
    code = e.exitCode;
  }
  const ended = now();

  const outputs: FileEntry[] = [];
  const missing: string[] = [];
  for (const rel of outputPaths) {
    const found = await collectEntries(ctx.cwd, rel);
    if (found) outputs.push(...found);
    else missing.push(rel);
  }
  await keepTextOutputs(projectDir, ctx.cwd, outputs);
  const dir = recordsDir(projectDir);
  await Deno.mkdir(dir, { recursive: true });
  const record: RunRecord = {
    format: RECORD_FORMAT,
    format_version: RECORD_FORMAT_VERSION,
    id: await freeRecordId(dir, ended),
    environment: name,
    command: opts.command,
    workdir: ctx.cwd,
    image,
    image_id: info?.id || (env.config.image_id as string | undefined) || null,
    snapshot,
    engine: runtime.name,
    architecture: Deno.build.arch,
    os: Deno.build.os,
    started: started.toISOString(),
    ended: ended.toISOString(),
    exit_code: code,
    input_paths: inputs.paths,
    output_paths: outputPaths,
    inputs: inputs.entries,
    outputs,
    missing_outputs: missing,
    dirs_before: dirsBefore,
    venvoy_version: ctx.venvoyVersion,
  };
  return { record, path: await writeRecord(projectDir, record) };
}

/** At most this many folders are recorded in dirs_before. */
const DIRS_BEFORE_MAX = 10000;

/**
 * The folders at and under `roots` (relative to cwd, inside it) as they are now, sorted;
 * links are not followed. `.` itself is left out: it is the scratch folder in a re-run.
 */
export async function foldersBefore(cwd: string, roots: string[]): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (rel: string) => {
    if (found.size >= DIRS_BEFORE_MAX) return;
    const st = await Deno.lstat(join(cwd, rel)).catch(() => null);
    if (!st?.isDirectory) return;
    if (rel !== ".") found.add(rel);
    for await (const e of Deno.readDir(join(cwd, rel))) {
      if (e.isDirectory) await visit(rel === "." ? e.name : `${rel}/${e.name}`);
    }
  };
  for (const r of roots) {
    if (r === "." || isNormalRelative(r)) await visit(r);
  }
  return [...found].sort();
}

/** The snapshot of the package state now (a new one only when it changed). */
async function snapshotId(
  env: { name: string; dir: string; config: object },
  projectDir: string,
): Promise<string> {
  const { captureSnapshot } = await import("../snapshot/autosave.ts");
  const { metaFromConfig } = await import("../snapshot/model.ts");
  const r = await captureSnapshot({
    envDir: env.dir,
    projectDir,
    name: env.name,
    meta: metaFromConfig(env.config as Record<string, unknown>),
  });
  return r.entry.id;
}

/** The records table `history` prints below the snapshots. */
export function renderRecords(
  name: string,
  records: RecordListing[],
  table: (rows: string[][]) => string,
): string {
  const rows = [["  RECORD", "EXIT", "SNAPSHOT", "IN", "OUT", "COMMAND"]];
  for (const l of records) {
    const r = l.record;
    if (!r) {
      rows.push([`  ${l.id}`, "?", "?", "?", "?", `unreadable: ${l.error}`]);
      continue;
    }
    const missing = r.missing_outputs.length ? ` (${r.missing_outputs.length} missing)` : "";
    rows.push([
      `  ${r.id}`,
      String(r.exit_code),
      r.snapshot ?? "-",
      String(r.inputs.length),
      `${r.outputs.length}${missing}`,
      r.command,
    ]);
  }
  return [
    `Recorded runs of '${name}' (venvoy record), newest first (UTC):`,
    "",
    table(rows).split("\n").map((l) => l.trimEnd()).join("\n"),
    "",
    `Prove them elsewhere: venvoy export --name ${name} --format archive --with-inputs, ` +
    "then venvoy verify FILE",
  ].join("\n");
}
