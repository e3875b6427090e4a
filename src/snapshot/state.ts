/**
 * The current package state of an environment, read on the host with no container:
 * `<envdir>/base-packages.json` (what the image contains) overlaid by `<envdir>/persist/`
 * (what sessions installed since; it shadows the image, so its versions win):
 *
 *   persist/python/lib/python<X.Y>/site-packages/*.dist-info   (and legacy *.egg-info)
 *   persist/R/library/<pkg>/DESCRIPTION
 *   persist/conda/conda-meta/*.json   (+ pip installs inside that prefix)
 *
 * Reading is cheap: directory listings, plus one small file per R or conda package.
 * persist/ is what containers wrote, so it is read through safe_fs (PersistReader): no link
 * is followed, no FIFO opened, no file over MAX_META_BYTES read.
 */
import { join } from "../util/path.ts";
import { PERSIST_DIR } from "../recipe/plan.ts";
import { SnapshotFormatError } from "./errors.ts";
import {
  emptyState,
  normalizePythonName,
  type PackageState,
  type Pkg,
  type Snapshot,
  type SnapshotMeta,
  sortPkgs,
} from "./model.ts";
import { isCondaPackage, isPythonName, isPythonVersion, isRPackage } from "../util/grammar.ts";
import { warn } from "../ui/output.ts";

/**
 * Names and versions read from folder names and package metadata are checked against their
 * grammar (PEP 503 names and PEP 440 versions, R's, conda's) where they are read: anything
 * else (a folder named `$(touch x)-1.0.dist-info`) is not a package that can be installed,
 * and is left out before it can reach a build file or a command line.
 */
export function pythonPkg(name: string, version: string): Pkg | null {
  const n = name.trim();
  const v = version.trim();
  if (!isPythonName(n) || !isPythonVersion(v)) return null;
  return { name: normalizePythonName(n), version: v };
}

export interface StateReading {
  state: PackageState;
  /** The interpreter version when the conda prefix has python itself. */
  pythonVersion?: string;
  /** conda channels seen in conda-meta. */
  channels: string[];
  /** False when base-packages.json does not exist yet (the image was never listed). */
  hasBase: boolean;
  /**
   * Metadata files under persist/ that are not regular files (a link, a FIFO), relative to
   * the environment folder: their packages are not counted, and pip in the container would
   * open them (a FIFO blocks it for ever).
   */
  unsafe: string[];
}

export const BASE_PACKAGES = "base-packages.json";

type SafeFs = typeof import("../util/safe_fs.ts");

/** The most of one metadata file read (METADATA, DESCRIPTION, a conda-meta record). */
export const MAX_META_BYTES = 4 * 1024 * 1024;

/** Unsafe files already warned about, by path: each is named once per process. */
const warned = new Set<string>();

function warnOnce(path: string, why: string): void {
  if (warned.has(path)) return;
  warned.add(path);
  warn(`not read: ${why} (a session wrote it; venvoy follows no link and opens no FIFO there)`);
}

/**
 * Reads persist/, which sessions (containers) wrote: every path relative to its root,
 * through safe_fs (no link followed, regular files only, a size cap). A link, a FIFO or an
 * oversized file is skipped with a warning; a folder that is a link is not walked.
 */
export class PersistReader {
  private constructor(
    readonly root: string | null,
    private readonly fs: SafeFs | null,
    private readonly label: string,
  ) {}

  /** A reader of `<envDir>/persist` (none there: every listing is empty). */
  static async open(envDir: string): Promise<PersistReader> {
    const root = join(envDir, PERSIST_DIR);
    try {
      if (!Deno.lstatSync(root).isDirectory) return new PersistReader(null, null, root);
    } catch {
      return new PersistReader(null, null, root);
    }
    // node:fs, loaded here: `venvoy run` reads persist/ only after its container ended.
    return new PersistReader(root, await import("../util/safe_fs.ts"), root);
  }

  /** Metadata paths found not to be regular files (see StateReading.unsafe). */
  readonly unsafe: string[] = [];

  /**
   * False, with a warning, when something other than a regular file is at `rel` (a link,
   * a FIFO, a folder); true when a regular file or nothing is there.
   */
  regularOrAbsent(rel: string): boolean {
    if (!this.root || !this.fs) return true;
    let st: Deno.FileInfo | null;
    try {
      st = this.fs.lstatContained(this.root, rel);
    } catch (e) {
      if (!(e instanceof this.fs.UnsafePathError)) throw e;
      st = null; // a link on the way: the listing that led here would not have walked it
    }
    if (st === null || st.isFile) return true;
    this.unsafe.push(`${PERSIST_DIR}/${rel}`);
    // The words safe_fs's UnsafePathError uses for the same things.
    const why = st.isSymlink ? "it is a link" : "not a regular file";
    warnOnce(join(this.label, rel), `${this.label}/${rel}: ${why}`);
    return false;
  }

  /** The entries of folder `rel`; [] when absent, not a folder, or a link. */
  list(rel: string): Deno.DirEntry[] {
    if (!this.root || !this.fs) return [];
    try {
      return this.fs.listContained(this.root, rel) ?? [];
    } catch (e) {
      if (e instanceof this.fs.UnsafePathError) return []; // a link, or a file: not walked
      throw e;
    }
  }

  /** The text of file `rel`; null when absent, or unsafe (warned once). */
  text(rel: string): string | null {
    if (!this.root || !this.fs) return null;
    try {
      return new TextDecoder().decode(
        this.fs.readContained(this.root, rel, { maxBytes: MAX_META_BYTES }),
      );
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      if (e instanceof this.fs.UnsafePathError) {
        warnOnce(join(this.label, rel), `${this.label}/${e.message}`);
        return null;
      }
      throw e;
    }
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) return null;
    throw e;
  }
}

/** RFC 822-style headers (METADATA, PKG-INFO) or Debian control (R's DESCRIPTION). */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last = "";
  for (const line of text.split(/\r?\n/)) {
    if (line === "") {
      if (last) break; // the body of METADATA starts after the first blank line
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      out[last] += "\n" + line.trim();
      continue;
    }
    const i = line.indexOf(":");
    if (i <= 0) continue;
    last = line.slice(0, i).trim();
    if (!(last in out)) out[last] = line.slice(i + 1).trim();
  }
  return out;
}

/** `numpy-2.1.0.dist-info` -> numpy 2.1.0; `foo-1.0-py3.11.egg-info` -> foo 1.0. */
export function distInfoName(entry: string): Pkg | null {
  const m = /^(.+)\.(dist-info|egg-info)$/.exec(entry);
  if (!m || entry.startsWith("~")) return null;
  const stem = m[1].replace(/-py\d+(\.\d+)*(-[^-]+)?$/, "");
  const i = stem.lastIndexOf("-");
  if (i <= 0 || i === stem.length - 1) return null;
  return pythonPkg(stem.slice(0, i), stem.slice(i + 1));
}

/** The site-packages folders of a prefix (`python`, `conda`), relative to persist/. */
export function sitePackagesDirs(p: PersistReader, prefix: string): string[] {
  const out: string[] = [];
  for (const lib of ["lib", "lib64"]) {
    for (const e of p.list(`${prefix}/${lib}`)) {
      if (e.isDirectory && /^python\d/.test(e.name)) {
        out.push(`${prefix}/${lib}/${e.name}/site-packages`);
      }
    }
  }
  return out;
}

/** Python distributions in one prefix; `skipInstaller` drops those conda installed. */
export function readPythonPrefix(
  p: PersistReader,
  prefix: string,
  options: { skipInstaller?: string } = {},
): Pkg[] {
  const found = new Map<string, Pkg>();
  for (const site of sitePackagesDirs(p, prefix)) {
    for (const e of p.list(site)) {
      if (!/\.(dist-info|egg-info)$/.test(e.name) || e.name.startsWith("~")) continue;
      const rel = `${site}/${e.name}`;
      // An installed distribution's metadata is a file; anything else is no install (pip
      // skips it too) and would hang pip in the container if it is a FIFO.
      const metaFile = e.name.endsWith(".dist-info") ? "METADATA" : "PKG-INFO";
      if (e.isDirectory && !p.regularOrAbsent(`${rel}/${metaFile}`)) continue;
      if (options.skipInstaller && e.isDirectory) {
        const installer = p.text(`${rel}/INSTALLER`);
        if (installer?.trim() === options.skipInstaller) continue;
      }
      let pkg = distInfoName(e.name);
      if (!pkg) {
        const meta = e.isDirectory
          ? p.text(`${rel}/METADATA`) ?? p.text(`${rel}/PKG-INFO`)
          : p.text(rel);
        const h = meta ? parseHeaders(meta) : {};
        if (h.Name && h.Version) pkg = pythonPkg(h.Name, h.Version);
      }
      if (pkg) found.set(pkg.name, pkg);
    }
  }
  return [...found.values()];
}

/** renv's Source for an installed package, from its DESCRIPTION. */
export function rSource(h: Record<string, string>): { source: string; repository?: string } {
  const remote = (h.RemoteType ?? "").toLowerCase();
  if (remote === "github") return { source: "GitHub" };
  if (remote === "gitlab") return { source: "GitLab" };
  if (remote === "local") return { source: "Local" };
  if (h.Repository) return { source: "Repository", repository: h.Repository };
  if (h.biocViews !== undefined) return { source: "Bioconductor" };
  return { source: "unknown" };
}

export function readRLibrary(p: PersistReader, library: string): Pkg[] {
  const out: Pkg[] = [];
  for (const e of p.list(library)) {
    if (!e.isDirectory || e.name.startsWith("00LOCK") || e.name.startsWith(".")) continue;
    const text = p.text(`${library}/${e.name}/DESCRIPTION`);
    if (text === null) continue;
    const h = parseHeaders(text);
    if (!h.Package || !h.Version || !isRPackage(h.Package, h.Version)) continue;
    out.push({ name: h.Package, version: h.Version, ...rSource(h) });
  }
  return out;
}

/** `https://conda.anaconda.org/conda-forge/linux-64` -> conda-forge. */
export function channelName(channel: string): string {
  if (/repo\.anaconda\.com\/pkgs\/(main|r|free)/.test(channel)) return "defaults";
  const parts = channel.replace(/\/+$/, "").split("/");
  while (parts.length > 1 && /^(noarch|(linux|osx|win)-[a-z0-9_]+)$/.test(parts.at(-1)!)) {
    parts.pop();
  }
  return parts.at(-1) ?? channel;
}

export function readCondaMeta(
  p: PersistReader,
  prefix: string,
): { pkgs: Pkg[]; channels: string[] } {
  const pkgs: Pkg[] = [];
  const channels: string[] = [];
  for (const e of p.list(`${prefix}/conda-meta`)) {
    if (!e.name.endsWith(".json")) continue;
    const text = p.text(`${prefix}/conda-meta/${e.name}`);
    if (text === null) continue;
    let j: { name?: unknown; version?: unknown; channel?: unknown };
    try {
      j = JSON.parse(text);
    } catch {
      continue; // conda is writing it; the next change event re-reads it
    }
    if (typeof j.name !== "string" || typeof j.version !== "string") continue;
    if (!isCondaPackage(j.name, j.version)) continue;
    pkgs.push({ name: j.name.toLowerCase(), version: j.version });
    if (typeof j.channel === "string" && j.channel) {
      const c = channelName(j.channel);
      if (!channels.includes(c)) channels.push(c);
    }
  }
  return { pkgs, channels };
}

interface BaseFile {
  python: Pkg[];
  r: Pkg[];
  conda: Pkg[];
}

export async function parseBasePackages(text: string, file: string): Promise<BaseFile> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // Only on error: renv_lock.ts brings the YAML library, which `venvoy run` avoids.
    const { jsonErrorLine } = await import("./renv_lock.ts");
    throw new SnapshotFormatError(file, jsonErrorLine(text, msg), `not valid JSON: ${msg}`, {
      hint: "the image's package list is rebuilt by 'venvoy init --force'",
    });
  }
  const obj = (j ?? {}) as Record<string, unknown>;
  const list = (key: string): Pkg[] => {
    const v = obj[key] ?? [];
    if (!Array.isArray(v)) throw new SnapshotFormatError(file, null, `"${key}" must be a list`);
    return v.flatMap((x) => {
      if (typeof x?.name !== "string" || typeof x?.version !== "string") return [];
      const p: Pkg = { name: x.name, version: x.version };
      if (typeof x.source === "string") p.source = x.source;
      if (typeof x.repository === "string") p.repository = x.repository;
      return [p];
    });
  };
  // The image's own list (written by capture.sh inside the image): checked like the rest.
  return {
    python: list("python").filter((p) => isPythonName(p.name) && isPythonVersion(p.version))
      .map((p) => ({ ...p, name: normalizePythonName(p.name) })),
    r: list("r").filter((p) => isRPackage(p.name, p.version)),
    conda: list("conda").filter((p) => isCondaPackage(p.name, p.version))
      .map((p) => ({ name: p.name.toLowerCase(), version: p.version })),
  };
}

function overlay(base: Pkg[], top: Pkg[]): Pkg[] {
  const m = new Map<string, Pkg>();
  for (const p of base) m.set(p.name, p);
  for (const p of top) m.set(p.name, p);
  return sortPkgs([...m.values()]);
}

/** base-packages.json overlaid by persist/: the environment's packages right now. */
export async function readPackageState(envDir: string): Promise<StateReading> {
  const basePath = join(envDir, BASE_PACKAGES);
  const baseText = await readText(basePath);
  const base = baseText === null ? emptyState() : await parseBasePackages(baseText, basePath);
  const p = await PersistReader.open(envDir);
  const py = readPythonPrefix(p, "python");
  const condaPy = readPythonPrefix(p, "conda", { skipInstaller: "conda" });
  const r = readRLibrary(p, "R/library");
  const conda = readCondaMeta(p, "conda");
  const python = conda.pkgs.find((p) => p.name === "python");
  const state: PackageState = {
    python: overlay(base.python, [...condaPy, ...py]),
    r: overlay(base.r, r),
    conda: overlay(base.conda, conda.pkgs).filter((p) => p.name !== "python"),
  };
  return {
    state,
    pythonVersion: python?.version,
    channels: conda.channels,
    hasBase: baseText !== null,
    unsafe: p.unsafe,
  };
}

export interface CaptureOptions {
  /** `<VENVOY_HOME>/environments/<name>` */
  envDir: string;
  /** `<VENVOY_PROJECTS>/<name>` */
  projectDir: string;
  name: string;
  /** From config.yaml (metaFromConfig); the package state is read from disk. */
  meta: Omit<SnapshotMeta, "name"> & { name?: string };
}

/** What a snapshot taken now would hold (directory listings; no snapshot is read). */
export async function currentSnapshot(options: CaptureOptions): Promise<Snapshot> {
  const reading = await readPackageState(options.envDir);
  const meta: SnapshotMeta = { ...options.meta, name: options.name };
  if (reading.pythonVersion) meta.pythonVersion = reading.pythonVersion;
  if (reading.channels.length && !meta.channels?.length) meta.channels = reading.channels;
  return { meta, state: reading.state };
}
