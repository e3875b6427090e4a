/**
 * `venvoy export --format archive`: the environment image as a docker-archive (and
 * optionally a SIF), the environment folder, the latest snapshot, manifest.json,
 * SHA256SUMS, restore.sh and a README, in one standard .tar.gz.
 *
 * The image is streamed from `<engine> save` on stdout into a spool file (a tar header
 * states the size before the data, and a save stream's size is only known at its end),
 * hashed on the way, then streamed into the archive. Memory stays bounded throughout.
 */
import { removeStaleTempDirs } from "./staging.ts";
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import type { ProcessRunner } from "../process/mod.ts";
import type { ContainerRuntime, ImageInfo } from "../runtime/types.ts";
import { ProcessError, UsageError, VenvoyError } from "../ui/errors.ts";
import { CONFIG_CACHE, type EnvConfig, readConfig } from "../env/config.ts";
import { STAMP_RECORD } from "../snapshot/quick.ts";
import { SBOM_FILE } from "../sbom/cyclonedx.ts";
import {
  CHECKSUMS_NAME,
  checksumsText,
  emptyPackageLists,
  FORMAT_VERSION,
  type Manifest,
  MANIFEST_NAME,
  type PackageLists,
} from "./manifest.ts";
import { renderReadme, renderRestoreScript } from "./templates.ts";
import { spool, TarGzWriter } from "./writer.ts";
import { parseDistFilename } from "../snapshot/freeze.ts";
import { allowedTree, envAllowance } from "./env_allow.ts";

export const DOCKER_ARCHIVE_MEMBER = "image.tar";
export const SIF_MEMBER = "image.sif";
export const ENV_PREFIX = "env";

export type ExportFormat = "yaml" | "dockerfile" | "tarball" | "archive";

export interface ExportProgress {
  phase: "save" | "sif" | "write";
  /** Bytes done in this phase (uncompressed bytes for "write"). */
  bytes: number;
  /** Expected total, when known. */
  total?: number;
}

export interface ExportArchiveOptions {
  runner: ProcessRunner;
  /** The engine that holds the environment image (docker/podman), or its SIF (apptainer). */
  runtime: ContainerRuntime;
  /** `<VENVOY_HOME>/environments/<name>` (the environment contract's layout). */
  envDir: string;
  /** Where the .tar.gz goes (see defaultOutputName). */
  output: string;
  force?: boolean;
  venvoyVersion: string;
  /** Image tag or SIF path; default: `image` from config.yaml. */
  image?: string;
  /** `<VENVOY_PROJECTS>/<name>`: environment.yml and renv.lock are taken from here. */
  snapshotDir?: string;
  /** Full package lists; default: `<envDir>/base-packages.json`. */
  packages?: PackageLists;
  /** `--with-sif`: an apptainer/singularity adapter that builds image.sif from the image. */
  sifRuntime?: ContainerRuntime;
  /** gzip level (default 1). */
  level?: number;
  /** Where the image is spooled (default: a hidden folder next to the output). */
  spoolDir?: string;
  onProgress?: (p: ExportProgress) => void;
  /** Something left out that the archive would normally have (e.g. the SBOM's OS list). */
  onWarning?: (message: string) => void;
  now?: Date;
  /** Adds further members (run records, src/proof/bundle.ts); its result joins the manifest. */
  extraMembers?: (writer: TarGzWriter) => Promise<Partial<Manifest>>;
}

export interface ExportResult {
  path: string;
  size: number;
  sha256: string;
  manifest: Manifest;
  /** Files of allowed folders left out (sockets, links leading outside it). */
  skipped: string[];
  /** What the allow-list kept out of the archive (persist/home, unknown files, credentials). */
  leftOut: string[];
}

/** manifest.included: the archive's own members, then the allowed parts of env/. */
export function includedListing(
  members: Record<string, unknown>,
  envParts: string[],
): string[] {
  const top = Object.keys(members).filter((m) => !m.startsWith(`${ENV_PREFIX}/`));
  return [...top, MANIFEST_NAME, ...envParts];
}

/** `<name>-<format>-YYYYMMDD_HHMMSS.<ext>`, in the current directory by default. */
export function defaultOutputName(name: string, format: ExportFormat, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_` +
    `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const ext = { yaml: "yml", dockerfile: "Dockerfile", tarball: "tar.gz", archive: "tar.gz" }[
    format
  ];
  return `${name}-${format}-${stamp}.${ext}`;
}

/** The argv that writes a docker-archive of `ref` to stdout. */
export function saveToStdoutArgv(runtime: ContainerRuntime, ref: string): string[] {
  return runtime.saveToStdoutArgv(ref);
}

async function readPackages(envDir: string): Promise<PackageLists> {
  try {
    const data = JSON.parse(await Deno.readTextFile(join(envDir, "base-packages.json")));
    return { ...emptyPackageLists(), ...data };
  } catch {
    return emptyPackageLists();
  }
}

/** Export an environment as a comprehensive archive. */
export async function exportArchive(options: ExportArchiveOptions): Promise<ExportResult> {
  const envDir = resolve(options.envDir);
  const output = resolve(options.output);
  const config = await readConfig(envDir, { cache: false });
  const name = config.name;
  const ref = options.image ?? (config.image || undefined);
  if (!ref) {
    throw new VenvoyError(`environment '${name}' has no image recorded in config.yaml`, {
      hint: `build it first: venvoy init --name ${name}`,
    });
  }
  const { runtime } = options;
  const info = await runtime.inspect(ref);
  if (!info) {
    throw new VenvoyError(`the image of environment '${name}' (${ref}) is not in ${runtime.name}`, {
      hint:
        `rebuild it (venvoy init --name ${name} --force) or export with the engine that built it`,
    });
  }
  // The allow-list and the names are checked before the (slow) save: a refusal writes nothing.
  const plan = await planEnvTree(envDir);
  const now = options.now ?? new Date();
  const spoolRoot = options.spoolDir ?? dirname(output);
  // Before the writer: its file opens in the background, and a folder made after that
  // open started made the export fail (ENOENT) now and then.
  for (const dir of new Set([dirname(output), spoolRoot])) {
    await Deno.mkdir(dir, { recursive: true });
  }
  const writer = await TarGzWriter.create(output, {
    force: options.force,
    level: options.level,
    mtime: Math.floor(now.getTime() / 1000),
    onProgress: (bytes) => options.onProgress?.({ phase: "write", bytes }),
  });
  await removeStaleTempDirs([spoolRoot, dirname(envDir)]); // issue 11.13: killed runs' debris
  const spoolDir = await Deno.makeTempDir({ dir: spoolRoot, prefix: ".venvoy-export-" });
  try {
    let dockerArchive: string | null = null;
    let sif: string | null = null;
    if (runtime.produces === "image") {
      dockerArchive = join(spoolDir, DOCKER_ARCHIVE_MEMBER);
      await saveImage(options.runner, runtime, ref, dockerArchive, options.onProgress);
      if (options.sifRuntime) {
        sif = join(spoolDir, SIF_MEMBER);
        options.onProgress?.({ phase: "sif", bytes: 0 });
        await options.sifRuntime.load(dockerArchive, { target: sif, kind: "docker-archive" });
      }
    } else {
      sif = ref;
    }

    const manifest = baseManifest(config, info, {
      name,
      ref,
      engine: runtime.name,
      venvoyVersion: options.venvoyVersion,
      created: now.toISOString(),
      packages: options.packages ?? await readPackages(envDir),
      dockerArchive: dockerArchive ? DOCKER_ARCHIVE_MEMBER : null,
      sif: sif ? SIF_MEMBER : null,
    });

    // Small, human-facing members first: `tar tzf | head` shows what this is at once.
    await writer.addBytes("README.md", renderReadme(manifest));
    await writer.addBytes("restore.sh", renderRestoreScript(manifest), { mode: 0o755 });
    // The bill of materials, covered by SHA256SUMS and the manifest like every member.
    await writer.addBytes(SBOM_FILE, await archiveSbom(options, envDir, ref));
    if (options.snapshotDir) {
      for (const f of ["environment.yml", "renv.lock"]) {
        const p = join(options.snapshotDir, f);
        if (await isFile(p)) await writer.addFile(f, p);
      }
    }
    await writePlan(writer, plan);
    if (options.extraMembers) Object.assign(manifest, await options.extraMembers(writer));
    if (dockerArchive) await writer.addFile(DOCKER_ARCHIVE_MEMBER, dockerArchive);
    if (sif) await writer.addFile(SIF_MEMBER, sif);
    await writer.addBytes(CHECKSUMS_NAME, checksumsText(writer.members));
    manifest.members = writer.members;
    manifest.included = includedListing(writer.members, plan.included);
    await writer.addBytes(MANIFEST_NAME, JSON.stringify(manifest, null, 2) + "\n");
    const done = await writer.finish();
    return { ...done, manifest, skipped: plan.skipped, leftOut: plan.leftOut };
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await Deno.remove(spoolDir, { recursive: true }).catch(() => {});
  }
}

/** sbom.cdx.json of the archive's image (sbom/mod.ts exportSbom). */
async function archiveSbom(
  options: ExportArchiveOptions,
  envDir: string,
  ref: string,
): Promise<string> {
  const { hostUser } = await import("../env/host.ts");
  const { exportSbom } = await import("../sbom/mod.ts");
  return await exportSbom({
    runtime: options.runtime,
    envDir,
    config: await readConfig(envDir, { cache: false }),
    image: ref,
    venvoyVersion: options.venvoyVersion,
    user: hostUser(),
    onWarning: options.onWarning,
  });
}

function baseManifest(
  config: EnvConfig,
  info: ImageInfo,
  o: {
    name: string;
    ref: string;
    engine: string;
    venvoyVersion: string;
    created: string;
    packages: PackageLists;
    dockerArchive: string | null;
    sif: string | null;
  },
): Manifest {
  const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
  return {
    format: "venvoy-archive",
    format_version: FORMAT_VERSION,
    venvoy_version: o.venvoyVersion,
    created: o.created,
    engine: o.engine,
    environment: {
      name: o.name,
      runtime: str(config.runtime),
      python_version: str(config.python_version),
      r_version: str(config.r_version),
      package_manager: str(config.package_manager),
      as_of: str(config.as_of),
    },
    host: { system: Deno.build.os, architecture: Deno.build.arch },
    image: {
      tag: o.ref,
      id: info.id || str(config.image_id),
      architecture: info.architecture || null,
      os: info.os || null,
      base: config.base_image_pinned || null,
      docker_archive: o.dockerArchive,
      sif: o.sif,
    },
    packages: o.packages,
    members: {},
  };
}

/** Streams `<engine> save` into `path`, hashing nothing twice and holding little memory. */
async function saveImage(
  runner: ProcessRunner,
  runtime: ContainerRuntime,
  ref: string,
  path: string,
  onProgress?: (p: ExportProgress) => void,
): Promise<void> {
  const cmd = saveToStdoutArgv(runtime, ref);
  const child = runner.spawn({ cmd, stdout: "piped", stderr: "piped" });
  const stderr = child.stderr ? new Response(child.stderr).text() : Promise.resolve("");
  try {
    await spool(child.stdout!, path, (bytes) => onProgress?.({ phase: "save", bytes }));
  } catch (e) {
    child.kill("SIGKILL");
    await child.status;
    throw e;
  }
  const status = await child.status;
  if (status.code !== 0) {
    throw new ProcessError(cmd, { code: status.code, stderr: await stderr }, {
      what: `${runtime.name} save`,
    });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** venvoy's own files, regenerated by init or never needed to restore: left out quietly. */
const QUIET = new Set([
  "image.sif",
  "image.sif.source",
  CONFIG_CACHE,
  STAMP_RECORD,
  ".venvoy",
  ".dockerignore",
  ".devcontainer",
  ".lock",
  "build.log",
  "persist/cache",
]);

/** Also venvoy's own, left out quietly: build temporaries, SIF trust records (hpc/sif.ts). */
const QUIET_RE = /^(\.\S+\.building|[^/]+\.sif\.trust\.json)$/;

/** A control character (newline, CR, tab, ESC...) in a member name breaks SHA256SUMS. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Refuses a member name (or link target) that SHA256SUMS and restore.sh cannot carry. */
export function refuseControlChars(rel: string, what = "a file name"): void {
  if (CONTROL.test(rel)) {
    throw new UsageError(
      `${what} in the environment contains a line break or control character: ${
        JSON.stringify(rel)
      }`,
      {
        hint: "rename or remove it (it cannot be listed in SHA256SUMS), then export again; " +
          "nothing was written",
      },
    );
  }
}

type Planned =
  | { member: string; kind: "file"; source: string }
  | { member: string; kind: "symlink"; target: string };

export interface TreePlan {
  members: Planned[];
  /** Inside allowed folders: sockets, links leading outside, dangling links. */
  skipped: string[];
  /** Not on the allow-list (persist/home, unknown files), or a credential file. */
  leftOut: string[];
  /** The allow-list entries present, as `env/config.yaml`, `env/vendor/`. */
  included: string[];
}

/**
 * Plans what of the environment folder goes in, before anything slow happens: the
 * allow-list, then links and names. Links that stay inside the folder are kept as
 * relative links; an allowed top-level file, or a wheel/sdist in vendor/, that is a link
 * to a file outside is stored as that file; anything else (sockets, links to folders outside, dangling links) is skipped and
 * reported. Links in persist/ point into the image, so they are never followed on the
 * host: kept when relative and inside, else skipped and reported.
 */
export async function planEnvTree(root: string, prefix = ENV_PREFIX): Promise<TreePlan> {
  const plan: TreePlan = { members: [], skipped: [], leftOut: [], included: [] };
  const realRoot = await Deno.realPath(root);
  const used = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs).split(sep).join("/");
      const allowance = envAllowance(rel);
      const tree = allowedTree(rel);
      const topFile = allowance === "file";
      if (allowance === null || allowance === "way") {
        if (e.isDirectory && allowance === "way") await walk(abs);
        else if (!QUIET.has(rel) && !QUIET_RE.test(rel)) plan.leftOut.push(rel);
        continue;
      }
      if (allowance === "personal") {
        plan.leftOut.push(rel);
        continue;
      }
      refuseControlChars(rel);
      const member = `${prefix}/${rel}`;
      const before = plan.members.length;
      if (e.isSymlink && rel.startsWith("persist/")) {
        // Written inside a container (the session's venv links python3 -> /usr/bin/python3):
        // the target is a path in the image, never on this host. Keep links that stay in
        // the folder; leave the others out (the next session recreates the venv's links)
        // rather than copy whatever the host has at that path.
        const target = await Deno.readLink(abs);
        const lexical = normalize(join(dirname(rel), target));
        if (!isAbsolute(target) && lexical !== ".." && !lexical.startsWith(`..${sep}`)) {
          refuseControlChars(target, "a link target");
          plan.members.push({ member, kind: "symlink", target });
        } else plan.skipped.push(rel);
      } else if (e.isSymlink) {
        const target = await Deno.readLink(abs);
        let real: string | null = null;
        try {
          real = await Deno.realPath(abs);
        } catch { /* dangling */ }
        const inside = real !== null && (real === realRoot || real.startsWith(realRoot + sep));
        if (inside && !target.startsWith("/")) {
          refuseControlChars(target, "a link target");
          plan.members.push({ member, kind: "symlink", target });
        } else if (
          real !== null && (await Deno.stat(real)).isFile &&
          (topFile || parseDistFilename(e.name) !== null)
        ) {
          // A spec file, or a wheel/sdist linked into vendor/: stored as the file it names.
          plan.members.push({ member, kind: "file", source: real });
        } else plan.skipped.push(rel);
      } else if (e.isDirectory && tree) {
        await walk(abs);
      } else if (e.isFile) {
        plan.members.push({ member, kind: "file", source: abs });
      } else {
        plan.skipped.push(rel);
      }
      if (plan.members.length > before) used.add(tree ? `${prefix}/${tree}/` : member);
    }
  };
  await walk(root);
  plan.included = [...used].sort();
  return plan;
}

async function writePlan(writer: TarGzWriter, plan: TreePlan): Promise<void> {
  for (const m of plan.members) {
    if (m.kind === "file") await writer.addFile(m.member, m.source);
    else await writer.addSymlink(m.member, m.target);
  }
}
