/**
 * `venvoy sbom` and every archive's sbom.cdx.json: an environment's components, gathered
 * from what venvoy already records and from the image itself.
 *
 *   Python, R, conda   base-packages.json overlaid by persist/ (snapshot/state.ts), each
 *                      marked image or persist; wheel hashes from requirements.lock
 *   OS packages        asked of the image (dpkg, rpm or apk) through the runtime adapter
 *   base image         base_image_pinned from config.yaml (registry digest or image ID)
 *   venvoy             metadata.tools
 */
import { join } from "node:path";
import type { ContainerRuntime } from "../runtime/mod.ts";
import type { EnvConfig } from "../env/config.ts";
import { renderSbom, type SbomInput, type SbomPackage } from "./cyclonedx.ts";
import { type OsPackages, queryOsPackages } from "./os.ts";

export { SBOM_FILE, SPEC_VERSION } from "./cyclonedx.ts";
export type { SbomInput, SbomPackage } from "./cyclonedx.ts";
export type { OsPackages } from "./os.ts";

/** requirements.lock (venvoy freeze, pip's hash format): PEP 503 name -> version, hashes. */
export function parseLockHashes(text: string): Map<string, { version: string; hashes: string[] }> {
  const out = new Map<string, { version: string; hashes: string[] }>();
  let current: { version: string; hashes: string[] } | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)/.exec(line);
    if (m) {
      current = { version: m[2], hashes: [] };
      out.set(m[1].replace(/[-_.]+/g, "-").toLowerCase(), current);
    }
    for (const h of line.matchAll(/--hash=sha256:([0-9a-fA-F]{64})/g)) {
      current?.hashes.push(h[1].toLowerCase());
    }
  }
  return out;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

export interface SbomFacts {
  envDir: string;
  config: EnvConfig;
  /** The image the OS packages are asked of (tag or SIF path). */
  image: string;
  imageId: string | null;
  architecture?: string | null;
  os: OsPackages;
  venvoyVersion: string;
}

/** Python/R/conda from the package state, each marked image or persist. */
export async function sbomInput(facts: SbomFacts): Promise<SbomInput> {
  const { readPackageState, parseBasePackages } = await import("../snapshot/state.ts");
  const { state } = await readPackageState(facts.envDir);
  const basePath = join(facts.envDir, "base-packages.json");
  const baseText = await readText(basePath);
  const base = baseText ? await parseBasePackages(baseText, basePath) : null;
  // conda channels are in base-packages.json only (state.ts keeps name and version).
  const channels = new Map<string, string>();
  try {
    for (const c of JSON.parse(baseText ?? "{}").conda ?? []) {
      if (typeof c?.name === "string" && typeof c?.channel === "string") {
        channels.set(c.name.toLowerCase(), c.channel);
      }
    }
  } catch { /* parseBasePackages reported it */ }
  const inBase = (list: "python" | "r" | "conda", name: string, version: string) =>
    base?.[list].some((p) => p.name === name && p.version === version) ?? false;
  const lock = parseLockHashes((await readText(join(facts.envDir, "requirements.lock"))) ?? "");
  const layer = (list: "python" | "r" | "conda", name: string, version: string) =>
    inBase(list, name, version) ? "image" as const : "persist" as const;
  const python: SbomPackage[] = state.python.map((p) => {
    const l = lock.get(p.name);
    return {
      name: p.name,
      version: p.version,
      layer: layer("python", p.name, p.version),
      ...(l && l.version === p.version && l.hashes.length ? { hashes: l.hashes } : {}),
    };
  });
  const r: SbomPackage[] = state.r.map((p) => ({
    name: p.name,
    version: p.version,
    layer: layer("r", p.name, p.version),
    ...(p.source ? { source: p.source } : {}),
  }));
  const conda: SbomPackage[] = state.conda.map((p) => ({
    name: p.name,
    version: p.version,
    layer: layer("conda", p.name, p.version),
    ...(channels.get(p.name) ? { channel: channels.get(p.name) } : {}),
  }));
  const c = facts.config;
  return {
    name: c.name,
    runtime: c.runtime,
    engine: c.engine,
    pythonVersion: c.python_version,
    rVersion: c.r_version,
    asOf: c.as_of ?? null,
    imageId: facts.imageId,
    imageRef: facts.image,
    architecture: facts.architecture ?? null,
    baseImage: c.base_image,
    baseImagePinned: c.base_image_pinned,
    python,
    r,
    conda,
    os: facts.os,
    venvoyVersion: facts.venvoyVersion,
  };
}

export interface GenerateOptions {
  runtime: ContainerRuntime;
  envDir: string;
  config: EnvConfig;
  /** Tag or SIF path (default: config.image). */
  image?: string;
  venvoyVersion: string;
  user?: { uid: number; gid: number };
  /** Use these instead of asking the image (an image that cannot run). */
  osPackages?: OsPackages;
}

export function noOsPackages(): OsPackages {
  return { kind: null, distro: null, packages: [] };
}

export interface GeneratedSbom {
  text: string;
  counts: { python: number; r: number; conda: number; os: number; total: number };
}

/** Asks the image for its OS packages, then renders sbom.cdx.json. */
export async function generateSbom(o: GenerateOptions): Promise<GeneratedSbom> {
  const image = o.image ?? o.config.image;
  const info = await o.runtime.inspect(image);
  const os = o.osPackages ?? await queryOsPackages(o.runtime, image, { user: o.user });
  const input = await sbomInput({
    envDir: o.envDir,
    config: o.config,
    image,
    imageId: info?.id ?? o.config.image_id,
    architecture: info?.architecture || o.config.host?.architecture || null,
    os,
    venvoyVersion: o.venvoyVersion,
  });
  const text = await renderSbom(input);
  const counts = {
    python: input.python.length,
    r: input.r.length,
    conda: input.conda.length,
    os: os.kind ? os.packages.length : 0,
    total: (JSON.parse(text).components as unknown[]).length,
  };
  return { text, counts };
}

/**
 * sbom.cdx.json for an export (archive, tarball): the environment's packages and its image's
 * OS packages; if the image cannot be asked for those, without them, and `onWarning` says so.
 */
export async function exportSbom(o: {
  runtime: ContainerRuntime;
  envDir: string;
  config: EnvConfig;
  image: string;
  venvoyVersion: string;
  user?: { uid: number; gid: number };
  onWarning?: (message: string) => void;
}): Promise<string> {
  const common = {
    runtime: o.runtime,
    envDir: o.envDir,
    config: o.config,
    image: o.image,
    venvoyVersion: o.venvoyVersion,
    user: o.user,
  };
  try {
    return (await generateSbom(common)).text;
  } catch (e) {
    o.onWarning?.(`the SBOM lists no OS packages: ${(e as Error).message}`);
    return (await generateSbom({ ...common, osPackages: noOsPackages() })).text;
  }
}
