/**
 * `venvoy verify ARCHIVE`: import the archive into a throwaway venvoy home (and, for podman,
 * a throwaway storage root; for apptainer, throwaway cache and temporary folders), place
 * each record's inputs in a scratch folder, run its command again, and compare every
 * output's sha256 with the record.
 */
import { join } from "node:path";
import type { ProcessRunner } from "../process/mod.ts";
import type { StatePaths } from "../env/paths.ts";
import type { Sandbox } from "../runtime/types.ts";
import { CommandExit, printable, UsageError, VenvoyError } from "../ui/errors.ts";
import { collectEntries, type FileEntry, firstDifference } from "../proof/files.ts";
import { withEnv } from "../proof/env_runner.ts";
import { blobPath, listRecords, RECORD_ID_RE, type RunRecord } from "../proof/record.ts";
import {
  copyNewContained,
  isNormalRelative,
  lstatContained,
  mkdirContained,
  readContained,
  symlinkNewContained,
} from "../util/safe_fs.ts";

export type OutputStatus = "same" | "differs" | "missing" | "extra";

export interface OutputCheck {
  path: string;
  status: OutputStatus;
  /** First differing byte, for text outputs whose recorded bytes the archive carries. */
  offset: number | null;
  expected_sha256: string | null;
  actual_sha256: string | null;
  note: string | null;
}

export interface RecordCheck {
  id: string;
  command: string;
  exit_code: { recorded: number; now: number };
  /** Recorded inputs the archive does not carry (exported without --with-inputs). */
  inputs_missing: string[];
  outputs: OutputCheck[];
  /** Why the re-run may differ for reasons of the sandbox (no network, the time limit). */
  notes: string[];
  same: boolean;
}

/** The confinement of the re-runs, as the report shows it. */
export interface SandboxReport {
  network: boolean;
  memory: string | null;
  pids: number | null;
  timeout_seconds: number | null;
  /** What this engine does not confine here (Apptainer: memory and processes). */
  notes: string[];
}

export interface VerifyReport {
  archive: string;
  engine: string;
  /** "throwaway": a storage root of its own; "shared": the engine's own store (docker). */
  storage: "throwaway" | "shared";
  architecture: { recorded: string[]; host: string; same: boolean };
  sandbox: SandboxReport;
  records: RecordCheck[];
  verdict: "same" | "differs";
  /** With --keep: the folder left behind. */
  kept: string | null;
}

export interface VerifyOptions {
  record?: string;
  keep?: boolean;
  /** Give the re-runs the engine's default network (off by default). */
  network?: boolean;
  /** Memory limit ("2g"); default DEFAULT_LIMITS.memory. */
  memory?: string;
  /** Process limit; default DEFAULT_LIMITS.pids. */
  pids?: number;
  /** Wall-clock limit per re-run; default DEFAULT_LIMITS.timeoutMs. */
  timeoutMs?: number;
}

/** The sandbox's limits unless raised (docs/proof.md). */
export const DEFAULT_LIMITS = { memory: "2g", pids: 512, timeoutMs: 60 * 60 * 1000 } as const;

/** A memory size as docker, podman and Apptainer take it: digits and an optional unit. */
export const MEMORY_RE = /^[1-9]\d{0,12}[bkmg]?$/i;

/** `--timeout`: 90s, 30m, 2h, or plain minutes; the result is milliseconds. */
export function parseTimeout(value: string): number {
  const m = /^(\d{1,6})([smh]?)$/.exec(value);
  const n = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, "": 60 }[m[2] as "s"] * 1000 : 0;
  if (n <= 0) {
    throw new UsageError(`invalid --timeout '${printable(value)}'`, {
      hint: "use seconds, minutes or hours: --timeout 90s, --timeout 30m, --timeout 2h",
    });
  }
  return n;
}

export interface VerifyContext {
  runner: ProcessRunner;
  engine: string | null;
  note: (msg: string) => void;
  /** The parent of the throwaway folders (default: the system's temporary folder). */
  tmpDir?: string;
}

/** x86_64/amd64 and aarch64/arm64 are the same machine. */
export function normalizeArch(a: string): string {
  const m: Record<string, string> = { amd64: "x86_64", x64: "x86_64", arm64: "aarch64" };
  return m[a] ?? a;
}

/** The variables that point each engine's storage at the throwaway folder. */
export function throwawayStorageEnv(root: string, storageConf: string): Record<string, string> {
  return {
    CONTAINERS_STORAGE_CONF: storageConf,
    APPTAINER_CACHEDIR: join(root, "apptainer-cache"),
    APPTAINER_TMPDIR: join(root, "apptainer-tmp"),
    SINGULARITY_CACHEDIR: join(root, "apptainer-cache"),
    SINGULARITY_TMPDIR: join(root, "apptainer-tmp"),
  };
}

/** storage.conf for a podman store of its own (graphroot, runroot) under `dir`. */
export function storageConf(dir: string): string {
  return `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/g"\nrunroot = "${dir}/r"\n`;
}

/**
 * Makes the folders that existed before the recorded run (RunRecord.dirs_before), then puts
 * the record's inputs (those the archive carries) in `scratch`; returns the ones it lacks.
 * Every path must be a plain relative path; files are created new and never through a link,
 * and links are made only after every file, so no input lands outside scratch.
 */
export function placeInputs(record: RunRecord, scratch: string, projectDir: string): string[] {
  const lacking: string[] = [];
  for (const d of record.dirs_before ?? []) {
    try {
      mkdirContained(scratch, d);
    } catch { /* a link or file is in the way: the re-run shows the difference */ }
  }
  const files = record.inputs.filter((i) => i.type === "file");
  const links = record.inputs.filter((i) => i.type === "symlink");
  for (const i of [...files, ...links]) {
    if (!isNormalRelative(i.path)) {
      lacking.push(i.path);
      continue;
    }
    try {
      if (i.type === "symlink") symlinkNewContained(scratch, i.path, i.target);
      else copyNewContained(blobPath(projectDir, i.sha256), scratch, i.path);
    } catch {
      lacking.push(i.path);
    }
  }
  return lacking;
}

/** Compares the outputs now in `scratch` with the record. */
export async function compareOutputs(
  record: RunRecord,
  scratch: string,
  projectDir: string,
): Promise<OutputCheck[]> {
  const actual = new Map<string, FileEntry>();
  for (const root of record.output_paths) {
    // Only a plain path with no link on the way: the walk stays inside scratch.
    if (!isNormalRelative(root) || !safeLstat(scratch, root)) continue;
    for (const e of (await collectEntries(scratch, root)) ?? []) actual.set(e.path, e);
  }
  const checks: OutputCheck[] = [];
  const sha = (e: FileEntry | undefined) => (e?.type === "file" ? e.sha256 : null);
  for (const e of record.outputs) {
    const a = actual.get(e.path);
    actual.delete(e.path);
    const c: OutputCheck = {
      path: e.path,
      status: "same",
      offset: null,
      expected_sha256: sha(e),
      actual_sha256: sha(a),
      note: null,
    };
    if (!a) c.status = "missing";
    else if (e.type === "symlink" || a.type === "symlink") {
      if (
        e.type !== a.type || (e.type === "symlink" && a.type === "symlink" && e.target !== a.target)
      ) {
        c.status = "differs";
        c.note = e.type === "symlink" ? `link to ${e.target}` : "a link now";
      }
    } else if (e.sha256 !== a.sha256) {
      c.status = "differs";
      // The offset needs both byte strings; a huge new output is not read into memory.
      if (e.kept && a.size <= 64 * 1024 * 1024) {
        const original = await Deno.readFile(blobPath(projectDir, e.sha256)).catch(() => null);
        const now = original && readOrNull(scratch, e.path);
        if (original && now) c.offset = firstDifference(original, now);
      }
    }
    checks.push(c);
  }
  for (const m of record.missing_outputs) {
    const present = [...actual.keys()].some((p) => p === m || p.startsWith(`${m}/`));
    if (!present) {
      checks.push({
        path: m,
        status: "missing",
        offset: null,
        expected_sha256: null,
        actual_sha256: null,
        note: "missing when recorded too",
      });
    }
  }
  for (const [p, a] of actual) {
    checks.push({
      path: p,
      status: "extra",
      offset: null,
      expected_sha256: null,
      actual_sha256: sha(a),
      note: "not in the record",
    });
  }
  return checks.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function safeLstat(root: string, rel: string): Deno.FileInfo | null {
  try {
    return lstatContained(root, rel);
  } catch {
    return null;
  }
}

function readOrNull(root: string, rel: string): Uint8Array | null {
  try {
    return readContained(root, rel, { maxBytes: 64 * 1024 * 1024 });
  } catch {
    return null;
  }
}

/** Usage errors (exit 2) for limits that no engine takes. */
export function checkLimits(opts: VerifyOptions): void {
  if (opts.memory !== undefined && !MEMORY_RE.test(opts.memory)) {
    throw new UsageError(`invalid --memory '${printable(opts.memory)}'`, {
      hint: "a size with a unit: --memory 4g, --memory 512m",
    });
  }
  if (opts.pids !== undefined && !(Number.isInteger(opts.pids) && opts.pids > 0)) {
    throw new UsageError(`invalid --pids '${opts.pids}'`, { hint: "a whole number: --pids 1024" });
  }
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0)) {
    throw new UsageError(`invalid --timeout`, { hint: "e.g. --timeout 30m" });
  }
}

/** The sandbox of the re-runs: the defaults, raised by the options; Apptainer's limits only when asked. */
export function sandboxFor(
  engine: string,
  opts: VerifyOptions,
  hostCwd: string,
): { sandbox: Sandbox; report: SandboxReport } {
  const sif = engine === "apptainer" || engine === "singularity";
  const notes: string[] = [];
  // Apptainer's limits need cgroups the site may not delegate (no systemd: it refuses to start).
  const memory = opts.memory ?? (sif ? null : DEFAULT_LIMITS.memory);
  const pids = opts.pids ?? (sif ? null : DEFAULT_LIMITS.pids);
  if (sif && (memory === null || pids === null)) {
    notes.push(
      `${engine}: memory and process limits are not applied unless given (--memory, --pids; ` +
        "they need cgroups the site delegates); the time limit is",
    );
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  const network = opts.network === true;
  if (network) notes.push("the re-runs have the network (--network)");
  return {
    sandbox: { network, memory, pids, timeoutMs, hostCwd },
    report: { network, memory, pids, timeout_seconds: Math.round(timeoutMs / 1000), notes },
  };
}

/** Imports, re-runs and compares; always cleans up unless `keep`. */
export async function verifyArchive(
  ctx: VerifyContext,
  archive: string,
  opts: VerifyOptions,
): Promise<VerifyReport> {
  const st = await Deno.stat(archive).catch(() => null);
  if (!st?.isFile) {
    throw new UsageError(`${printable(archive)}: ${st ? "not a file" : "no such file"}`, {
      hint: "give the path of an archive made by venvoy export --format archive",
    });
  }
  if (opts.record !== undefined && !RECORD_ID_RE.test(opts.record)) {
    throw new UsageError(
      `--record '${printable(opts.record)}' is not a record id (YYYYMMDD_HHMMSS)`,
      { hint: "venvoy history --name NAME lists the records" },
    );
  }
  checkLimits(opts);
  const { resolveRuntime } = await import("../runtime/mod.ts");
  const { importArchive } = await import("./import.ts");
  const { resolve } = await import("node:path");
  const archivePath = resolve(archive);

  const root = await Deno.makeTempDir({ dir: ctx.tmpDir, prefix: "venvoy-verify-" });
  // podman's runroot must stay short: a folder of its own, directly in the temporary folder.
  const store = await Deno.makeTempDir({ dir: ctx.tmpDir, prefix: "vvs-" });
  const conf = join(root, "storage.conf");
  await Deno.writeTextFile(conf, storageConf(store));
  for (const d of ["apptainer-cache", "apptainer-tmp", "home", "scratch"]) {
    await Deno.mkdir(join(root, d), { recursive: true });
  }
  const runner = withEnv(ctx.runner, throwawayStorageEnv(root, conf), { stdoutToStderr: true });
  const paths: StatePaths = {
    home: join(root, "home"),
    venvoyHome: join(root, "vh"),
    projects: join(root, "vp"),
    environments: join(root, "vh", "environments"),
    globalConfig: join(root, "vh", "config.yaml"),
  };
  const name = `verify-${crypto.randomUUID().slice(0, 8)}`;
  let image: string | null = null;
  let runtime: Awaited<ReturnType<typeof resolveRuntime>>["runtime"] | null = null;
  let done = false;
  try {
    runtime = (await resolveRuntime(runner, { engine: ctx.engine })).runtime;
    const storage = runtime.name === "docker" ? "shared" : "throwaway";
    ctx.note(
      `importing ${printable(archive)} into a throwaway home (${runtime.name}, ${
        storage === "shared"
          ? "its own image store, under a unique tag"
          : "a throwaway storage root"
      })`,
    );
    const imported = await importArchive(archivePath, {
      runtime,
      environmentsDir: paths.environments,
      projectsDir: paths.projects,
      name,
    });
    image = imported.image;
    const projectDir = join(paths.projects, name);
    const chosen = await chooseRecords(ctx, projectDir, archive, opts.record);
    const host = Deno.build.arch;
    const recordedArchs = [...new Set(chosen.map((r) => normalizeArch(r.architecture)))];
    const archSame = recordedArchs.every((a) => a === normalizeArch(host));
    if (!archSame) {
      ctx.note(
        `the records were made on ${printable(recordedArchs.join(", "))}, this host is ${host}: ` +
          "the same numbers are promised only on the same architecture",
      );
    }
    const scratchRoot = join(root, "scratch");
    const sb = sandboxFor(runtime.name, opts, scratchRoot);
    for (const n of sb.report.notes) ctx.note(n);
    if (!sb.sandbox.network && "sandboxRefusal" in runtime) {
      await refuseWithoutSandbox(runtime as SandboxProbe, image, sb.sandbox);
    }
    const checks: RecordCheck[] = [];
    for (const record of chosen) {
      checks.push(await rerun(ctx, record, { runner, paths, name, runtime, projectDir, sb }));
    }
    done = true;
    return {
      archive: archivePath,
      engine: runtime.name,
      storage,
      architecture: { recorded: recordedArchs, host, same: archSame },
      sandbox: sb.report,
      records: checks,
      verdict: checks.every((c) => c.same) ? "same" : "differs",
      kept: opts.keep ? root : null,
    };
  } finally {
    if (opts.keep) {
      ctx.note(
        `kept the throwaway home in ${root}` +
          (runtime?.name === "podman" ? ` and the podman storage in ${store} (${conf})` : ""),
      );
      if (!done) ctx.note("(verification did not finish)");
    } else {
      if (image && runtime && runtime.produces === "image") {
        await runtime.remove(image).catch(() => {});
      }
      await Deno.remove(root, { recursive: true }).catch(() => {});
      await Deno.remove(store, { recursive: true }).catch(() => {});
    }
  }
}

/** The records to re-run, oldest first (all, or the one --record names); refused ones are noted. */
async function chooseRecords(
  ctx: VerifyContext,
  projectDir: string,
  archive: string,
  only: string | undefined,
): Promise<RunRecord[]> {
  const listed = await listRecords(projectDir);
  for (const l of listed) {
    if (!l.record) ctx.note(`refused, not run: ${printable(l.error ?? l.file)}`);
  }
  const usable = listed.filter((l) => l.record).map((l) => l.record!).reverse();
  if (usable.length === 0) {
    throw new VenvoyError(`${printable(archive)} holds no run records`, {
      hint: 'record a run (venvoy record --command "..." --outputs ...), then export again',
    });
  }
  if (only === undefined) return usable;
  const chosen = usable.filter((r) => r.id === only);
  if (chosen.length === 0) {
    throw new UsageError(
      `no record ${only} in ${printable(archive)}; it holds: ${
        usable.map((r) => printable(r.id)).join(", ")
      }`,
      { hint: "pass one of those ids to --record, or leave --record out to check them all" },
    );
  }
  return chosen;
}

interface RerunContext {
  runner: ProcessRunner;
  paths: StatePaths;
  name: string;
  runtime: { name: string };
  projectDir: string;
  sb: { sandbox: Sandbox; report: SandboxReport };
}

/** One record: its own new scratch folder, its inputs, the sandboxed re-run, the comparison. */
async function rerun(ctx: VerifyContext, record: RunRecord, r: RerunContext): Promise<RecordCheck> {
  const { runEnv } = await import("../session/run.ts");
  const id = printable(record.id);
  // A folder of its own, never shared: Deno.mkdir without `recursive` fails if it exists.
  const scratch = join(r.sb.sandbox.hostCwd, record.id);
  await Deno.mkdir(r.sb.sandbox.hostCwd, { recursive: true });
  await Deno.mkdir(scratch);
  const lacking = placeInputs(record, scratch, r.projectDir);
  if (lacking.length) {
    ctx.note(
      `record ${id}: ${lacking.length} input(s) are not in the archive (e.g. ${
        printable(lacking[0])
      }); export with --with-inputs to carry them`,
    );
  }
  ctx.note(`re-running record ${id}: ${printable(record.command)}`);
  let code = 0;
  const started = Date.now();
  try {
    await runEnv({
      runner: r.runner,
      paths: r.paths,
      engine: r.runtime.name,
      cwd: scratch,
      note: ctx.note,
      terminal: { stdin: false, stdout: false },
      stdinData: false,
      autosave: false,
      sandbox: { ...r.sb.sandbox, hostCwd: scratch },
    }, { name: r.name, command: record.command, home: false });
  } catch (e) {
    if (!(e instanceof CommandExit)) throw e;
    code = e.exitCode;
  }
  const elapsed = Date.now() - started;
  const outputs = await compareOutputs(record, scratch, r.projectDir);
  const same = code === record.exit_code && outputs.every((o) => o.status === "same");
  const notes: string[] = [];
  const limit = r.sb.sandbox.timeoutMs;
  if (code !== 0 && limit !== null && elapsed >= limit) {
    notes.push(
      `the re-run was stopped at the time limit (${Math.round(limit / 1000)} s); ` +
        "verify --timeout raises it",
    );
  }
  if (!same && !r.sb.sandbox.network) {
    notes.push(
      "the re-run had no network: a record that needs it differs here; verify --network " +
        "gives it back (the archive's code then reaches your network)",
    );
  }
  return {
    id: record.id,
    command: record.command,
    exit_code: { recorded: record.exit_code, now: code },
    inputs_missing: lacking,
    outputs,
    notes,
    same,
  };
}

/** An engine that can tell whether the site lets a sandboxed run start (Apptainer). */
interface SandboxProbe {
  name: string;
  sandboxRefusal(image: string, sandbox: Sandbox): Promise<string | null>;
}

/** Fails closed, before any record runs, where the site forbids a run without network. */
async function refuseWithoutSandbox(rt: SandboxProbe, image: string, sandbox: Sandbox) {
  await Deno.mkdir(sandbox.hostCwd, { recursive: true });
  const refusal = await rt.sandboxRefusal(image, sandbox);
  if (refusal === null) return;
  const why = refusal.trim().split("\n").slice(-3).map((l) => printable(l)).join("\n");
  throw new VenvoyError(
    `${rt.name} here cannot start a re-run without network (--net --network none)` +
      (why ? `:\n${why}` : ""),
    {
      hint: "verify with podman or docker (venvoy --engine podman verify …), ask the site to " +
        "allow the 'none' network (apptainer.conf: allow net networks), or, trusting the " +
        "archive with your network, pass --network",
    },
  );
}

/**
 * The human form: one line per output, then the verdict, always the last line. Every
 * string from the archive (ids, the command, paths, notes) is escaped (printable): a
 * record cannot print a line, a colour or a fake verdict of its own.
 */
export function renderReport(r: VerifyReport): string {
  const lines: string[] = [];
  for (const c of r.records) {
    lines.push(`record ${printable(c.id)}: ${printable(c.command)}`);
    for (const o of c.outputs) {
      let extra = "";
      if (o.offset !== null) extra = ` (first difference at byte ${o.offset})`;
      else if (o.note) extra = ` (${printable(o.note)})`;
      lines.push(`  ${o.status.padEnd(8)} ${printable(o.path)}${extra}`);
    }
    if (c.outputs.length === 0) lines.push("  (the record names no outputs)");
    const ec = c.exit_code;
    lines.push(
      ec.now === ec.recorded
        ? `  exit code ${ec.now}, as recorded`
        : `  exit code ${ec.now}, recorded ${ec.recorded}: differs`,
    );
    for (const n of c.notes ?? []) lines.push(`  note: ${printable(n)}`);
  }
  const outs = r.records.flatMap((c) => c.outputs);
  const count = (s: OutputStatus) => outs.filter((o) => o.status === s).length;
  if (!r.architecture.same) {
    lines.push(
      `architecture: recorded on ${r.architecture.recorded.map((a) => printable(a)).join(", ")}, ` +
        `verified on ${r.architecture.host} (same numbers are promised only on the same ` +
        "architecture)",
    );
  }
  lines.push(
    r.verdict === "same"
      ? `verdict: same: ${outs.length} output(s) of ${r.records.length} record(s) reproduced`
      : `verdict: differs: ${count("same")} same, ${count("differs")} differ, ${
        count("missing")
      } missing, ${count("extra")} extra` +
        (r.records.some((c) => c.exit_code.now !== c.exit_code.recorded)
          ? ", an exit code differs"
          : ""),
  );
  return lines.join("\n");
}
