/**
 * `venvoy init`: validate, pin the base, write the environment folder, build through the
 * chosen runtime (a SIF from the OCI image, or from a definition, for Apptainer), list
 * what the image contains, and record config.yaml last.
 */
import { join } from "node:path";
import {
  type BuildSpec,
  definition,
  detectConda,
  dockerfile,
  DOCKERIGNORE,
  type Kind,
  LOCK_FILE,
  PERSIST_DIR,
  supportFiles,
} from "../recipe/mod.ts";
import type { ProcessRunner } from "../process/mod.ts";
import {
  type ApptainerRuntime,
  type ContainerRuntime,
  createRuntime,
  type Detection,
  resolveRuntime,
} from "../runtime/mod.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { captureImage, writeBasePackages } from "./capture.ts";
import { hostCaBundle, hostPlatform, hostUser } from "./host.ts";
import { type EnvConfig, readConfig, writeConfig } from "./config.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { readGlobalConfig } from "./global.ts";
import { imageTag, validateName } from "../util/names.ts";
import type { StatePaths } from "./paths.ts";
import { checkPinned, type Pin, pinBase } from "./pin.ts";
import { withProgress } from "../ui/progress.ts";
import { checkImageRef } from "../util/grammar.ts";
import { ownerLabels } from "./owner.ts";
import {
  cranUrlFor,
  DEFAULT_NAME,
  defaultBaseImage,
  parseAsOf,
  parseCranUrl,
  parseRuntime,
  parseVersion,
} from "./spec.ts";
import { envDir, envExists } from "./store.ts";

export interface InitOptions {
  name?: string;
  runtime?: string;
  pythonVersion?: string;
  rVersion?: string;
  baseImage?: string;
  requirements?: string;
  force?: boolean;
  /**
   * Rebuild from vendor/ (written by `venvoy freeze`) with networking disabled: nothing is
   * pulled or downloaded, which proves the environment rebuilds with no network at all.
   */
  offline?: boolean;
  /**
   * `--as-of YYYY-MM-DD` ("none" drops a recorded date): Python packages resolve as the
   * index was that day. Kept by --force rebuilds when not given.
   */
  asOf?: string;
  /** `--cran-url URL` (R): the CRAN repository; {date} becomes the --as-of date. */
  cranUrl?: string;
}

export interface InitContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
  venvoyVersion: string;
  /** Messages for people (stderr). */
  note: (msg: string) => void;
  quiet?: boolean;
  /** Host user for runs (tests inject it). */
  user?: { uid: number; gid: number };
  now?: () => Date;
  /**
   * Records the state the build starts from as a snapshot (snapshot/env_hooks.ts
   * captureEnvSnapshot), given by the caller so env/ loads no snapshot code. Absent: none.
   */
  recordSnapshot?: (
    env: { dir: string; name: string; config: EnvConfig },
    projects: string,
  ) => Promise<void>;
}

export interface InitResult {
  dir: string;
  config: EnvConfig;
  /** The image ID did not change: the build was served from the cache. */
  unchanged: boolean;
}

/** Lines of a requirements or packages file that name something. */
export function listedPackages(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter((l) =>
    l && !l.startsWith("-")
  );
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

async function writeIfMissing(path: string, text: string): Promise<void> {
  if ((await readIfExists(path)) === null) await writeFileAtomic(path, text);
}

/** Writes a file only when its content changes, so build-context timestamps stay put. */
async function writeIfChanged(path: string, text: string): Promise<void> {
  if ((await readIfExists(path)) !== text) await writeFileAtomic(path, text);
}

/** What a person asked for, checked, with what the environment recorded before. */
interface InitRequest {
  name: string;
  runtimeKind: "python" | "r";
  version: string;
  dir: string;
  exists: boolean;
  previous: EnvConfig | null;
  requirementsText: string | null;
  asOf: string | null;
  cranTemplate: string | null;
  cranUrl: string | null;
}

/** The engine that runs the environment, and the OCI engine that builds it (if any). */
interface InitEngines {
  runtime: ContainerRuntime;
  /** podman or docker: the runtime itself, or the helper that builds for Apptainer. */
  builder: ContainerRuntime | null;
}

/**
 * Creates or rebuilds an environment, step by step: check the request, choose the engines,
 * pin the base, write the folder, build (and convert to a SIF), list the image's contents,
 * record config.yaml and a snapshot, and drop the image a rebuild replaced.
 */
export async function initEnv(ctx: InitContext, opts: InitOptions): Promise<InitResult> {
  const req = await checkRequest(ctx, opts);
  const { runtime, builder } = await chooseEngines(ctx, req, opts);
  const { baseImage, kind, pin } = await pinTheBase(req, { opts, builder });
  const spec = await buildSpec(ctx, req, { kind, pin, builder, offline: opts.offline });
  const files = await writeEnvFolder(ctx, req, { spec, kind, pin, baseImage, runtime, builder });
  const { imageRef, ociId } = await buildImage(req, { spec, runtime, builder, ctx, opts });
  const imageId = runtime.produces === "sif"
    ? (await runtime.inspect(imageRef))?.id ?? null
    : ociId;
  const { previous, dir } = req;
  const unchanged = !!previous && previous.image_id === imageId && previous.engine === runtime.name;
  const recordedVersion = await listContents(ctx, req, {
    opts,
    runtime,
    builder,
    imageRef,
    baseImage,
    unchanged,
  });
  // The record, last: an environment exists once config.yaml does.
  const config = configFor(ctx, req, {
    runtime,
    baseImage,
    kind,
    pin,
    imageRef,
    imageId,
    files,
    recordedVersion,
  });
  await writeConfig(dir, config);
  // The state this build starts from becomes a snapshot (unless it is the latest already).
  await recordSnapshot(ctx, dir, config);
  await dropReplacedImage(previous, { runtime, ociId });
  return { dir, config, unchanged };
}

/**
 * Step 6: what the image contains (base-packages.json), and the version check against the
 * base; skipped when the image is unchanged, was listed before and no other version is
 * asked for. R without --r-version on a given (or recorded) base takes the image's R.
 * Returns the version to record.
 */
async function listContents(
  ctx: InitContext,
  req: InitRequest,
  a: {
    opts: InitOptions;
    runtime: ContainerRuntime;
    builder: ContainerRuntime | null;
    imageRef: string;
    baseImage: string;
    unchanged: boolean;
  },
): Promise<string> {
  const { dir, previous, runtimeKind, version } = req;
  const { opts, runtime, imageRef, baseImage, builder } = a;
  const rFromImage = runtimeKind === "r" && opts.rVersion === undefined &&
    (opts.baseImage ?? previous?.base_image) !== undefined;
  const expect = rFromImage ? null : version;
  const recorded = runtimeKind === "r" ? previous?.r_version : previous?.python_version;
  const listed = await Deno.stat(join(dir, "base-packages.json")).then(() => true, () => false);
  if (a.unchanged && listed && (expect === null || expect === recorded)) {
    return rFromImage ? previous?.r_version ?? version : version;
  }
  const checked = { ...ctx, runtime, imageRef, dir, runtimeKind, version, expect, baseImage };
  return await checkContents(checked).catch(async (e) => {
    // A new environment whose image is not what was asked for leaves no image behind.
    if (!previous && builder) await builder.remove(imageTag(req.name)).catch(() => {});
    throw e;
  });
}

/** Step 8: the image a rebuild replaced is untagged now; drop it unless something uses it. */
async function dropReplacedImage(
  previous: EnvConfig | null,
  a: { runtime: ContainerRuntime; ociId: string | null },
): Promise<void> {
  const { runtime, ociId } = a;
  if (
    previous?.image_id && previous.image_id !== ociId && previous.engine === runtime.name &&
    runtime.produces === "image"
  ) {
    await runtime.remove(previous.image_id).catch(() => {});
  }
}

/** Step 1: everything a person typed is checked before anything changes. */
async function checkRequest(ctx: InitContext, opts: InitOptions): Promise<InitRequest> {
  const name = validateName(opts.name ?? DEFAULT_NAME);
  const runtimeKind = parseRuntime(opts.runtime);
  const version = parseVersion(
    runtimeKind,
    runtimeKind === "python" ? opts.pythonVersion : opts.rVersion,
  );
  if (runtimeKind === "python" && opts.rVersion) {
    throw new UsageError("--r-version needs --runtime r", {
      hint: `venvoy init --runtime r --r-version ${opts.rVersion}`,
    });
  }
  if (runtimeKind === "r" && opts.pythonVersion) {
    throw new UsageError("--python-version is for Python environments", {
      hint: "drop it, or use --runtime python",
    });
  }
  // The base goes into FROM / `From:`: it must be an image reference (or a .sif path).
  if (opts.baseImage !== undefined) {
    checkImageRef(opts.baseImage, { what: "--base-image", sif: true });
  }
  const asOfGiven = opts.asOf === undefined ? undefined : parseAsOf(opts.asOf, ctx.now?.());
  const cranGiven = opts.cranUrl === undefined ? undefined : parseCranUrl(opts.cranUrl);
  let requirementsText: string | null = null;
  if (opts.requirements) {
    requirementsText = await readIfExists(opts.requirements);
    if (requirementsText === null) {
      throw new UsageError(`requirements file '${opts.requirements}' does not exist`, {
        hint: "give the path of a requirements.txt (R: one package per line)",
      });
    }
  }
  const dir = envDir(ctx.paths, name);
  const exists = await envExists(ctx.paths, name);
  if (exists && !opts.force) {
    throw new VenvoyError(
      `Environment '${name}' already exists at ${dir}; use --force to rebuild it, or --name for another`,
      { hint: `use it: venvoy run ${name}` },
    );
  }
  const previous = exists ? await readConfig(dir) : null;
  if (previous && previous.runtime !== runtimeKind && opts.runtime) {
    throw new UsageError(`'${name}' is a ${previous.runtime} environment`, {
      hint: "delete it first (venvoy delete NAME), or choose another --name",
    });
  }

  if (cranGiven && (opts.runtime || !previous ? runtimeKind : previous.runtime) !== "r") {
    throw new UsageError("--cran-url is for R environments", {
      hint: "drop it, or use --runtime r",
    });
  }
  // The date and the CRAN URL: as given, else as recorded (a --force rebuild keeps them).
  const asOf = asOfGiven !== undefined ? asOfGiven : previous?.as_of ?? null;
  const cranTemplate = cranGiven ?? previous?.cran_url ?? null;
  const cranUrl = cranTemplate ? cranUrlFor(cranTemplate, asOf) : null;
  return {
    name,
    runtimeKind,
    version,
    dir,
    exists,
    previous,
    requirementsText,
    asOf,
    cranTemplate,
    cranUrl,
  };
}

/** Step 2: --engine, VENVOY_ENGINE, the engine it was built with, the global default. */
async function chooseEngines(
  ctx: InitContext,
  req: InitRequest,
  opts: InitOptions,
): Promise<InitEngines> {
  const global = await readGlobalConfig(ctx.paths);
  const engine = ctx.engine ?? ctx.runner.env("VENVOY_ENGINE") ?? req.previous?.engine ??
    global.engine ?? null;
  const { runtime, detection } = await resolveRuntime(ctx.runner, { engine: engine || null });
  const builder = runtime.produces === "image" ? runtime : ociHelper(ctx.runner, detection);
  if (opts.offline) {
    const { dir, name, exists, runtimeKind: kind } = req;
    await checkOffline({ dir, name, exists, kind, baseImage: opts.baseImage });
    if (!builder) {
      // `apptainer build` has no way to turn networking off.
      throw new VenvoyError(
        `${runtime.name} cannot build with networking disabled, and neither podman nor docker is usable here to build the image offline first`,
        {
          hint:
            `install podman (venvoy builds the image offline with it, then converts it to a SIF), or run 'venvoy init --name ${name} --force --offline' on a machine with podman or docker`,
        },
      );
    }
  }
  return { runtime, builder };
}

/** Step 3: the base, pinned once; a --force rebuild checks the recorded pin. */
async function pinTheBase(
  req: InitRequest,
  a: { opts: InitOptions; builder: ContainerRuntime | null },
): Promise<{ baseImage: string; kind: Kind; pin: Pin }> {
  const { opts, builder } = a;
  const { previous, name, runtimeKind, version } = req;
  const baseImage = checkImageRef(
    opts.baseImage ?? previous?.base_image ?? defaultBaseImage(runtimeKind, version),
    { what: "base image", sif: true },
  );
  const kind: Kind = runtimeKind === "r" ? "r" : detectConda(baseImage) ? "conda" : "python";
  if (opts.offline && kind === "conda") {
    throw new VenvoyError(
      `'${name}' is a conda environment; venvoy cannot rebuild those offline yet`,
      {
        hint: "rebuild it with the network: venvoy init --force",
      },
    );
  }
  let pin: Pin;
  if (builder && opts.offline) {
    pin = await offlinePin(builder, previous?.base_image_pinned || baseImage);
  } else if (builder) {
    pin = previous && previous.base_image === baseImage && previous.base_image_pinned
      ? await checkPinned(builder, previous.base_image_pinned)
      : await pinBase(builder, baseImage);
  } else {
    pin = await pinForDefinition(baseImage, previous);
  }
  return { baseImage, kind, pin };
}

/** The build spec, with its image tag. */
async function buildSpec(
  ctx: InitContext,
  req: InitRequest,
  a: { kind: Kind; pin: Pin; builder: ContainerRuntime | null; offline?: boolean },
): Promise<BuildSpec> {
  const { name, runtimeKind, version, asOf, cranUrl } = req;
  const labels = {
    ...(await ownerLabels(ctx.paths.venvoyHome)),
    "org.venvoy.env": name,
    "org.venvoy.version": ctx.venvoyVersion,
    "org.venvoy.runtime": runtimeKind,
    "org.venvoy.base": a.pin.pinned,
  };
  return {
    name,
    kind: a.kind,
    version,
    from: a.pin.from,
    bootstrap: a.builder ? undefined : a.pin.from.endsWith(".sif") ? "localimage" : "docker",
    venvoyVersion: ctx.venvoyVersion,
    labels,
    offline: a.offline,
    ...(asOf ? { asOf } : {}),
    ...(cranUrl ? { cranUrl } : {}),
  };
}

/**
 * Step 4: the environment folder: support files, the package lists (kept when they exist),
 * the Dockerfile and/or definition. Returns the packages listed.
 */
async function writeEnvFolder(
  ctx: InitContext,
  req: InitRequest,
  a: {
    spec: BuildSpec;
    kind: Kind;
    pin: Pin;
    baseImage: string;
    runtime: ContainerRuntime;
    builder: ContainerRuntime | null;
  },
): Promise<{ packages: string[]; devPackages: string[] }> {
  const { dir, name, runtimeKind, requirementsText } = req;
  const { spec, kind, pin, baseImage, runtime, builder } = a;
  await Deno.mkdir(join(dir, "vendor"), { recursive: true });
  await Deno.mkdir(join(dir, PERSIST_DIR), { recursive: true });
  await Deno.mkdir(join(dir, ".venvoy"), { recursive: true });
  for (const [file, text] of Object.entries(supportFiles())) {
    await writeIfChanged(join(dir, ".venvoy", file), text);
  }
  const ca = hostCaBundle(ctx.runner);
  await writeIfChanged(
    join(dir, ".venvoy", "ca-bundle.crt"),
    ca ? await Deno.readTextFile(ca) : "",
  );
  await writeIfChanged(join(dir, ".dockerignore"), DOCKERIGNORE);
  const header = (what: string) =>
    `# ${what} for the venvoy environment '${name}'. Edit, then: venvoy init --name ${name} --force\n`;
  if (runtimeKind === "r") {
    if (requirementsText !== null) {
      await writeFileAtomic(join(dir, "packages.txt"), requirementsText);
    }
    await writeIfMissing(join(dir, "packages.txt"), header("R packages, one per line,"));
  } else {
    if (requirementsText !== null) {
      await writeFileAtomic(join(dir, "requirements.txt"), requirementsText);
    }
    await writeIfMissing(
      join(dir, "requirements.txt"),
      header("Python packages (pip requirements)"),
    );
    await writeIfMissing(
      join(dir, "requirements-dev.txt"),
      header("Development-only Python packages"),
    );
    if (kind === "conda") {
      await writeIfMissing(
        join(dir, "environment.yml"),
        `name: ${name}\nchannels:\n  - conda-forge\n# dependencies:\n#   - numpy\n`,
      );
    }
  }
  const packages = listedPackages(
    (await readIfExists(join(dir, runtimeKind === "r" ? "packages.txt" : "requirements.txt"))) ??
      "",
  );
  const devPackages = runtimeKind === "r"
    ? []
    : listedPackages((await readIfExists(join(dir, "requirements-dev.txt"))) ?? "");
  if (builder) await writeIfChanged(join(dir, "Dockerfile"), dockerfile(spec));
  if (runtime.produces === "sif") {
    await writeIfChanged(
      join(dir, "venvoy.def"),
      definition({
        ...spec,
        from: builder ? baseImageForDef(pin, baseImage) : pin.from,
        bootstrap: spec.bootstrap ?? "docker",
      }),
    );
  }
  return { packages, devPackages };
}

/**
 * Step 5: build. An OCI engine builds the image (offline: networking disabled); for
 * Apptainer, that image becomes the SIF, or Apptainer builds from the definition alone.
 */
async function buildImage(
  req: InitRequest,
  a: {
    spec: BuildSpec;
    runtime: ContainerRuntime;
    builder: ContainerRuntime | null;
    ctx: InitContext;
    opts: InitOptions;
  },
): Promise<{ imageRef: string; ociId: string | null }> {
  const { dir } = req;
  const { spec: { labels }, runtime, builder, opts } = a;
  const tag = imageTag(req.name);
  const quiet = a.ctx.quiet;
  const sifPath = join(dir, "image.sif");
  const logPath = join(dir, "build.log");
  if (!builder) {
    await withProgress(
      `Building ${sifPath} with ${runtime.name} from venvoy.def (log: ${logPath})`,
      () =>
        runtime.build({
          contextDir: dir,
          file: join(dir, "venvoy.def"),
          tag: sifPath,
          labels,
          logPath,
        }),
      { quiet },
    );
    return { imageRef: sifPath, ociId: null };
  }
  await withProgress(
    `Building ${tag} with ${builder.name}${
      opts.offline ? " from vendor/, networking disabled" : ""
    } (log: ${logPath})`,
    () =>
      builder.build({
        contextDir: dir,
        file: join(dir, "Dockerfile"),
        tag,
        labels,
        logPath,
        ...(opts.offline ? { network: "none" as const } : {}),
      }),
    { quiet },
  );
  const info = await builder.inspect(tag);
  if (!info) {
    throw new VenvoyError(`the build finished but ${tag} is not there`, {
      hint: `see ${logPath}`,
    });
  }
  if (runtime.produces !== "sif") return { imageRef: tag, ociId: info.id };
  await convertToSif(dir, {
    builder,
    runtime: runtime as ApptainerRuntime,
    tag,
    ociId: info.id,
    quiet,
  });
  return { imageRef: sifPath, ociId: info.id };
}

/** The OCI image saved and converted to image.sif, unless the SIF is from that image. */
async function convertToSif(
  dir: string,
  a: {
    builder: ContainerRuntime;
    runtime: ApptainerRuntime;
    tag: string;
    ociId: string;
    quiet?: boolean;
  },
): Promise<void> {
  const sifPath = join(dir, "image.sif");
  const marker = join(dir, "image.sif.source");
  const current = (await readIfExists(marker))?.trim();
  const haveSif = await Deno.stat(sifPath).then(() => true, () => false);
  if (haveSif && current === a.ociId) return;
  await withProgress(`Converting to ${sifPath} with ${a.runtime.name}`, async () => {
    const tmpDir = await Deno.makeTempDir({ dir, prefix: ".sif-build-" });
    try {
      const archive = join(tmpDir, "image.tar");
      await a.builder.save(a.tag, archive);
      await a.runtime.buildSif(
        { kind: "docker-archive", path: archive },
        sifPath,
        { logPath: join(dir, "build.log") },
      );
    } finally {
      await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    }
  }, { quiet: a.quiet });
  await writeFileAtomic(marker, a.ociId + "\n");
}

/** Step 7: the record, config.yaml. */
function configFor(
  ctx: InitContext,
  req: InitRequest,
  a: {
    runtime: ContainerRuntime;
    baseImage: string;
    kind: Kind;
    pin: Pin;
    imageRef: string;
    imageId: string | null;
    files: { packages: string[]; devPackages: string[] };
    /** The R version: as asked, or the base image's (R without --r-version). */
    recordedVersion: string;
  },
): EnvConfig {
  const { name, runtimeKind, version, previous, asOf, cranTemplate } = req;
  return {
    name,
    runtime: runtimeKind,
    python_version: runtimeKind === "python" ? version : null,
    r_version: runtimeKind === "r" ? a.recordedVersion : null,
    created: previous?.created || (ctx.now?.() ?? new Date()).toISOString(),
    host: hostPlatform(),
    engine: a.runtime.name,
    base_image: a.baseImage,
    base_image_pinned: a.pin.pinned,
    image: a.imageRef,
    image_id: a.imageId,
    packages: a.files.packages,
    dev_packages: a.files.devPackages,
    package_manager: a.kind === "conda" ? "conda" : "pip",
    venvoy_version: ctx.venvoyVersion,
    ...(asOf ? { as_of: asOf } : {}),
    ...(cranTemplate ? { cran_url: cranTemplate } : {}),
  };
}

async function recordSnapshot(ctx: InitContext, dir: string, config: EnvConfig): Promise<void> {
  if (!ctx.recordSnapshot) return;
  try {
    await ctx.recordSnapshot({ dir, name: config.name, config }, ctx.paths.projects);
  } catch (e) {
    ctx.note(`venvoy: warning: could not save a snapshot: ${(e as Error).message}`);
  }
}

/** What an offline rebuild needs: an existing environment and what `venvoy freeze` wrote. */
async function checkOffline(a: {
  dir: string;
  name: string;
  exists: boolean;
  kind: "python" | "r";
  baseImage?: string;
}): Promise<void> {
  if (!a.exists) {
    throw new UsageError(`--offline rebuilds an existing environment; '${a.name}' does not exist`, {
      hint: `create it with the network first (venvoy init --name ${a.name}), then venvoy freeze`,
    });
  }
  if (a.baseImage) {
    throw new UsageError("--offline cannot change the base image", {
      hint: "drop --base-image: the offline rebuild uses the pinned base already here",
    });
  }
  if (a.kind === "python") {
    const lock = join(a.dir, LOCK_FILE);
    const ok = await Deno.stat(lock).then((s) => s.isFile, () => false);
    if (!ok) {
      throw new VenvoyError(`'${a.name}' has not been frozen: ${lock} does not exist`, {
        hint: `run 'venvoy freeze --name ${a.name}' (with the network) first`,
      });
    }
  }
}

/** The pinned base must already be here: offline, nothing is pulled. */
async function offlinePin(builder: ContainerRuntime, pinned: string): Promise<Pin> {
  const local = /^(sha256:)?[0-9a-f]{64}$/.test(pinned);
  const ref = local ? pinned.replace(/^sha256:/, "") : pinned;
  const info = await builder.inspect(ref);
  if (!info) {
    throw new VenvoyError(
      `the pinned base image ${pinned} is not here, and --offline pulls nothing`,
      {
        hint: `load it first (${builder.binary} load -i FILE), or rebuild with the network`,
      },
    );
  }
  return { pinned, from: ref, local };
}

/** For Apptainer: podman or docker, when one is usable, builds the OCI image first. */
function ociHelper(runner: ProcessRunner, detection: Detection): ContainerRuntime | null {
  for (const name of ["podman", "docker"] as const) {
    const probe = detection.runtimes.find((p) => p.name === name && p.usable);
    if (probe) return createRuntime(name, runner, probe);
  }
  return null;
}

function baseImageForDef(pin: Pin, baseImage: string): string {
  // The definition written beside a SIF built from the OCI image: the registry digest,
  // or the name as given for a local image (which only a local engine can provide).
  return pin.local ? baseImage : pin.from;
}

async function pinForDefinition(baseImage: string, previous: EnvConfig | null): Promise<Pin> {
  if (previous && previous.base_image === baseImage && previous.base_image_pinned) {
    const p = previous.base_image_pinned;
    return {
      pinned: p,
      from: p.includes("@sha256:") && !baseImage.endsWith(".sif") ? p : baseImage,
      local: false,
    };
  }
  if (baseImage.endsWith(".sif")) {
    const { sha256File } = await import("../util/hash.ts");
    try {
      return {
        pinned: `${baseImage}@sha256:${await sha256File(baseImage)}`,
        from: baseImage,
        local: true,
      };
    } catch {
      throw new VenvoyError(`base image '${baseImage}' was not found`, {
        hint: "give the path of an existing .sif file",
      });
    }
  }
  // Without an OCI engine there is nothing local to resolve a digest with: a digest given
  // in the name is the pin; otherwise the name is recorded as given.
  return { pinned: baseImage, from: baseImage, local: false };
}

async function checkContents(a: {
  runtime: ContainerRuntime;
  imageRef: string;
  dir: string;
  runtimeKind: "python" | "r";
  version: string;
  /** The version the image must have; null: whatever it has (the answer is its minor). */
  expect: string | null;
  baseImage: string;
  user?: { uid: number; gid: number };
  quiet?: boolean;
}): Promise<string> {
  const { runtime, imageRef, dir, runtimeKind, version, expect, baseImage } = a;
  const ctx = { user: a.user };
  const quiet = a.quiet;

  const cap = await withProgress(
    "Listing the image's packages",
    () => captureImage(runtime, imageRef, { user: ctx.user ?? hostUser() }),
    { quiet },
  );
  const found = runtimeKind === "python" ? cap.versions.python : cap.versions.r;
  const label = runtimeKind === "python" ? "Python" : "R";
  if (!found) {
    throw new VenvoyError(`the base image ${baseImage} has no ${label}`, {
      hint: `use a base image with ${label} ${version}, e.g. ${
        defaultBaseImage(runtimeKind, version)
      }`,
    });
  }
  if (expect !== null && !(found === expect || found.startsWith(`${expect}.`))) {
    const flag = runtimeKind === "python" ? "--python-version" : "--r-version";
    throw new VenvoyError(`the base image ${baseImage} has ${label} ${found}, not ${version}`, {
      hint: `pass ${flag} ${
        found.split(".").slice(0, 2).join(".")
      }, or a --base-image with ${label} ${version}`,
    });
  }
  await writeBasePackages(dir, cap.packages);
  return expect ?? found.split(".").slice(0, 2).join(".");
}
