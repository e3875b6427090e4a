/**
 * The snapshot model: what an environment contains (its package state) and what venvoy
 * needs to rebuild it (its meta). Pure types and helpers; no I/O.
 */

export type Ecosystem = "python" | "r" | "conda";

export const ECOSYSTEMS: readonly Ecosystem[] = ["python", "r", "conda"];

export const ECOSYSTEM_LABEL: Record<Ecosystem, string> = {
  python: "Python",
  r: "R",
  conda: "conda",
};

export interface Pkg {
  name: string;
  version: string;
  /** R only (renv's `Source`): Repository, Bioconductor, GitHub, Local, unknown. */
  source?: string;
  /** R: the repository name (CRAN, …). conda: the channel. */
  repository?: string;
}

/** The installed packages of an environment, each list sorted by name. */
export interface PackageState {
  python: Pkg[];
  r: Pkg[];
  conda: Pkg[];
}

/** What venvoy records besides the packages (the `x-venvoy:` section and renv's `R`). */
export interface SnapshotMeta {
  name: string;
  runtime?: "python" | "r";
  /** The interpreter: `X.Y` from config.yaml, or the full version when conda reports it. */
  pythonVersion?: string;
  rVersion?: string;
  created?: string;
  engine?: string;
  baseImage?: string;
  baseImagePinned?: string;
  imageId?: string;
  venvoyVersion?: string;
  packageManager?: "pip" | "conda";
  /** `--as-of YYYY-MM-DD`: the date Python packages resolve as of. */
  asOf?: string;
  channels?: string[];
  /** R repositories as renv records them. */
  repositories?: { name: string; url: string }[];
}

export interface Snapshot {
  meta: SnapshotMeta;
  state: PackageState;
}

export const DEFAULT_CHANNELS = ["conda-forge"];

export const KNOWN_R_REPOSITORIES: Record<string, string> = {
  CRAN: "https://cloud.r-project.org",
  RSPM: "https://packagemanager.posit.co/cran/latest",
};

/** PEP 503: lower-case, runs of `-`, `_`, `.` become one `-`. */
export function normalizePythonName(name: string): string {
  return name.trim().replace(/[-_.]+/g, "-").toLowerCase();
}

export function emptyState(): PackageState {
  return { python: [], r: [], conda: [] };
}

export function sortPkgs(pkgs: Pkg[]): Pkg[] {
  return [...pkgs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Sorted copies, for comparison and rendering. */
export function normalizeState(s: PackageState): PackageState {
  return { python: sortPkgs(s.python), r: sortPkgs(s.r), conda: sortPkgs(s.conda) };
}

export function counts(s: PackageState): Record<Ecosystem, number> {
  return { python: s.python.length, r: s.r.length, conda: s.conda.length };
}

/**
 * A stable text key of the package state, and of the interpreter versions (which restore
 * must also match); two snapshots with the same key are the same state.
 */
export function stateKey(snap: Snapshot): string {
  const s = normalizeState(snap.state);
  const line = (p: Pkg) => `${p.name}=${p.version}`;
  return JSON.stringify({
    python: s.python.map(line),
    r: s.r.map(line),
    conda: s.conda.map(line),
    py: snap.meta.pythonVersion ?? null,
    rv: snap.meta.rVersion ?? null,
  });
}

/** The snapshot meta from an environment's config.yaml (keys as in the contract). */
export function metaFromConfig(config: Record<string, unknown>): SnapshotMeta {
  const s = (k: string): string | undefined => {
    const v = config[k];
    return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
  };
  const meta: SnapshotMeta = { name: s("name") ?? "" };
  const runtime = s("runtime");
  if (runtime === "python" || runtime === "r") meta.runtime = runtime;
  const pm = s("package_manager");
  if (pm === "pip" || pm === "conda") meta.packageManager = pm;
  const set = (field: keyof SnapshotMeta, key: string) => {
    const v = s(key);
    if (v !== undefined) (meta as unknown as Record<string, string>)[field] = v;
  };
  set("pythonVersion", "python_version");
  set("rVersion", "r_version");
  set("engine", "engine");
  set("baseImage", "base_image");
  set("baseImagePinned", "base_image_pinned");
  set("imageId", "image_id");
  set("venvoyVersion", "venvoy_version");
  set("asOf", "as_of");
  return meta;
}
