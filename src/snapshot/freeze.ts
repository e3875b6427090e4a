/**
 * The pure half of `venvoy freeze`: which packages to vendor, the pip command that fetches
 * them as wheels (building a wheel inside the environment's image where only an sdist
 * exists), and `requirements.lock` in pip's hash-checking format from the wheels in vendor/:
 *
 *   numpy==2.1.0 \
 *       --hash=sha256:…
 *
 * and the offline install that uses them. Running these in the image is the environment
 * layer's job (vendor/ bind-mounted at VENDOR_MOUNT).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { normalizePythonName, type Pkg, sortPkgs } from "./model.ts";

export const VENDOR_MOUNT = "/opt/venvoy/vendor";

/** pip freeze leaves these out; the image's Python brings its own. */
export const FREEZE_EXCLUDED = ["pip", "setuptools", "wheel", "distribute"];

export function freezePackages(python: Pkg[], options: { exclude?: string[] } = {}): Pkg[] {
  const ex = new Set((options.exclude ?? FREEZE_EXCLUDED).map(normalizePythonName));
  return sortPkgs(python.filter((p) => !ex.has(p.name) && p.version));
}

/** `name==version` lines, the input of the pip command below. */
export function renderPins(pkgs: Pkg[]): string {
  return pkgs.map((p) => `${p.name}==${p.version}\n`).join("");
}

/**
 * `pip wheel` fetches each wheel, or builds one from the sdist inside the image (so it
 * matches its platform); `--no-deps`: the pins are already the full closure.
 */
export function pipWheelArgv(options: { requirements: string; python?: string }): string[] {
  return [
    options.python ?? "python3",
    "-m",
    "pip",
    "wheel",
    "--no-deps",
    "--disable-pip-version-check",
    "--progress-bar",
    "on",
    "--wheel-dir",
    VENDOR_MOUNT,
    "--requirement",
    options.requirements,
  ];
}

/** The offline install: no index, only vendor/, every hash checked. */
export function offlineInstallArgv(options: { lock: string; python?: string }): string[] {
  return [
    options.python ?? "python3",
    "-m",
    "pip",
    "install",
    "--no-index",
    "--find-links",
    VENDOR_MOUNT,
    "--require-hashes",
    "--no-deps",
    "--requirement",
    options.lock,
  ];
}

export interface DistFile {
  name: string;
  version: string;
  kind: "wheel" | "sdist";
}

/** `numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl`, `pkg-1.0.tar.gz`, `pkg-1.0.zip`. */
export function parseDistFilename(file: string): DistFile | null {
  const whl = /^([^-]+)-([^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/.exec(file);
  if (whl) return { name: normalizePythonName(whl[1]), version: whl[2], kind: "wheel" };
  const sd = /^(.+)-([0-9][^-]*)\.(tar\.gz|zip|tar\.bz2)$/.exec(file);
  if (sd) return { name: normalizePythonName(sd[1]), version: sd[2], kind: "sdist" };
  return null;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  const f = await Deno.open(path, { read: true });
  for await (const chunk of f.readable) h.update(chunk); // closes f at the end
  return h.digest("hex");
}

export interface LockEntry {
  name: string;
  version: string;
  hashes: string[];
}

export function renderRequirementsLock(
  entries: LockEntry[],
  options: { header?: string } = {},
): string {
  const head = options.header ??
    "# venvoy freeze: every Python package with its wheel hashes.\n" +
      `# Offline install: pip install --no-index --find-links vendor --require-hashes -r requirements.lock\n`;
  const body = [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((e) =>
      [`${e.name}==${e.version}`, ...[...e.hashes].sort().map((h) => `    --hash=sha256:${h}`)]
        .join(" \\\n")
    );
  return head + body.join("\n") + "\n";
}

/**
 * Hashes the wheels in `vendorDir` for `pkgs`. `missing` are packages with no wheel there
 * (the freeze failed for them); several wheels of one package give several hashes.
 */
export async function lockFromVendor(
  vendorDir: string,
  pkgs: Pkg[],
): Promise<{ text: string; entries: LockEntry[]; missing: Pkg[] }> {
  const files: { file: string; dist: DistFile }[] = [];
  try {
    for await (const e of Deno.readDir(vendorDir)) {
      const dist = e.isFile ? parseDistFilename(e.name) : null;
      if (dist?.kind === "wheel") files.push({ file: join(vendorDir, e.name), dist });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const entries: LockEntry[] = [];
  const missing: Pkg[] = [];
  for (const p of pkgs) {
    const mine = files.filter((f) => f.dist.name === p.name && f.dist.version === p.version);
    if (mine.length === 0) {
      missing.push(p);
      continue;
    }
    entries.push({
      name: p.name,
      version: p.version,
      hashes: await Promise.all(mine.map((f) => sha256File(f.file))),
    });
  }
  return { text: renderRequirementsLock(entries), entries, missing };
}
