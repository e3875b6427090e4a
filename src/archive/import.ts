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
import { parse as parseYaml, parseDocument } from "yaml";
import { imageTag, validateName } from "../env/names.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { ChecksumMismatchError, NotAnArchiveError } from "./errors.ts";
import { ENV_PREFIX } from "./export.ts";
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
  } finally {
    await verified.cleanup();
  }
}

async function install(
  verified: VerifiedArchive,
  options: ImportArchiveOptions,
): Promise<ImportedEnvironment> {
  const { manifest } = verified;
  const { runtime } = options;
  const name = validateName(options.name ?? manifest.environment.name);
  const envDir = join(options.environmentsDir, name);
  await refuseExistingEnvironment(envDir, name, options.force);

  const staging = await Deno.makeTempDir({
    dir: options.environmentsDir,
    prefix: `.${name}.importing-`,
  });
  let swapped = false;
  try {
    const envSrc = join(verified.dir, ENV_PREFIX);
    await moveTree(envSrc, staging);
    // Archives hold files, not empty folders: a session bind-mounts persist/, which must exist.
    for (const d of ["persist", "vendor"]) {
      await Deno.mkdir(join(staging, d), { recursive: true });
    }

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
      image = join(envDir, "image.sif");
      imageId = (await runtime.inspect(staged))?.id ?? null;
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
      image = await runtime.load(join(verified.dir, tar), { target: imageTag(name) });
      imageId = (await runtime.inspect(image))?.id ?? null;
      if (manifest.image.id && imageId !== manifest.image.id) {
        await runtime.remove(image).catch(() => {});
        throw new ChecksumMismatchError(
          `the loaded image has ID ${imageId}, but the archive's manifest says ${manifest.image.id}`,
        );
      }
    }

    await patchConfig(join(staging, "config.yaml"), {
      name,
      engine: runtime.name,
      image,
      image_id: imageId,
    });
    await swapInto(staging, envDir);
    swapped = true;
    const snapshots = await addSnapshots(
      verified.dir,
      join(options.projectsDir, name),
      options.now,
    );
    const { placeRecords } = await import("../proof/bundle.ts");
    await placeRecords(verified.dir, join(options.projectsDir, name));
    return { name, envDir, image, imageId, manifest, snapshots };
  } finally {
    if (!swapped) await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/** Sets keys of config.yaml, keeping everything else (comments included). */
async function patchConfig(path: string, values: Record<string, string | null>): Promise<void> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch { /* an archive without config.yaml gets a minimal one */ }
  const doc = parseDocument(text.trim() ? text : "{}");
  for (const [k, v] of Object.entries(values)) doc.set(k, v);
  await writeAtomic(path, doc.toString());
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${crypto.randomUUID().slice(0, 8)}`);
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
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

/** Adds environment.yml / renv.lock as the latest snapshot and as a dated history entry. */
async function addSnapshots(from: string, snapDir: string, now = new Date()): Promise<string[]> {
  const written: string[] = [];
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_` +
    `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  for (
    const [member, stem, ext] of [["environment.yml", "environment", "yml"], [
      "renv.lock",
      "renv",
      "lock",
    ]]
  ) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(from, member));
    } catch {
      continue;
    }
    await Deno.mkdir(snapDir, { recursive: true });
    const dated = join(snapDir, `${stem}_${stamp}.${ext}`);
    await writeAtomic(dated, text);
    await writeAtomic(join(snapDir, member), text);
    written.push(join(snapDir, member), dated);
  }
  if (written.length) await writeAtomic(join(snapDir, ".last_updated"), now.toISOString() + "\n");
  return written;
}

/** Moves a verified folder's contents into `dest` (rename, or copy across filesystems). */
async function moveTree(src: string, dest: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(src)];
  } catch {
    return; // an archive without an env/ folder
  }
  for (const e of entries) {
    const from = join(src, e.name);
    const to = join(dest, e.name);
    try {
      await Deno.rename(from, to);
    } catch {
      await copyTree(from, to);
    }
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
  } finally {
    await verified.cleanup();
  }
}
