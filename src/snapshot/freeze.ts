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
import { join } from "node:path";
import { normalizePythonName, type Pkg, sortPkgs } from "./model.ts";
import { rGetCalls } from "./renv_lock.ts";
import { sha256File } from "../util/hash.ts";

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
    // Wheels already in vendor/ are reused, so a second freeze downloads only what is new.
    "--find-links",
    VENDOR_MOUNT,
    "--wheel-dir",
    VENDOR_MOUNT,
    "--requirement",
    options.requirements,
  ];
}

/** Where `venvoy freeze` keeps R source packages (vendor/R on the host). */
export const R_VENDOR_MOUNT = `${VENDOR_MOUNT}/R`;

/**
 * R, inside the image: each package's source at its exact version from its repository
 * (the current file, then Archive/) into vendor/R. A package the index does not have is
 * reported on stderr as `venvoy-unavailable: name==version` and the rest still download.
 */
export function rDownloadArgv(
  pkgs: Pkg[],
  options: { repositories?: { name: string; url: string }[] } = {},
): string[] {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    `dest <- ${q(R_VENDOR_MOUNT)}`,
    "dir.create(dest, recursive = TRUE, showWarnings = FALSE)",
    "options(timeout = 60)",
    "get1 <- function(p, v, repo) {",
    "  f <- file.path(dest, sprintf('%s_%s.tar.gz', p, v))",
    "  if (file.exists(f)) return(invisible(TRUE))",
    "  urls <- c(sprintf('%s/src/contrib/%s_%s.tar.gz', repo, p, v),",
    "            sprintf('%s/src/contrib/Archive/%s/%s_%s.tar.gz', repo, p, p, v))",
    "  for (u in urls) {",
    "    ok <- tryCatch(download.file(u, f, mode = 'wb', quiet = FALSE) == 0,",
    "                   warning = function(w) FALSE, error = function(e) FALSE)",
    "    if (ok) return(invisible(TRUE))",
    "  }",
    "  unlink(f)",
    "  message(sprintf('venvoy-unavailable: %s==%s', p, v))",
    "}",
    ...rGetCalls(pkgs, options.repositories),
  ];
  return ["Rscript", "--vanilla", "-e", lines.join("\n")];
}

/** The `name==version` of each `venvoy-unavailable:` line (R downloads and installs). */
export function parseUnavailableLines(output: string): string[] {
  const out: string[] = [];
  for (const m of output.matchAll(/venvoy-unavailable:((?:\s+[A-Za-z0-9._]+==\S+)+)/g)) {
    out.push(...m[1].trim().split(/\s+/));
  }
  return out;
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
