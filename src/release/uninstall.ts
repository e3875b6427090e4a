/**
 * `venvoy uninstall`, the domain part: a plan of everything venvoy put on this machine
 * (containers and images of this VENVOY_HOME, SIFs, the installer's rc blocks, state,
 * snapshots, unpacked caches, links and binaries), its description, and its execution.
 * The command (src/commands/uninstall.ts) asks and prints.
 */
import { basename, dirname, join } from "node:path";
import { cacheDirs } from "../boot/packed.ts";
import { readConfig } from "../env/config.ts";
import { ownerKey } from "../env/owner.ts";
import type { StatePaths } from "../env/paths.ts";
import { envDir, listEnvNames } from "../env/store.ts";
import type { ProcessRunner } from "../process/mod.ts";
import { ApptainerRuntime } from "../runtime/apptainer.ts";
import { probeRuntimes } from "../runtime/detect.ts";
import {
  type ContainerRuntime,
  createRuntime,
  MANAGED_LABELS,
  OWNER_LABEL,
} from "../runtime/mod.ts";
import { ProcessError, VenvoyError } from "../ui/errors.ts";
import { imageTag, isValidName } from "../util/names.ts";
import {
  bytesToByteString,
  editRcFile,
  hasBlock,
  rcCandidates,
  realPathOr,
  removeBlock,
  selfPath,
} from "./mod.ts";

/** What planning needs from the command. */
export interface UninstallContext {
  runner: ProcessRunner;
  paths: StatePaths;
}

/** What planning takes from outside (tests). */
export interface PlanDeps {
  /** The running venvoy's file; null from source. Default: selfPath(). */
  self?: string | null;
  os?: string;
}

export interface UninstallOptions {
  force?: boolean;
  keepProjects?: boolean;
  keepImages?: boolean;
  dryRun?: boolean;
}

interface Found {
  /** The engine binary that lists and removes it. */
  binary: string;
  runtime: ContainerRuntime;
  id: string;
  /** Image names ("repo:tag"); removing the last one removes the image. */
  refs: string[];
  /** What a person reads. */
  label: string;
}

export interface UninstallPlan {
  containers: Found[];
  images: Found[];
  /** SIF files; deleted with $VENVOY_HOME, or kept with --keep-images. */
  sifs: string[];
  rcFiles: string[];
  projects: string | null;
  venvoyHome: string | null;
  /** Paths inside $VENVOY_HOME that stay. */
  keepInHome: string[];
  /** Folders where the single-file build unpacked itself (src/boot/packed.ts). */
  caches: string[];
  links: string[];
  binaries: string[];
  /** What could not be looked at, or needs doing by hand. */
  notes: string[];
}

export async function planUninstall(
  ctx: UninstallContext,
  opts: UninstallOptions,
  deps: PlanDeps = {},
): Promise<UninstallPlan> {
  const env = (n: string) => ctx.runner.env(n);
  const os = deps.os ?? Deno.build.os;
  const { home, venvoyHome, projects } = ctx.paths;
  const plan: UninstallPlan = {
    containers: [],
    images: [],
    sifs: [],
    rcFiles: [],
    projects: null,
    venvoyHome: null,
    keepInHome: [],
    caches: [],
    links: [],
    binaries: [],
    notes: [],
  };

  if (!opts.keepImages) await findRuntimeObjects(ctx, plan);
  plan.sifs =
    (await new ApptainerRuntime(ctx.runner, "apptainer", { sifRoot: ctx.paths.environments })
      .listImages({ ...MANAGED_LABELS }))
      .map((i) => i.id);

  for (const rc of rcCandidates({ home, env })) {
    const text = await readIfFile(rc);
    if (text !== null && hasBlock(text)) plan.rcFiles.push(rc);
  }

  if (!opts.keepProjects && await exists(projects)) {
    plan.projects = guardFolder(projects, home, "VENVOY_PROJECTS");
  }
  if (await exists(venvoyHome)) {
    plan.venvoyHome = guardFolder(venvoyHome, home, "VENVOY_HOME");
    if (opts.keepImages) plan.keepInHome.push(...plan.sifs);
    if (opts.keepProjects && isInside(projects, venvoyHome)) plan.keepInHome.push(projects);
  }
  for (const dir of cacheDirs(env, os)) if (await exists(dir)) plan.caches.push(dir);

  // The binary: the running one, and the one the installer put in its folder.
  const exe = os === "windows" ? "venvoy.exe" : "venvoy";
  const installDir = env("VENVOY_INSTALL_DIR") ||
    (os === "windows"
      ? join(env("LOCALAPPDATA") || join(home, "AppData", "Local"), "venvoy", "bin")
      : join(home, ".local", "bin"));
  const self = deps.self === undefined ? selfPath() : deps.self;
  const binaries = new Set<string>();
  if (self) binaries.add(realPathOr(self));
  const installed = join(installDir, exe);
  if ((await lstat(installed))?.isFile) binaries.add(realPathOr(installed));
  plan.binaries = [...binaries];

  // Links to it: the installer's /usr/local/bin/venvoy, and any beside the binaries.
  const linkDirs = new Set([installDir, env("VENVOY_LINK_DIR") ?? "/usr/local/bin"]);
  for (const b of plan.binaries) linkDirs.add(dirname(b));
  for (const dir of linkDirs) {
    if (!dir) continue;
    for (const name of [exe, "vup-core"]) {
      const p = join(dir, name);
      if (!(await lstat(p))?.isSymlink) continue;
      const to = realPathOr(p);
      if (plan.binaries.includes(to) || (!(await exists(to)) && pointsAtVenvoy(p))) {
        plan.links.push(p);
      }
    }
  }
  if (os === "windows" && plan.binaries.length) {
    plan.notes.push(
      `remove ${installDir} from your user PATH (Settings > Environment Variables), ` +
        "or in PowerShell: see docs/install.md",
    );
  }
  if (!self && plan.binaries.length === 0) {
    plan.notes.push("this venvoy runs from its source tree; no installed binary was found");
  }
  return plan;
}

/** What this VENVOY_HOME recorded: each environment's name, image and image ID. */
async function recordedEnvs(
  ctx: UninstallContext,
): Promise<{ name: string; refs: string[]; imageId: string | null }[]> {
  const out: { name: string; refs: string[]; imageId: string | null }[] = [];
  for (const name of await listEnvNames(ctx.paths).catch(() => [])) {
    // No cache write: a dry run changes nothing.
    const c = await readConfig(envDir(ctx.paths, name), { cache: false }).catch(() => null);
    if (!c) continue;
    // The image docker/podman hold (for a SIF environment, the image it was converted from).
    const refs = new Set<string>();
    if (c.image && !c.image.endsWith(".sif")) refs.add(c.image);
    if (isValidName(name)) refs.add(imageTag(name));
    out.push({ name, refs: [...refs], imageId: c.image_id });
  }
  return out;
}

function sameId(a: string | null | undefined, b: string | null | undefined): boolean {
  const norm = (x: string) => x.replace(/^sha256:/, "");
  return !!a && !!b && norm(a) === norm(b);
}

/**
 * This VENVOY_HOME's containers and images in every usable docker/podman store, and
 * nothing else: images carrying its owner key, and the images its environments recorded
 * (when the name still points at the recorded image ID, or at an image with its key). On
 * a shared Docker daemon, other users' images (and other VENVOY_HOMEs') are never matched.
 */
async function findRuntimeObjects(ctx: UninstallContext, plan: UninstallPlan): Promise<void> {
  const probes = (await probeRuntimes(ctx.runner))
    .filter((p) => p.usable && (p.name === "docker" || p.name === "podman"));
  if (!probes.length) return;
  const key = await ownerKey(ctx.paths.venvoyHome);
  const envs = await recordedEnvs(ctx);
  const names = new Set(envs.map((e) => e.name));
  const seenContainers = new Set<string>();
  const seenImages = new Set<string>();
  for (const p of probes) {
    const runtime = createRuntime(p.name, ctx.runner, p);
    try {
      const images = new Map<string, string[]>();
      // One label filter (the docker API on podman's socket ORs several), and each image
      // found is inspected: only its own labels decide, never how the engine filtered.
      for (const i of await runtime.listImages({ [OWNER_LABEL]: key })) {
        const info = await runtime.inspect(i.id);
        if (info?.labels[OWNER_LABEL] === key) images.set(i.id, i.refs);
      }
      for (const e of envs) {
        for (const ref of e.refs) {
          const info = await runtime.inspect(ref);
          if (!info) continue;
          const mine = info.labels[OWNER_LABEL] === key ||
            (!info.labels[OWNER_LABEL] && sameId(info.id, e.imageId));
          if (!mine) continue;
          const id = info.id.startsWith("sha256:") ? info.id : `sha256:${info.id}`;
          const refs = images.get(id) ?? [];
          if (!refs.includes(ref)) refs.push(ref);
          images.set(id, refs);
        }
      }
      const refsOfMine = new Set([...images].flatMap(([id, refs]) => [id, ...refs]));
      for (const c of await runtime.listContainers({ ...MANAGED_LABELS })) {
        const ours = c.labels[OWNER_LABEL] === key ||
          (!c.labels[OWNER_LABEL] && names.has(c.labels["org.venvoy.env"] ?? "") &&
            refsOfMine.has(c.image));
        if (!ours || seenContainers.has(c.id.slice(0, 12))) continue;
        seenContainers.add(c.id.slice(0, 12));
        plan.containers.push({
          binary: p.path,
          runtime,
          id: c.id,
          refs: [],
          label: `${p.name} container ${c.name || c.id.slice(0, 12)} (${c.image})`,
        });
      }
      for (const [id, refs] of images) {
        if (seenImages.has(id)) continue;
        seenImages.add(id);
        const name = refs.length ? refs.join(", ") : "(untagged)";
        plan.images.push({
          binary: p.path,
          runtime,
          id,
          refs,
          label: `${p.name} image ${name} ${id.slice(7, 19)}`,
        });
      }
    } catch (e) {
      plan.notes.push(`could not list ${p.name}'s containers and images: ${(e as Error).message}`);
    }
  }
}

export function describePlan(plan: UninstallPlan, opts: UninstallOptions): string[] {
  const lines: string[] = [];
  for (const c of plan.containers) lines.push(`  ${c.label}`);
  for (const i of plan.images) lines.push(`  ${i.label}`);
  if (!opts.keepImages) { for (const s of plan.sifs) lines.push(`  SIF file ${s}`); }
  for (const rc of plan.rcFiles) lines.push(`  venvoy's block in ${rc}`);
  if (plan.projects) lines.push(`  snapshots: ${plan.projects}`);
  if (plan.venvoyHome) {
    const keep = plan.keepInHome.length ? ` (keeping ${plan.keepInHome.join(", ")})` : "";
    lines.push(`  state: ${plan.venvoyHome}${keep}`);
  }
  for (const c of plan.caches) lines.push(`  cache: ${c}`);
  for (const l of plan.links) lines.push(`  link ${l}`);
  for (const b of plan.binaries) lines.push(`  binary ${b}`);
  return lines;
}

/** Removes what the plan lists, containers first and the binary last; returns failures. */
export async function executeUninstall(plan: UninstallPlan): Promise<string[]> {
  const failures: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      failures.push(`could not remove ${what}: ${(e as Error).message}`);
    }
  };
  for (const c of plan.containers) {
    await attempt(c.label, async () => {
      await c.runtime.removeContainer(c.id).catch((e) => {
        // The engine's own words, as before the adapter did the removing.
        if (e instanceof ProcessError) throw new Error(e.stderr.trim() || `exit ${e.code}`);
        throw e;
      });
    });
  }
  for (const i of plan.images) {
    await attempt(i.label, async () => {
      for (const ref of i.refs.length ? i.refs : [i.id]) await i.runtime.remove(ref);
    });
  }
  for (const rc of plan.rcFiles) {
    await attempt(
      `venvoy's block in ${rc}`,
      // An emptied startup file goes only when the installer created it (its block says
      // so) or it is fish's conf.d/venvoy.fish; one that was empty before the install stays.
      () =>
        editRcFile(rc, removeBlock, {
          deleteIfCreated: true,
          deleteIfEmpty: basename(rc) === "venvoy.fish",
        }),
    );
  }
  if (plan.projects) {
    const p = plan.projects;
    await attempt(p, () => Deno.remove(p, { recursive: true }));
  }
  if (plan.venvoyHome) {
    const h = plan.venvoyHome;
    await attempt(h, () => removeTreeExcept(h, plan.keepInHome));
  }
  for (const c of plan.caches) await attempt(c, () => Deno.remove(c, { recursive: true }));
  for (const l of plan.links) await attempt(l, () => Deno.remove(l));
  for (const b of plan.binaries) await attempt(b, () => removeBinary(b));
  return failures;
}

/** A running .exe cannot be deleted on Windows: it is renamed, and goes at next boot. */
async function removeBinary(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (Deno.build.os !== "windows") throw e;
    await Deno.rename(path, `${path}.old`);
    throw new Error(`it is running; delete ${path}.old after this command ends`);
  }
}

/** Deletes `root` except the listed paths inside it (and the folders leading to them). */
export async function removeTreeExcept(root: string, keep: string[]): Promise<void> {
  const inside = keep.filter((k) => k === root || isInside(k, root));
  if (inside.includes(root)) return;
  if (inside.length === 0) {
    await Deno.remove(root, { recursive: true });
    return;
  }
  for await (const e of Deno.readDir(root)) {
    const p = join(root, e.name);
    if (inside.includes(p)) continue;
    if (e.isDirectory && inside.some((k) => isInside(k, p))) await removeTreeExcept(p, inside);
    else await Deno.remove(p, { recursive: true });
  }
}

function isInside(path: string, dir: string): boolean {
  const d = dir.replace(/[\\/]+$/, "");
  return path.startsWith(`${d}/`) || path.startsWith(`${d}\\`);
}

/** Refuses to plan the removal of the home folder itself, or of a folder above it. */
function guardFolder(folder: string, home: string, variable: string): string {
  if (folder === "/" || folder === home || isInside(home, folder)) {
    throw new VenvoyError(
      `${variable} is ${folder}, which holds your home folder; venvoy will not delete it`,
      { hint: `set ${variable} to venvoy's own folder, or unset it` },
    );
  }
  return folder;
}

function pointsAtVenvoy(link: string): boolean {
  try {
    return /venvoy(\.exe)?$/.test(Deno.readLinkSync(link));
  } catch {
    return false;
  }
}

/** The file's bytes as a byte string (markers are ASCII; nothing is decoded). */
async function readIfFile(path: string): Promise<string | null> {
  try {
    return bytesToByteString(await Deno.readFile(path));
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.stat(path).catch(() => null)) !== null;
}

async function lstat(path: string): Promise<Deno.FileInfo | null> {
  return await Deno.lstat(path).catch(() => null);
}
