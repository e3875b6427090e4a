/**
 * manifest.json: what an archive holds and how it was made. It is written last (the
 * checksums are computed while the members stream past) and verified before anything in
 * the archive is used.
 */
import { printable } from "../ui/errors.ts";
import { InvalidManifestError } from "./errors.ts";
import { normalizeMemberPath } from "./tar.ts";

export const MANIFEST_NAME = "manifest.json";
export const CHECKSUMS_NAME = "SHA256SUMS";
export const FORMAT_VERSION = 1;
export type ArchiveFormat = "venvoy-archive" | "venvoy-tarball";
const FORMATS: readonly ArchiveFormat[] = ["venvoy-archive", "venvoy-tarball"];

/** The largest manifest venvoy reads into memory. */
export const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;

export interface PackageEntry {
  name: string;
  version: string;
  [key: string]: unknown;
}

/** The same shape as `<envdir>/base-packages.json` (the environment contract). */
export interface PackageLists {
  python: PackageEntry[];
  conda: PackageEntry[];
  r: PackageEntry[];
  os: PackageEntry[];
}

export function emptyPackageLists(): PackageLists {
  return { python: [], conda: [], r: [], os: [] };
}

export type MemberEntry =
  | { type: "file"; size: number; sha256: string; mode?: number }
  | { type: "symlink"; target: string };

export interface Manifest {
  format: ArchiveFormat;
  format_version: number;
  venvoy_version: string;
  /** ISO 8601. */
  created: string;
  engine: string;
  environment: {
    name: string;
    runtime: string | null;
    python_version?: string | null;
    r_version?: string | null;
    package_manager?: string | null;
    /** `venvoy init --as-of`: the date Python packages resolve as of (YYYY-MM-DD). */
    as_of?: string | null;
  };
  host: { system: string; architecture: string };
  image: {
    /** The tag the image had when exported (docker/podman) or the SIF path. */
    tag: string | null;
    /** "sha256:<hex>": the config digest, stable across save and load. */
    id: string | null;
    architecture: string | null;
    os: string | null;
    /** The pinned base image. */
    base: string | null;
    /** The docker-archive member, when there is one. */
    docker_archive: string | null;
    /** The SIF member, when there is one. */
    sif: string | null;
  };
  packages: PackageLists;
  /** Ids of the run records under records/ (venvoy record; src/proof/). */
  records?: string[];
  /** Every member except manifest.json itself, with its sha256. */
  members: Record<string, MemberEntry>;
  /**
   * Archives: what was included, by the export's allow-list (`env/config.yaml`,
   * `env/persist/python/`, `image.tar`...). Nothing personal (persist/home) ever is.
   */
  included?: string[];
}

const SHA_RE = /^[0-9a-f]{64}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses and checks manifest.json text; throws InvalidManifestError with the reason. */
export function parseManifest(text: string, file = "archive"): Manifest {
  // deno-lint-ignore no-explicit-any
  let data: any;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InvalidManifestError(
      `${file}: manifest.json is not valid JSON (${(e as Error).message})`,
    );
  }
  const bad = (why: string) => new InvalidManifestError(`${file}: manifest.json ${why}`);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw bad("is not a JSON object");
  }
  if (!FORMATS.includes(data.format)) {
    throw bad(`has format '${printable(String(data.format))}', not one of ${FORMATS.join(", ")}`);
  }
  if (!Number.isInteger(data.format_version) || data.format_version < 1) {
    throw bad("has no valid format_version");
  }
  if (data.format_version > FORMAT_VERSION) {
    throw new InvalidManifestError(
      `${file}: archive format version ${data.format_version} is newer than this venvoy reads (${FORMAT_VERSION})`,
      { hint: "upgrade venvoy, or use the archive's restore.sh, which needs no venvoy" },
    );
  }
  if (typeof data.members !== "object" || data.members === null || Array.isArray(data.members)) {
    throw bad("has no members table");
  }
  for (const [name, entry] of Object.entries(data.members)) {
    // deno-lint-ignore no-explicit-any
    const e = entry as any;
    if (normalizeMemberPath(name, "manifest entry") !== name || name === MANIFEST_NAME) {
      throw bad(`lists an invalid member name '${printable(name)}'`);
    }
    if (e?.type === "file") {
      if (!Number.isSafeInteger(e.size) || e.size < 0 || typeof e.sha256 !== "string") {
        throw bad(`entry '${printable(name)}' needs a size and a sha256`);
      }
      if (!SHA_RE.test(e.sha256)) throw bad(`entry '${printable(name)}' has an invalid sha256`);
    } else if (e?.type === "symlink") {
      if (typeof e.target !== "string" || e.target === "") {
        throw bad(`entry '${printable(name)}' needs a link target`);
      }
    } else {
      throw bad(`entry '${printable(name)}' has an unknown type`);
    }
  }
  // Import reads these without further checks: wrong types would crash it, not refuse.
  const env = data.environment;
  if (!isObject(env) || typeof env.name !== "string") throw bad("has no environment name");
  const image = data.image;
  if (!isObject(image)) throw bad("has no image table");
  for (const key of ["tag", "id", "architecture", "os", "base"]) {
    const v = image[key];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw bad(`has an invalid image.${key}`);
    }
  }
  for (const key of ["docker_archive", "sif"]) {
    const v = image[key];
    if (v !== undefined && v !== null && (typeof v !== "string" || v === "")) {
      throw bad(`has an invalid image.${key}`);
    }
  }
  return data as Manifest;
}

/** `sha256sum -c` input for every file member (restore.sh checks it without venvoy). */
export function checksumsText(members: Record<string, MemberEntry>): string {
  return Object.entries(members)
    .filter(([, e]) => e.type === "file")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, e]) => `${(e as { sha256: string }).sha256}  ${name}\n`)
    .join("");
}
