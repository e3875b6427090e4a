import { type Command, Option } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";
import type { ExportFormat, ExportProgress } from "../archive/mod.ts";
import type { PackageLists } from "../archive/manifest.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import type { LoadedEnv } from "../env/store.ts";
import type { ProgressMode } from "../ui/progress.ts";

/** The formats `export` writes. */
export const EXPORT_FORMATS = [
  "yaml",
  "dockerfile",
  "tarball",
  "archive",
] as const satisfies readonly ExportFormat[];

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

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("export")
    .description("write an environment to one file, to share or archive it")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .addOption(
      new Option(
        "--format <format>",
        "yaml: the package list (environment.yml, plus renv.lock for R); " +
          "dockerfile: a standalone Dockerfile; tarball: Dockerfile + wheels, builds offline; " +
          "archive: everything, image included, restorable offline",
      ).choices(EXPORT_FORMATS).makeOptionMandatory(),
    )
    .option(
      "-o, --output <path>",
      "the file to write, or a folder for it (default: <name>-<format>-YYYYMMDD_HHMMSS.<ext> here)",
    )
    .option("--force", "replace an existing output file")
    .option("--with-sif", "archive: add an Apptainer SIF as well (needs apptainer or singularity)")
    .option("--with-inputs", "archive: add the input files of the run records (venvoy record)")
    .option("--json", "print the result as JSON, for scripts")
    .addHelpText(
      "after",
      `
Formats:
  yaml     the latest snapshot as environment.yml (conda's format; pip pins under pip:),
           and for R environments a renv.lock beside it (<file stem>.renv.lock). The
           environment's current packages are snapshotted first if that is new.
  dockerfile  a standalone Dockerfile: the pinned base and every package at its pinned
           version; plain \`docker build\` or \`podman build\` builds it, no venvoy needed.
           --build-arg PIP_INDEX_URL=URL / PIP_CERT=PATH for a mirror or a proxy's CA.
           Its org.venvoy.* labels let \`venvoy import\` rebuild it as an environment.
  tarball  one .tar.gz: that Dockerfile using vendor/ wheels (venvoy freeze runs first if
           needed), requirements.lock with hashes, environment.yml, the environment's
           config (env/), a README and manifest.json. Extracted, it builds with
           \`podman build --network none .\`; \`venvoy import\` verifies and rebuilds it.
  archive  one .tar.gz: the image as a docker-archive (docker load, podman load, or
           apptainer build), environment.yml and renv.lock, the environment folder,
           manifest.json with every package and checksum, SHA256SUMS, restore.sh (restores
           without venvoy) and a README. See docs/archives.md.

The file is written under a hidden temporary name and renamed when complete. stdout gets
one line per file written, in \`sha256sum\` form (<sha256>  <path>); progress goes to stderr.

Examples:
  venvoy export --format archive                       the only environment, to ./
  venvoy export --name study --format archive -o /archive/
  venvoy export --name study --format yaml -o study.yml --force
  venvoy export --name study --format dockerfile -o Dockerfile
  venvoy export --name study --format tarball        builds offline once extracted
  venvoy export --name study --format archive > SUMS && sha256sum -c SUMS
  venvoy export --name study --format archive --json | jq -r .files[0].path
  venvoy export --name study --format archive --with-sif   also a SIF for HPC clusters

Bring it back with: venvoy import FILE [--name NEW]`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await exportCommand(makeContext(cmd.optsWithGlobals()), opts);
    });
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

export async function exportCommand(ctx: CommandContext, opts: ExportOptions): Promise<void> {
  const { info, out, printJson, warn } = await import("../ui/output.ts");
  const { default: denoJson } = await import("../../deno.json", { with: { type: "json" } });
  const res = await exportEnv(ctx, opts, {
    note: (m) => info(`venvoy: ${m}`),
    warn,
    cwd: Deno.cwd(),
    venvoyVersion: denoJson.version,
  });
  if (opts.json) return printJson(res);
  for (const f of res.files) out(`${f.sha256}  ${f.path}`);
  if (res.included) info(`Included: ${res.included.join(", ")}`);
  if (res.left_out?.length) {
    info(
      `Left out (personal, or not part of the environment): ${res.left_out.map(shown).join(", ")}`,
    );
  }
  const { formatBytes } = await import("../ui/progress.ts");
  const size = formatBytes(res.files.reduce((n, f) => n + f.size, 0));
  info(`Exported '${res.name}' (${res.format}, ${size}). Import it with: venvoy import FILE`);
  if (res.records?.count) {
    const r = res.records;
    info(
      `With ${r.count} run record(s)` +
        (opts.withInputs
          ? ` and their inputs: ${r.input_files} file(s), ${formatBytes(r.input_bytes)}`
          : "") +
        `. Check them with: venvoy verify FILE`,
    );
  }
}

/** A path for the terminal: control characters escaped (JSON-quoted) rather than sent raw. */
function shown(path: string): string {
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u001f\u007f]/.test(path) ? JSON.stringify(path) : path;
}

/** Where the output goes: --output (a file, or an existing folder) or the default name. */
export async function outputPath(
  name: string,
  format: ExportFormat,
  options: { output?: string; cwd: string; now?: Date },
): Promise<string> {
  const { defaultOutputName } = await import("../archive/mod.ts");
  const { UsageError } = await import("../ui/errors.ts");
  const { dirname, join, resolve } = await import("node:path");
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
  const { OutputExistsError } = await import("../archive/errors.ts");
  const st = await Deno.lstat(path).catch(() => null);
  if (!st) return;
  if (st.isDirectory) throw new OutputExistsError(`${path} is a folder`);
  if (!force) {
    throw new OutputExistsError(`${path} already exists`, {
      hint: "pass --force to replace it, or choose another --output",
    });
  }
}

/** Exports an environment; returns what was written (the command prints it). */
export async function exportEnv(
  ctx: CommandContext,
  opts: ExportOptions,
  deps: ExportDeps,
): Promise<ExportOutcome> {
  const { UsageError } = await import("../ui/errors.ts");
  const { loadEnv, pickEnvName } = await import("../env/store.ts");
  const { join } = await import("node:path");
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
    const { exportStandalone } = await import("../archive/tarball.ts");
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
  const { captureSnapshot, metaFromConfig } = await import("../snapshot/mod.ts");
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
  const { join } = await import("node:path");
  const { VenvoyError } = await import("../ui/errors.ts");
  const yml = join(projectDir, "environment.yml");
  let text: string;
  try {
    text = await Deno.readTextFile(yml);
  } catch {
    throw new VenvoyError(`there is no snapshot to export in ${projectDir}`, {
      hint: "see the warning above; `venvoy history` lists the snapshots",
    });
  }
  const files = [await writeNew(output, text, o.force)];
  const lock = await Deno.readTextFile(join(projectDir, "renv.lock")).catch(() => null);
  if (lock !== null && (o.withLock || /^#.*renv\.lock/m.test(text))) {
    files.push(await writeNew(lockPathFor(output), lock, o.force));
  }
  return files;
}

/** Writes a hidden temporary file beside `path`, then renames it into place. */
async function writeNew(path: string, text: string, force?: boolean): Promise<ExportedFile> {
  const { basename, dirname, join } = await import("node:path");
  const { createHash } = await import("node:crypto");
  await refuseExisting(path, force);
  const tmp = join(dirname(path), `.${basename(path)}.partial-${crypto.randomUUID().slice(0, 8)}`);
  const bytes = new TextEncoder().encode(text);
  try {
    await Deno.writeFile(tmp, bytes, { createNew: true, mode: 0o644 });
    await refuseExisting(path, force);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  return { path, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** The full package lists for the manifest: the current state, plus the image's OS list. */
export async function currentPackages(envDir: string): Promise<PackageLists | undefined> {
  const { join } = await import("node:path");
  const { readPackageState } = await import("../snapshot/mod.ts");
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

async function sifRuntimeFor(ctx: CommandContext): Promise<ContainerRuntime> {
  const { ApptainerRuntime, SingularityRuntime } = await import("../runtime/mod.ts");
  const { RuntimeUnavailableError } = await import("../ui/errors.ts");
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
  ctx: CommandContext,
  env: LoadedEnv,
  o: { output: string; projectDir: string; opts: ExportOptions; deps: ExportDeps },
): Promise<ExportOutcome> {
  const { exportArchive } = await import("../archive/mod.ts");
  const { runtimeFor } = await import("../session/mod.ts");
  const { Interrupted, interruptible, Progress } = await import("../ui/progress.ts");
  const { basename, dirname, join } = await import("node:path");
  // Run records (and with --with-inputs their inputs), checked before any slow work.
  const { addRecordMembers, planRecords } = await import("../proof/bundle.ts");
  const records = await planRecords(o.projectDir, { withInputs: o.opts.withInputs });
  for (const s of records.skipped) o.deps.warn(`left out an unreadable run record: ${s}`);
  // The engine that holds the image: --engine / VENVOY_ENGINE, else the one that built it.
  const runtime = await runtimeFor(ctx, env);
  let sifRuntime: ContainerRuntime | undefined;
  if (o.opts.withSif) {
    if (runtime.produces === "sif") {
      o.deps.note(`'${env.name}' is an ${runtime.name} environment: its SIF is in the archive`);
    } else sifRuntime = await sifRuntimeFor(ctx);
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
