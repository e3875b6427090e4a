/**
 * `venvoy export`, the domain part: checks the options, snapshots the environment's state,
 * and writes the yaml (+ renv.lock), the standalone Dockerfile, the offline tarball or the
 * archive (with run records). The command (src/commands/export.ts) prints the result.
 */
import { basename, dirname, join, resolve } from "node:path";
import { refuseExistingOutput } from "./errors.ts";
import { defaultOutputName, exportArchive, type ExportFormat, type ExportProgress } from "./mod.ts";
import type { PackageLists } from "./manifest.ts";
import { exportStandalone } from "./tarball.ts";
import { writeOutputFile } from "./writer.ts";
import { EXPORT_FORMATS } from "./formats.ts";
import type { StatePaths } from "../env/paths.ts";
import { type LoadedEnv, loadEnv, pickEnvName } from "../env/store.ts";
import type { ProcessRunner } from "../process/mod.ts";
import { addRecordMembers, planRecords } from "../proof/bundle.ts";
import { ApptainerRuntime, type ContainerRuntime, SingularityRuntime } from "../runtime/mod.ts";
import { runtimeFor } from "../session/mod.ts";
import { captureSnapshot, metaFromConfig, readPackageState } from "../snapshot/mod.ts";
import { RuntimeUnavailableError, UsageError, VenvoyError } from "../ui/errors.ts";
import { Interrupted, interruptible, Progress, type ProgressMode } from "../ui/progress.ts";

/** What an export needs from the command: the process seam, the state folders, --engine. */
export interface ExportContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
}

export interface ExportOptions {
  name?: string;
  format: string;
  output?: string;
  force?: boolean;
  withSif?: boolean;
  /** archive: carry the run records' input files too (src/proof/bundle.ts). */
  withInputs?: boolean;
  json?: boolean;
}

export interface ExportedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ExportOutcome {
  name: string;
  format: ExportFormat;
  files: ExportedFile[];
  /** archive: files of the environment folder left out (sockets, links leading outside). */
  skipped: string[];
  /** archive: what went in, by the allow-list (also manifest.json's `included`). */
  included?: string[];
  /** archive: what the allow-list kept out (persist/home, credentials, unknown files). */
  left_out?: string[];
  /** archive: the run records carried, and the input files with --with-inputs. */
  records?: { count: number; input_files: number; input_bytes: number };
}

export interface ExportDeps {
  /** Messages for people (stderr). */
  note: (msg: string) => void;
  warn: (msg: string) => void;
  cwd: string;
  venvoyVersion: string;
  progress?: ProgressMode;
  now?: Date;
}

/** Where the output goes: --output (a file, or an existing folder) or the default name. */
export async function outputPath(
  name: string,
  format: ExportFormat,
  options: { output?: string; cwd: string; now?: Date },
): Promise<string> {
  const fallback = defaultOutputName(name, format, options.now);
  if (!options.output) return join(options.cwd, fallback);
  const given = resolve(options.cwd, options.output);
  const st = await Deno.stat(given).catch(() => null);
  if (st?.isDirectory || options.output.endsWith("/")) return join(given, fallback);
  const parent = dirname(given);
  const pst = await Deno.stat(parent).catch(() => null);
  if (!pst?.isDirectory) {
    throw new UsageError(`the folder of --output ${options.output} does not exist`, {
      hint: `create it first: mkdir -p ${parent}`,
    });
  }
  return given;
}

async function refuseExisting(path: string, force?: boolean): Promise<void> {
  await refuseExistingOutput(path, force);
}

/** Exports an environment; returns what was written (the command prints it). */
export async function exportEnv(
  ctx: ExportContext,
  opts: ExportOptions,
  deps: ExportDeps,
): Promise<ExportOutcome> {
  const format = opts.format as ExportOutcome["format"];
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown --format '${opts.format}'`, {
      hint: `export writes ${EXPORT_FORMATS.join(" or ")} today`,
    });
  }
  if (opts.withInputs && format !== "archive") {
    throw new UsageError("--with-inputs goes with --format archive", {
      hint: "venvoy export --format archive --with-inputs",
    });
  }
  if (opts.withSif && format !== "archive") {
    throw new UsageError("--with-sif goes with --format archive", {
      hint: "venvoy export --format archive --with-sif",
    });
  }
  const name = await pickEnvName(ctx.paths, { flag: opts.name }, deps.note);
  const env = await loadEnv(ctx.paths, name);
  const output = await outputPath(name, format, {
    output: opts.output,
    cwd: deps.cwd,
    now: deps.now,
  });
  // Fail before any slow work; the writers check again just before their rename.
  await refuseExisting(output, opts.force);
  const projectDir = join(ctx.paths.projects, name);
  const captured = await snapshotNow(env.dir, projectDir, env).catch((e) => {
    deps.warn(`could not snapshot '${name}' first: ${(e as Error).message}`);
  });
  if (captured?.written) deps.note(`saved the current packages as snapshot ${captured.id}`);

  if (format === "yaml") {
    const files = await writeYamlExport(projectDir, output, {
      force: opts.force,
      withLock: env.config.runtime === "r",
    });
    return { name, format, files, skipped: [] };
  }
  if (format === "dockerfile" || format === "tarball") {
    const file = await exportStandalone(
      { ...ctx, note: deps.note, venvoyVersion: deps.venvoyVersion, now: deps.now },
      env,
      { format, output, projectDir, force: opts.force },
    );
    return { name, format, files: [file], skipped: [] };
  }
  return await writeArchiveExport(ctx, env, { output, projectDir, opts, deps });
}

/** captureSnapshot: a new snapshot only if the packages changed since the latest one. */
async function snapshotNow(
  envDir: string,
  projectDir: string,
  env: { name: string; config: object },
): Promise<{ written: boolean; id: string }> {
  const r = await captureSnapshot({
    envDir,
    projectDir,
    name: env.name,
    meta: metaFromConfig(env.config as Record<string, unknown>),
  });
  return { written: r.written, id: r.entry.id };
}

/** The renv lock written beside a yaml export: `<stem>.renv.lock`. */
export function lockPathFor(yamlPath: string): string {
  return yamlPath.replace(/\.ya?ml$/i, "") + ".renv.lock";
}

async function writeYamlExport(
  projectDir: string,
  output: string,
  o: { force?: boolean; withLock: boolean },
): Promise<ExportedFile[]> {
  const yml = join(projectDir, "environment.yml");
  let text: string;
  try {
    text = await Deno.readTextFile(yml);
  } catch {
    throw new VenvoyError(`there is no snapshot to export in ${projectDir}`, {
      hint: "see the warning above; `venvoy history` lists the snapshots",
    });
  }
  const files = [await writeOutputFile(output, text, o.force)];
  const lock = await Deno.readTextFile(join(projectDir, "renv.lock")).catch(() => null);
  if (lock !== null && (o.withLock || /^#.*renv\.lock/m.test(text))) {
    files.push(await writeOutputFile(lockPathFor(output), lock, o.force));
  }
  return files;
}

/** The full package lists for the manifest: the current state, plus the image's OS list. */
export async function currentPackages(envDir: string): Promise<PackageLists | undefined> {
  try {
    const { state } = await readPackageState(envDir);
    let os: PackageLists["os"] = [];
    try {
      const base = JSON.parse(await Deno.readTextFile(join(envDir, "base-packages.json")));
      if (Array.isArray(base?.os)) os = base.os;
    } catch { /* no OS list recorded */ }
    const entries = (l: { name: string; version: string }[]) => l.map((p) => ({ ...p }));
    return { python: entries(state.python), conda: entries(state.conda), r: entries(state.r), os };
  } catch {
    return undefined; // exportArchive falls back to base-packages.json
  }
}

function sifRuntimeFor(ctx: ExportContext): ContainerRuntime {
  const apptainer = ctx.runner.which("apptainer");
  if (apptainer) return new ApptainerRuntime(ctx.runner, apptainer);
  const singularity = ctx.runner.which("singularity");
  if (singularity) return new SingularityRuntime(ctx.runner, singularity);
  throw new RuntimeUnavailableError("--with-sif needs apptainer or singularity, found neither", {
    hint: "install Apptainer, or export without --with-sif (the archive's docker-archive " +
      "builds a SIF later: ./restore.sh apptainer)",
  });
}

async function writeArchiveExport(
  ctx: ExportContext,
  env: LoadedEnv,
  o: { output: string; projectDir: string; opts: ExportOptions; deps: ExportDeps },
): Promise<ExportOutcome> {
  // Run records (and with --with-inputs their inputs), checked before any slow work.
  const records = await planRecords(o.projectDir, { withInputs: o.opts.withInputs });
  for (const s of records.skipped) o.deps.warn(`left out an unreadable run record: ${s}`);
  // The engine that holds the image: --engine / VENVOY_ENGINE, else the one that built it.
  const runtime = await runtimeFor(ctx, env);
  let sifRuntime: ContainerRuntime | undefined;
  if (o.opts.withSif) {
    if (runtime.produces === "sif") {
      o.deps.note(`'${env.name}' is an ${runtime.name} environment: its SIF is in the archive`);
    } else sifRuntime = sifRuntimeFor(ctx);
  }
  const packages = await currentPackages(env.dir);
  const progress = await Progress.create({ mode: o.deps.progress });
  const labels: Record<ExportProgress["phase"], string> = {
    save: `Saving the image from ${runtime.name}`,
    sif: `Building a SIF with ${sifRuntime?.name ?? "apptainer"}`,
    write: `Writing ${basename(o.output)}`,
  };
  let saved = 0;
  // The image is spooled in a hidden folder of ours beside the output, removed in any case.
  const spoolDir = join(dirname(o.output), `.venvoy-export-${crypto.randomUUID().slice(0, 8)}`);
  try {
    const res = await interruptible((check) =>
      exportArchive({
        runner: ctx.runner,
        runtime,
        sifRuntime,
        envDir: env.dir,
        output: o.output,
        force: o.opts.force,
        venvoyVersion: o.deps.venvoyVersion,
        snapshotDir: o.projectDir,
        packages,
        spoolDir,
        now: o.deps.now,
        onWarning: (m) => o.deps.warn(m),
        extraMembers: (writer) => addRecordMembers(writer, records),
        onProgress: (p) => {
          check();
          if (p.phase === "save") saved = p.bytes;
          if (p.phase === "sif") progress.step(labels.sif);
          else progress.bytes(labels[p.phase], p.bytes, p.phase === "write" ? saved : undefined);
        },
      })
    );
    progress.done();
    const inPersist = res.skipped.filter((s) => s.startsWith("persist/"));
    for (const s of res.skipped.filter((s) => !s.startsWith("persist/"))) {
      o.deps.warn(`left out of the archive: ${s} (not a regular file, or a link leading outside)`);
    }
    if (inPersist.length) {
      o.deps.note(
        `left out ${inPersist.length} link(s) into the image from persist/ (e.g. ${
          inPersist[0]
        }); the next session recreates them`,
      );
    }
    return {
      name: env.name,
      format: "archive",
      files: [{ path: res.path, size: res.size, sha256: res.sha256 }],
      skipped: res.skipped,
      included: res.manifest.included ?? [],
      left_out: res.leftOut,
      records: {
        count: records.records.length,
        input_files: records.inputFiles,
        input_bytes: records.inputBytes,
      },
    };
  } catch (e) {
    progress.fail();
    if (e instanceof Interrupted) {
      o.deps.note("export interrupted; its temporary files were removed");
    }
    throw e;
  } finally {
    await Deno.remove(spoolDir, { recursive: true }).catch(() => {});
  }
}
