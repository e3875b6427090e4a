/**
 * `venvoy import FILE` / `venvoy import-archive FILE`: recognise a file by its content,
 * verify an archive completely, then load its image into the engine in use and recreate
 * the environment folder (the contract's layout) and its snapshot files.
 *
 * Order matters for safety: nothing is loaded or moved until extractVerified() has checked
 * every member; the new environment folder is assembled beside the old one and swapped in
 * with renames at the end; snapshot history is only ever added to.
 */
import { basename, dirname, join } from "node:path";
import { isMap, parse as parseYaml, parseDocument } from "yaml";
import { imageTag, validateName } from "../util/names.ts";
import { parseEnvironmentYml } from "../snapshot/environment_yml.ts";
import type { Snapshot } from "../snapshot/model.ts";
import { parseRenvLock } from "../snapshot/renv_lock.ts";
import { PERSIST_DIR } from "../recipe/plan.ts";
import { writeSnapshot } from "../snapshot/store.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import { printable, UsageError, VenvoyError } from "../ui/errors.ts";
import {
  ChecksumMismatchError,
  InvalidManifestError,
  NameClashError,
  NotAnArchiveError,
} from "./errors.ts";
import { stripImageNames } from "./image_tar.ts";
import { makeOwnedTempDir, throwIfSignalled } from "./staging.ts";
import { ENV_PREFIX } from "./export.ts";
import { envAllowance } from "./env_allow.ts";
import { recordSif } from "../hpc/sif.ts";
import type { Manifest } from "./manifest.ts";
import { extractVerified, isGzipFile, readHead, type VerifiedArchive } from "./reader.ts";

export type DetectedFormat = "archive-or-tarball" | "yaml" | "dockerfile";

/**
 * What a file is, from its content (never its name): a gzip'd tar (a venvoy archive or
 * tarball; which one, the verified manifest says), a Dockerfile, or a YAML document.
 */
export async function detectFormat(path: string): Promise<DetectedFormat> {
  if (await isGzipFile(path)) return "archive-or-tarball";
  const head = await readHead(path, 256 * 1024);
  if (head.includes(0)) {
    throw new NotAnArchiveError(
      `cannot import ${basename(path)}: it is a binary file of an unknown kind`,
      {
        hint:
          "venvoy imports an environment.yml, a Dockerfile, or a tarball/archive made by venvoy export",
      },
    );
  }
  const text = new TextDecoder().decode(head);
  if (looksLikeDockerfile(text)) return "dockerfile";
  try {
    const doc = parseYaml(text);
    if (doc && typeof doc === "object" && !Array.isArray(doc)) return "yaml";
  } catch { /* fall through */ }
  throw new NotAnArchiveError(
    `cannot import ${basename(path)}: not YAML, a Dockerfile or an archive`,
    {
      hint:
        "venvoy imports an environment.yml, a Dockerfile, or a tarball/archive made by venvoy export",
    },
  );
}

/** The first instruction (after comments, parser directives and blank lines) is FROM or ARG. */
export function looksLikeDockerfile(text: string): boolean {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    return /^(FROM|ARG)\s+\S/i.test(line);
  }
  return false;
}

export interface ImportArchiveOptions {
  /** The engine to load into (docker/podman: its store; apptainer: a SIF in the env folder). */
  runtime: ContainerRuntime;
  /** `statePaths().environments`. */
  environmentsDir: string;
  /** `statePaths().projects`. */
  projectsDir: string;
  /** The new environment's name (default: the name in the manifest). */
  name?: string;
  /** Replace an existing environment of that name (its snapshot history is kept). */
  force?: boolean;
  /** Where the archive is unpacked while verifying (default: inside environmentsDir). */
  tmpDir?: string;
  onProgress?: (read: number, total: number) => void;
  now?: Date;
}

export interface ImportedEnvironment {
  name: string;
  envDir: string;
  /** The image tag (docker/podman) or SIF path (apptainer/singularity). */
  image: string;
  /** The loaded image's ID (docker/podman: equal to the manifest's) or the SIF's sha256. */
  imageId: string | null;
  manifest: Manifest;
  /** Snapshot files written (environment.yml, dated copies, renv.lock). */
  snapshots: string[];
  /**
   * What the archive's env/ held that export never writes (a config cache, a SIF, a
   * stamp, a credential file, anything new), as `env/<path>`: left out of the import.
   */
  dropped?: string[];
}

/** The refusal shown when an environment exists and --force was not given. */
export async function refuseExistingEnvironment(envDir: string, name: string, force = false) {
  if (force) return;
  try {
    await Deno.stat(envDir);
  } catch {
    return;
  }
  throw new UsageError(`environment '${name}' already exists`, {
    hint:
      `choose another name with --name, or pass --force to replace it (its snapshot history is kept)`,
  });
}

/** Verify, load and recreate an environment from a venvoy archive. */
export async function importArchive(
  file: string,
  options: ImportArchiveOptions,
): Promise<ImportedEnvironment> {
  if (options.name) {
    validateName(options.name);
    await refuseExistingEnvironment(
      join(options.environmentsDir, options.name),
      options.name,
      options.force,
    );
  }
  await Deno.mkdir(options.environmentsDir, { recursive: true });
  const verified = await extractVerified(file, {
    formats: ["venvoy-archive"],
    tmpDir: options.tmpDir ?? options.environmentsDir,
    onProgress: options.onProgress,
  });
  try {
    return await install(verified, options);
  } catch (e) {
    throwIfSignalled(); // a hang-up removed the folders under the step: say so, not ENOENT
    throw e;
  } finally {
    await verified.cleanup();
  }
}

/**
 * Assembles the new environment in a locked staging folder and swaps it in only once the
 * image is loaded and checked: a failure at any step (forced or not) leaves an existing
 * environment, its files and its image tag exactly as they were.
 */
async function install(
  verified: VerifiedArchive,
  options: ImportArchiveOptions,
): Promise<ImportedEnvironment> {
  const { manifest } = verified;
  const { runtime } = options;
  const name = validateName(options.name ?? manifest.environment.name);
  const envDir = join(options.environmentsDir, name);
  await refuseExistingEnvironment(envDir, name, options.force);
  // Read before anything changes: a malformed snapshot file or run record refuses the import.
  const snapshot = readArchiveSnapshot(verified.dir, name);
  const { checkedArchiveRecords, placeRecords } = await import("../proof/bundle.ts");
  await checkedArchiveRecords(verified.dir);

  // Removed by this flow's own finally (never under it by the signal handler: a swap may
  // be under way).
  const owned = await makeOwnedTempDir(options.environmentsDir, ".venvoy-stage-", {
    removeOnSignal: false,
  });
  try {
    const staging = join(owned.dir, "env");
    await Deno.mkdir(staging);
    // Only what export may write into env/ comes in (env_allow.ts); the rest is named.
    const dropped = await moveAllowed(join(verified.dir, ENV_PREFIX), staging);
    // Archives hold files, not empty folders: a session bind-mounts persist/, which must exist.
    for (const d of [PERSIST_DIR, "vendor"]) {
      const st = await Deno.lstat(join(staging, d)).catch(() => null);
      if (st && !st.isDirectory) {
        throw new NameClashError(
          `refusing the archive: env/${d} must be a folder, but it is a ${
            st.isSymlink ? "symlink" : "file"
          }`,
        );
      }
      await Deno.mkdir(join(staging, d), { recursive: true });
    }
    throwIfSignalled();

    let image: string;
    let imageId: string | null;
    if (runtime.produces === "sif") {
      const sif = manifest.image.sif;
      const tar = manifest.image.docker_archive;
      if (!sif && !tar) throw new VenvoyError("the archive holds no image");
      const staged = join(staging, "image.sif");
      await runtime.load(join(verified.dir, (sif ?? tar)!), {
        target: staged,
        kind: sif ? "sif" : "docker-archive",
      });
      throwIfSignalled();
      image = join(envDir, "image.sif");
      imageId = (await runtime.inspect(staged))?.id ?? null;
      // Made here by venvoy, from the verified member: recorded so that sessions run it.
      if (imageId) recordSif(staged, imageId, imageId.replace(/^sha256:/, ""));
      await patchConfig(join(staging, "config.yaml"), {
        name,
        engine: runtime.name,
        image,
        image_id: imageId,
      });
    } else {
      const tar = manifest.image.docker_archive;
      if (!tar) {
        throw new VenvoyError(
          "this archive holds only a SIF image, which docker and podman cannot load",
          {
            hint: "import it with --engine apptainer (or singularity)",
          },
        );
      }
      // The tar's own names go before the load: only venvoy's tag for this environment
      // may result. Its image ID must be the manifest's, or nothing is loaded.
      const tarPath = join(verified.dir, tar);
      const stripped = await stripImageNames(tarPath, { expectId: manifest.image.id });
      imageId = stripped.imageId;
      image = imageTag(name);
      await patchConfig(join(staging, "config.yaml"), {
        name,
        engine: runtime.name,
        image,
        image_id: imageId,
      });
      throwIfSignalled();
      try {
        await runtime.load(tarPath, { target: image, expectId: imageId });
      } catch (e) {
        if (e instanceof VenvoyError && /not the expected/.test(e.message)) {
          throw new ChecksumMismatchError(e.message, { hint: e.hint });
        }
        throw e;
      }
    }
    await swapInto(staging, envDir);
    const snapshots = await addSnapshots(snapshot, join(options.projectsDir, name), options.now);
    await placeRecords(verified.dir, join(options.projectsDir, name));
    return { name, envDir, image, imageId, manifest, snapshots, dropped };
  } finally {
    await owned.release();
  }
}

/** Sets keys of config.yaml, keeping everything else (comments included). */
async function patchConfig(path: string, values: Record<string, string | null>): Promise<void> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch { /* an archive without config.yaml gets a minimal one */ }
  const doc = parseDocument(text.trim() ? text : "{}");
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    const why = doc.errors[0]?.message.split("\n")[0] ?? "not a YAML mapping";
    throw new InvalidManifestError(
      `refusing the archive: env/config.yaml is not a YAML mapping (${printable(why)})`,
    );
  }
  for (const [k, v] of Object.entries(values)) doc.set(k, v);
  await writeFileAtomic(path, doc.toString(), { fsync: true });
}

/** Renames `staging` to `envDir`; an existing folder is moved aside first, then removed. */
async function swapInto(staging: string, envDir: string): Promise<void> {
  let aside: string | null = null;
  try {
    await Deno.lstat(envDir);
    aside = `${dirname(envDir)}/.${basename(envDir)}.replaced-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.rename(envDir, aside);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  try {
    await Deno.rename(staging, envDir);
  } catch (e) {
    if (aside) await Deno.rename(aside, envDir).catch(() => {});
    throw e;
  }
  if (aside) await Deno.remove(aside, { recursive: true }).catch(() => {});
}

/**
 * Replaces the environment folder `envDir` with one that `build` creates in its place
 * (for rebuilds that must run at the real path). The old folder is set aside first and
 * kept until `build` succeeds; then its `keep` entries (persist/: the user's files) move
 * into the new folder and the rest goes. If `build` fails, the new folder is removed and
 * the old one put back exactly as it was.
 */
export async function replaceEnvironment<T>(
  envDir: string,
  build: () => Promise<T>,
  options: { keep?: string[] } = {},
): Promise<T> {
  const keep = options.keep ?? [PERSIST_DIR];
  let aside: string | null = null;
  if (await Deno.lstat(envDir).then(() => true, () => false)) {
    aside = `${dirname(envDir)}/.${basename(envDir)}.replaced-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.rename(envDir, aside);
  }
  let result: T;
  try {
    throwIfSignalled();
    // Once built (its image tagged), the new environment stays, even if a signal came.
    result = await build();
  } catch (e) {
    await Deno.remove(envDir, { recursive: true }).catch(() => {});
    if (aside) await Deno.rename(aside, envDir);
    throw e;
  }
  if (aside) {
    for (const k of keep) {
      if (!(await Deno.lstat(join(aside, k)).then(() => true, () => false))) continue;
      await Deno.remove(join(envDir, k), { recursive: true }).catch(() => {});
      await Deno.rename(join(aside, k), join(envDir, k));
    }
    await Deno.remove(aside, { recursive: true }).catch(() => {});
  }
  return result;
}

/** The archive's environment.yml / renv.lock as a snapshot of `name` (null: none). */
export function readArchiveSnapshot(from: string, name: string): Snapshot | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(from, "environment.yml"));
  } catch {
    return null;
  }
  const snap = parseEnvironmentYml(text, "environment.yml");
  snap.meta.name = name;
  let lockText: string | null = null;
  try {
    lockText = Deno.readTextFileSync(join(from, "renv.lock"));
  } catch { /* a Python environment */ }
  if (lockText !== null) {
    const lock = parseRenvLock(lockText, "renv.lock");
    snap.state.r = lock.packages;
    snap.meta.rVersion ??= lock.rVersion ?? undefined;
    if (lock.repositories.length) snap.meta.repositories = lock.repositories;
  }
  return snap;
}

/**
 * Adds the archive's snapshot as the latest one and as a history entry, through the
 * snapshot store: under its lock, with a UTC id that is later than every existing one.
 */
export async function addSnapshots(
  snap: Snapshot | null,
  snapDir: string,
  now = new Date(),
): Promise<string[]> {
  if (!snap) return [];
  const w = await writeSnapshot(snapDir, snap, { now, force: true });
  return [join(snapDir, "environment.yml"), w.entry.yml];
}

/**
 * Moves what the allow-list takes (env_allow.ts) from a verified env/ folder into `dest`
 * (rename, or copy across filesystems) and returns the rest, as `env/<path>`: a folder
 * off the list is named once, not file by file. A SIF, a config cache or a stamp the
 * archive placed never reaches the environment, so nothing but venvoy's own files
 * decides which image runs.
 */
async function moveAllowed(src: string, dest: string): Promise<string[]> {
  const dropped: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(rel ? join(src, rel) : src)];
    } catch {
      return; // an archive without an env/ folder
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const allowance = envAllowance(r);
      const isDir = e.isDirectory;
      if (allowance === "way") {
        // env/persist, env/persist/R: folders of the layout, or the archive is refused.
        if (!isDir) {
          throw new NameClashError(
            `refusing the archive: env/${r} must be a folder, but it is a ${
              e.isSymlink ? "symlink" : "file"
            }`,
          );
        }
        await Deno.mkdir(join(dest, r), { recursive: true });
        await walk(r);
      } else if ((allowance === "file" && !isDir) || allowance === "tree") {
        if (isDir) dropped.push(...dropPersonal(join(src, r), r));
        await moveOne(join(src, r), join(dest, r));
      } else {
        dropped.push(`${ENV_PREFIX}/${r}${isDir ? "/" : ""}`);
      }
    }
  };
  await walk("");
  return dropped;
}

/** Removes credential files (env_allow.ts) inside an allowed folder; returns them. */
function dropPersonal(dir: string, rel: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const r = `${rel}/${e.name}`;
    if (envAllowance(r) === "personal") {
      Deno.removeSync(join(dir, e.name), { recursive: true });
      out.push(`${ENV_PREFIX}/${r}`);
    } else if (e.isDirectory) out.push(...dropPersonal(join(dir, e.name), r));
  }
  return out;
}

async function moveOne(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch {
    await copyTree(from, to);
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  const st = await Deno.lstat(from);
  if (st.isSymlink) await Deno.symlink(await Deno.readLink(from), to);
  else if (st.isDirectory) {
    await Deno.mkdir(to, { recursive: true });
    for await (const e of Deno.readDir(from)) await copyTree(join(from, e.name), join(to, e.name));
  } else await Deno.copyFile(from, to);
}

export type ImportResult =
  | { format: "archive"; environment: ImportedEnvironment }
  | { format: "tarball"; verified: VerifiedArchive }
  | { format: "yaml" | "dockerfile"; path: string };

/**
 * `venvoy import FILE`: archives are imported completely here. A tarball comes back
 * verified and unpacked (its folder is for the environment layer to build; call
 * verified.cleanup() after), and a YAML file or Dockerfile comes back as detected.
 */
export async function importFile(
  file: string,
  options: ImportArchiveOptions,
): Promise<ImportResult> {
  const format = await detectFormat(file);
  if (format !== "archive-or-tarball") return { format, path: file };
  await Deno.mkdir(options.environmentsDir, { recursive: true });
  const verified = await extractVerified(file, {
    tmpDir: options.tmpDir ?? options.environmentsDir,
    onProgress: options.onProgress,
  });
  if (verified.manifest.format === "venvoy-tarball") return { format: "tarball", verified };
  try {
    if (options.name) validateName(options.name);
    return { format: "archive", environment: await install(verified, options) };
  } catch (e) {
    throwIfSignalled(); // a hang-up removed the folders under the step: say so, not ENOENT
    throw e;
  } finally {
    await verified.cleanup();
  }
}
