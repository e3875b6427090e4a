/**
 * `venvoy import`: any file venvoy export writes becomes an environment again. An archive is
 * verified and loaded (archive/import.ts), a tarball rebuilt offline (archive/tarball.ts), a
 * yaml or a venvoy Dockerfile rebuilt with initEnv from its base pin and its pins.
 */
import { basename, dirname, join } from "node:path";
import { parse } from "yaml";
import { detectFormat, importArchive, importFile, refuseExistingEnvironment } from "./mod.ts";
import type { ImportedEnvironment } from "./mod.ts";
import { importTarballOffline } from "./tarball.ts";
import { IMPORT_ACCEPTS } from "./formats.ts";
import { readGlobalConfig } from "../env/global.ts";
import { initEnv } from "../env/init.ts";
import type { StatePaths } from "../env/paths.ts";
import type { ProcessRunner } from "../process/mod.ts";
import { parseStandaloneDockerfile } from "../recipe/standalone.ts";
import { type ContainerRuntime, createRuntime, resolveRuntime } from "../runtime/mod.ts";
import * as snap from "../snapshot/mod.ts";
import { captureEnvSnapshot } from "../snapshot/env_hooks.ts";
import type { SnapshotMeta } from "../snapshot/model.ts";
import { printable, UsageError } from "../ui/errors.ts";
import { Interrupted, interruptible, Progress, type ProgressMode } from "../ui/progress.ts";
import { isValidName, validateName } from "../util/names.ts";

export { IMPORT_ACCEPTS };

/** What an import needs from the command: the process seam, the state folders, --engine. */
export interface ImportContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
}

export interface ImportOptions {
  name?: string;
  force?: boolean;
  json?: boolean;
}

export interface ImportOutcome {
  format: "archive" | "yaml" | "dockerfile";
  name: string;
  envDir: string;
  engine: string;
  image: string;
  imageId: string | null;
  /** The archive's origin (archive imports). */
  from?: { venvoy_version: string; created: string; engine: string };
  /** Snapshot files written. */
  snapshots: string[];
  /** yaml, dockerfile: pins in the file the new environment does not meet. */
  unmet: string[];
  /** archive: what its env/ held that export never writes, left out (import.ts). */
  dropped?: string[];
}

export interface ImportDeps {
  note: (msg: string) => void;
  warn: (msg: string) => void;
  venvoyVersion: string;
  progress?: ProgressMode;
  now?: Date;
  /** The engine to load into (tests); default: importRuntime(). */
  runtime?: ContainerRuntime;
  /** What rebuilds a yaml or Dockerfile import (tests); default: initEnv. */
  initEnv?: typeof initEnv;
}

/** The engine to load into: --engine, VENVOY_ENGINE, the global default, else detection. */
async function importRuntime(ctx: ImportContext): Promise<ContainerRuntime> {
  const engine = ctx.engine ?? ctx.runner.env("VENVOY_ENGINE") ??
    (await readGlobalConfig(ctx.paths)).engine ?? null;
  return (await resolveRuntime(ctx.runner, { engine })).runtime;
}

export async function importEnv(
  ctx: ImportContext,
  file: string,
  opts: ImportOptions,
  deps: ImportDeps & { archiveOnly: boolean },
): Promise<ImportOutcome> {
  const st = await Deno.stat(file).catch(() => null);
  if (!st?.isFile) {
    throw new UsageError(`${file}: ${st ? "not a file" : "no such file"}`, {
      hint: `give the path of ${deps.archiveOnly ? "a venvoy archive" : IMPORT_ACCEPTS}`,
    });
  }
  if (opts.name) validateName(opts.name);
  if (deps.archiveOnly) return await importArchiveFile(ctx, file, opts, deps);
  const kind = await detectFormat(file);
  if (kind === "dockerfile") return await importDockerfile(ctx, file, { opts, deps });
  if (kind === "yaml") return await importYaml(ctx, file, opts, deps);
  return await importArchiveFile(ctx, file, opts, deps);
}

async function importArchiveFile(
  ctx: ImportContext,
  file: string,
  opts: ImportOptions,
  deps: ImportDeps & { archiveOnly: boolean },
): Promise<ImportOutcome> {
  const runtime = deps.runtime ?? await importRuntime(ctx);
  const progress = await Progress.create({ mode: deps.progress });
  const verifying = `Verifying ${basename(file)}`;
  const loading = runtime.produces === "sif"
    ? `Building the SIF with ${runtime.name}`
    : `Loading the image into ${runtime.name}`;
  const options = (check: () => void) => ({
    runtime,
    environmentsDir: ctx.paths.environments,
    projectsDir: ctx.paths.projects,
    name: opts.name,
    force: opts.force,
    now: deps.now,
    onProgress: (read: number, total: number) => {
      check();
      progress.bytes(verifying, read, total);
      // Everything is read and checked; the engine's load (unmeasured) comes next.
      if (read >= total) progress.step(loading);
    },
  });
  let env: ImportedEnvironment;
  try {
    env = await interruptible(async (check) => {
      if (deps.archiveOnly) return await importArchive(file, options(check));
      const r = await importFile(file, options(check));
      if (r.format === "archive") return r.environment;
      if (r.format === "tarball") {
        // Recreated from the tarball's env/, then rebuilt from its vendor/, offline.
        progress.done();
        try {
          return await importTarballOffline(
            { ...ctx, note: deps.note, venvoyVersion: deps.venvoyVersion },
            r.verified,
            { name: opts.name, force: opts.force, engine: runtime.name },
          );
        } finally {
          await r.verified.cleanup();
        }
      }
      throw new UsageError(`${file} is a venvoy ${r.format}, which venvoy import does not take`, {
        hint: `venvoy import accepts ${IMPORT_ACCEPTS}`,
      });
    });
    progress.done();
  } catch (e) {
    progress.fail();
    if (e instanceof Interrupted) deps.note("import interrupted; nothing was kept");
    throw e;
  }
  const m = env.manifest;
  const dropped = env.dropped ?? [];
  if (dropped.length) {
    deps.warn(
      `left out of the import what venvoy export never writes into env/: ${
        dropped.map((d) => printable(d, 200)).join(", ")
      }`,
    );
  }
  return {
    format: "archive",
    name: env.name,
    envDir: env.envDir,
    engine: runtime.name,
    image: env.image,
    imageId: env.imageId,
    from: { venvoy_version: m.venvoy_version, created: m.created, engine: m.engine },
    snapshots: env.snapshots,
    unmet: [],
    dropped,
  };
}

/** The renv.lock that goes with a yaml file: `<stem>.renv.lock`, else renv.lock beside it. */
export async function lockBeside(file: string): Promise<string | null> {
  for (
    const p of [file.replace(/\.ya?ml$/i, "") + ".renv.lock", join(dirname(file), "renv.lock")]
  ) {
    if (await Deno.stat(p).then((s) => s.isFile, () => false)) return p;
  }
  return null;
}

/** requirements.txt (Python: name==version) or packages.txt (R: names) for the pins. */
export function requirementsText(
  runtime: "python" | "r",
  pkgs: { name: string; version: string }[],
  header: string,
): string {
  const lines = runtime === "r"
    ? pkgs.map((p) => p.name)
    : pkgs.map((p) => (p.version ? `${p.name}==${p.version}` : p.name));
  return `${header}\n${lines.join("\n")}\n`;
}

async function importYaml(
  ctx: ImportContext,
  file: string,
  opts: ImportOptions,
  deps: ImportDeps,
): Promise<ImportOutcome> {
  const { meta, state } = snap.parseEnvironmentYml(await Deno.readTextFile(file), file);
  const runtime = meta.runtime ?? (state.r.length ? "r" : "python");
  let rPkgs = state.r;
  if (runtime === "r") {
    const lock = await lockBeside(file);
    if (lock) {
      const parsedLock = snap.parseRenvLock(await Deno.readTextFile(lock), lock);
      rPkgs = parsedLock.packages;
      meta.rVersion ??= parsedLock.rVersion ?? undefined;
    } else {
      deps.warn(`no renv.lock beside ${basename(file)}: only the R version is restored`);
    }
  }
  return await rebuildFromPins(ctx, {
    file,
    format: "yaml",
    meta: { ...meta, runtime },
    pins: runtime === "r" ? rPkgs : state.python,
    conda: state.conda.length,
  }, { opts, deps });
}

/** A Dockerfile from `venvoy export --format dockerfile`, told by its org.venvoy.* labels. */
async function importDockerfile(
  ctx: ImportContext,
  file: string,
  options: { opts: ImportOptions; deps: ImportDeps },
): Promise<ImportOutcome> {
  const d = parseStandaloneDockerfile(await Deno.readTextFile(file));
  if (!d) {
    throw new UsageError(
      `${file} is a Dockerfile that venvoy did not write (it has no org.venvoy.* labels)`,
      {
        hint: `build it with docker or podman directly (podman build -f ${file} .); ` +
          `venvoy import accepts ${IMPORT_ACCEPTS}`,
      },
    );
  }
  if (d.offline) {
    throw new UsageError(`${file} is the Dockerfile of a venvoy tarball (it installs vendor/)`, {
      hint: "import the tarball itself (venvoy import NAME.tar.gz), or build the extracted " +
        "folder with podman build --network none .",
    });
  }
  return await rebuildFromPins(ctx, {
    file,
    format: "dockerfile",
    meta: {
      name: d.name,
      runtime: d.runtime,
      pythonVersion: d.runtime === "python" ? d.version ?? undefined : undefined,
      rVersion: d.runtime === "r" ? d.version ?? undefined : undefined,
      baseImage: d.baseImage ?? d.basePinned ?? undefined,
      baseImagePinned: d.basePinned ?? undefined,
      ...(d.asOf ? { asOf: d.asOf } : {}),
    },
    pins: d.runtime === "r" ? d.r : d.python,
    conda: d.conda.length,
  }, options);
}

/** What a yaml or Dockerfile import rebuilds from: venvoy's metadata and the pins. */
interface PinnedSource {
  file: string;
  format: "yaml" | "dockerfile";
  meta: SnapshotMeta & { runtime: "python" | "r" };
  pins: { name: string; version: string }[];
  /** conda packages in the file (not installed by a rebuild). */
  conda: number;
}

/**
 * The environment built again with initEnv from the base image, the interpreter version and
 * a requirements file of the pins; then snapshotted, and pins it does not meet reported.
 */
async function rebuildFromPins(
  ctx: ImportContext,
  source: PinnedSource,
  { opts, deps }: { opts: ImportOptions; deps: ImportDeps },
): Promise<ImportOutcome> {
  const { file, meta, pins, runtime } = { ...source, runtime: source.meta.runtime };
  const name = opts.name ?? meta.name;
  if (!name || !isValidName(name)) {
    throw new UsageError(
      name
        ? `the name in ${file}, '${name}', is not a valid environment name`
        : `${file} has no name`,
      { hint: "give one: venvoy import FILE --name my-project" },
    );
  }
  const envDir = join(ctx.paths.environments, name);
  await refuseExistingEnvironment(envDir, name, opts.force);
  if (source.conda) {
    deps.warn(
      `${source.conda} conda package(s) in ${basename(file)} are not installed by a ` +
        `${source.format} import; export an archive to carry them`,
    );
  }
  // A registry digest is portable and exact; a local image ID only means something on the
  // machine that made it, so the base's name is used then (and a different result reported).
  const base = meta.baseImagePinned?.includes("@sha256:") ? meta.baseImagePinned : meta.baseImage;
  const init = deps.initEnv ?? initEnv;
  // Named like venvoy's other temporary folders, so a sweep finds it if a kill left it.
  await Deno.mkdir(ctx.paths.environments, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: ctx.paths.environments, prefix: ".venvoy-import-" });
  const reqFile = join(tmp, runtime === "r" ? "packages.txt" : "requirements.txt");
  await Deno.writeTextFile(
    reqFile,
    requirementsText(
      runtime,
      pins,
      `# ${runtime === "r" ? "R packages" : "Python packages"} for '${name}', imported from ${
        basename(file)
      } by venvoy import.\n` +
        `# Edit, then: venvoy init --name ${name} --force`,
    ),
  );
  // --force replaces the folder (persist/ of the old environment would shadow the pins);
  // the old one is kept aside until the new one is built. Snapshot history is elsewhere.
  const aside = opts.force ? await moveAside(envDir) : null;
  let result;
  try {
    result = await init({
      runner: ctx.runner,
      paths: ctx.paths,
      engine: ctx.engine,
      venvoyVersion: deps.venvoyVersion,
      note: deps.note,
      quiet: deps.progress === "quiet",
      recordSnapshot: captureEnvSnapshot,
    }, {
      name,
      runtime,
      pythonVersion: runtime === "python" ? meta.pythonVersion : undefined,
      rVersion: runtime === "r" ? meta.rVersion : undefined,
      baseImage: base,
      requirements: reqFile,
      // environment.yml's x-venvoy.as_of, a Dockerfile's org.venvoy.as_of: the rebuild
      // resolves as of the same date.
      ...(meta.asOf ? { asOf: meta.asOf } : {}),
    });
  } catch (e) {
    if (aside) {
      await Deno.remove(envDir, { recursive: true }).catch(() => {});
      await Deno.rename(aside.dir, envDir).catch(() => {});
    }
    throw e;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  if (aside) {
    await Deno.remove(aside.dir, { recursive: true }).catch(() => {});
    const old = aside.config;
    if (
      old?.image_id && old.image_id !== result.config.image_id &&
      (old.engine === "podman" || old.engine === "docker")
    ) {
      await createRuntime(old.engine, ctx.runner).remove(old.image_id).catch(() => {});
    }
  }
  if (
    meta.baseImagePinned && result.config.base_image_pinned !== meta.baseImagePinned &&
    base === meta.baseImage
  ) {
    deps.warn(
      `the base ${base} is ${result.config.base_image_pinned} here, not ${meta.baseImagePinned} ` +
        "as where the file was made; the packages below are pinned all the same",
    );
  }
  // The new environment's state, as a snapshot, and the pins it does not meet.
  const projectDir = join(ctx.paths.projects, name);
  const captured = await snap.captureSnapshot({
    envDir: result.dir,
    projectDir,
    name,
    meta: snap.metaFromConfig(result.config as unknown as Record<string, unknown>),
  });
  const now = await snap.readPackageState(result.dir);
  const have = new Map(
    (runtime === "r" ? now.state.r : now.state.python).map((p) => [p.name, p.version]),
  );
  const unmet = pins.filter((p) => p.version && have.get(p.name) !== p.version).map((p) =>
    `${p.name} ${p.version} (here: ${have.get(p.name) ?? "missing"})`
  );
  for (const u of unmet) deps.warn(`not as pinned: ${printable(u)}`);
  return {
    format: source.format,
    name,
    envDir: result.dir,
    engine: result.config.engine,
    image: result.config.image,
    imageId: result.config.image_id,
    snapshots: captured.written
      ? [captured.entry.yml, join(dirname(captured.entry.yml), "environment.yml")]
      : [],
    unmet,
  };
}

async function moveAside(
  envDir: string,
): Promise<{ dir: string; config: { engine?: string; image_id?: string } | null } | null> {
  const st = await Deno.lstat(envDir).catch(() => null);
  if (!st) return null;
  let config = null;
  try {
    config = parse(await Deno.readTextFile(join(envDir, "config.yaml")));
  } catch { /* a folder without a readable config */ }
  const dir = join(
    dirname(envDir),
    `.${basename(envDir)}.replaced-${crypto.randomUUID().slice(0, 8)}`,
  );
  await Deno.rename(envDir, dir);
  return { dir, config };
}
