/**
 * `venvoy verify ARCHIVE`: import the archive into a throwaway venvoy home (and, for podman,
 * a throwaway storage root; for apptainer, throwaway cache and temporary folders), place
 * each record's inputs in a scratch folder, run its command again, and compare every
 * output's sha256 with the record.
 */
import { dirname, join } from "node:path";
import type { ProcessRunner } from "../process/mod.ts";
import type { StatePaths } from "../env/paths.ts";
import { CommandExit, UsageError, VenvoyError } from "../ui/errors.ts";
import { collectEntries, type FileEntry, firstDifference } from "../proof/files.ts";
import { withEnv } from "../proof/env_runner.ts";
import { blobPath, listRecords, RECORD_ID_RE, type RunRecord } from "../proof/record.ts";

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
  same: boolean;
}

export interface VerifyReport {
  archive: string;
  engine: string;
  /** "throwaway": a storage root of its own; "shared": the engine's own store (docker). */
  storage: "throwaway" | "shared";
  architecture: { recorded: string[]; host: string; same: boolean };
  records: RecordCheck[];
  verdict: "same" | "differs";
  /** With --keep: the folder left behind. */
  kept: string | null;
}

export interface VerifyOptions {
  record?: string;
  keep?: boolean;
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

/** Refuses a path whose folders include a link (a re-run must not lead verify outside). */
async function linkFree(root: string, rel: string): Promise<boolean> {
  const parts = rel.split("/");
  let p = root;
  for (const part of parts.slice(0, -1)) {
    p = join(p, part);
    const st = await Deno.lstat(p).catch(() => null);
    if (!st) return true;
    if (!st.isDirectory) return false;
  }
  return true;
}

/** Puts a record's inputs (those the archive carries) in `scratch`; returns the ones it lacks. */
export async function placeInputs(
  record: RunRecord,
  scratch: string,
  projectDir: string,
): Promise<string[]> {
  const lacking: string[] = [];
  // Files first, then links, and never through a link: nothing lands outside scratch.
  const ordered = [...record.inputs].sort((a, b) =>
    a.type === b.type ? 0 : a.type === "file" ? -1 : 1
  );
  for (const i of ordered) {
    if (i.path.startsWith("../") || !(await linkFree(scratch, i.path))) {
      lacking.push(i.path);
      continue;
    }
    const to = join(scratch, i.path);
    await Deno.mkdir(dirname(to), { recursive: true });
    if (i.type === "symlink") {
      await Deno.symlink(i.target, to).catch(() => lacking.push(i.path));
      continue;
    }
    const blob = blobPath(projectDir, i.sha256);
    try {
      await Deno.copyFile(blob, to);
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
    if (!(await linkFree(scratch, root))) continue;
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
        if (original) {
          c.offset = firstDifference(original, await Deno.readFile(join(scratch, e.path)));
        }
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

/** Imports, re-runs and compares; always cleans up unless `keep`. */
export async function verifyArchive(
  ctx: VerifyContext,
  archive: string,
  opts: VerifyOptions,
): Promise<VerifyReport> {
  const st = await Deno.stat(archive).catch(() => null);
  if (!st?.isFile) {
    throw new UsageError(`${archive}: ${st ? "not a file" : "no such file"}`, {
      hint: "give the path of an archive made by venvoy export --format archive",
    });
  }
  if (opts.record !== undefined && !RECORD_ID_RE.test(opts.record)) {
    throw new UsageError(`--record '${opts.record}' is not a record id (YYYYMMDD_HHMMSS)`, {
      hint: "venvoy history --name NAME lists the records",
    });
  }
  const { resolveRuntime } = await import("../runtime/mod.ts");
  const { importArchive } = await import("./import.ts");
  const { runEnv } = await import("../session/run.ts");
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
      `importing ${archive} into a throwaway home (${runtime.name}, ${
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
    const listed = await listRecords(projectDir);
    const usable = listed.filter((l) => l.record).map((l) => l.record!).reverse();
    if (usable.length === 0) {
      throw new VenvoyError(`${archive} holds no run records`, {
        hint: 'record a run (venvoy record --command "..." --outputs ...), then export again',
      });
    }
    let chosen = usable;
    if (opts.record !== undefined) {
      chosen = usable.filter((r) => r.id === opts.record);
      if (chosen.length === 0) {
        throw new UsageError(
          `no record ${opts.record} in ${archive}; it holds: ${usable.map((r) => r.id).join(", ")}`,
          { hint: "pass one of those ids to --record, or leave --record out to check them all" },
        );
      }
    }
    const host = Deno.build.arch;
    const recordedArchs = [...new Set(chosen.map((r) => normalizeArch(r.architecture)))];
    const archSame = recordedArchs.every((a) => a === normalizeArch(host));
    if (!archSame) {
      ctx.note(
        `the records were made on ${recordedArchs.join(", ")}, this host is ${host}: the same ` +
          "numbers are promised only on the same architecture",
      );
    }
    const checks: RecordCheck[] = [];
    for (const record of chosen) {
      const scratch = join(root, "scratch", record.id);
      await Deno.mkdir(scratch, { recursive: true });
      const lacking = await placeInputs(record, scratch, projectDir);
      if (lacking.length) {
        ctx.note(
          `record ${record.id}: ${lacking.length} input(s) are not in the archive (e.g. ${
            lacking[0]
          }); export with --with-inputs to carry them`,
        );
      }
      ctx.note(`re-running record ${record.id}: ${record.command}`);
      let code = 0;
      try {
        await runEnv({
          runner,
          paths,
          engine: runtime.name,
          cwd: scratch,
          note: ctx.note,
          terminal: { stdin: false, stdout: false },
          stdinData: false,
          autosave: false,
        }, { name, command: record.command, home: false });
      } catch (e) {
        if (!(e instanceof CommandExit)) throw e;
        code = e.exitCode;
      }
      const outputs = await compareOutputs(record, scratch, projectDir);
      checks.push({
        id: record.id,
        command: record.command,
        exit_code: { recorded: record.exit_code, now: code },
        inputs_missing: lacking,
        outputs,
        same: code === record.exit_code && outputs.every((o) => o.status === "same"),
      });
    }
    done = true;
    return {
      archive: archivePath,
      engine: runtime.name,
      storage,
      architecture: { recorded: recordedArchs, host, same: archSame },
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

/** The human form: one line per output, then the verdict. */
export function renderReport(r: VerifyReport): string {
  const lines: string[] = [];
  for (const c of r.records) {
    lines.push(`record ${c.id}: ${c.command}`);
    for (const o of c.outputs) {
      let extra = "";
      if (o.offset !== null) extra = ` (first difference at byte ${o.offset})`;
      else if (o.note) extra = ` (${o.note})`;
      lines.push(`  ${o.status.padEnd(8)} ${o.path}${extra}`);
    }
    if (c.outputs.length === 0) lines.push("  (the record names no outputs)");
    const ec = c.exit_code;
    lines.push(
      ec.now === ec.recorded
        ? `  exit code ${ec.now}, as recorded`
        : `  exit code ${ec.now}, recorded ${ec.recorded}: differs`,
    );
  }
  const outs = r.records.flatMap((c) => c.outputs);
  const count = (s: OutputStatus) => outs.filter((o) => o.status === s).length;
  if (!r.architecture.same) {
    lines.push(
      `architecture: recorded on ${r.architecture.recorded.join(", ")}, verified on ` +
        `${r.architecture.host} (same numbers are promised only on the same architecture)`,
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
