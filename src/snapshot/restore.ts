/**
 * The pure half of `venvoy restore`: choose a snapshot, plan the exact installs that make the
 * environment equal to it, cope with versions that are gone (--allow-nearest), and compare a
 * fresh listing against the snapshot afterwards. Running the plan (containers, prompts,
 * keeping the pre-restore state as a snapshot) is the environment layer's job.
 *
 * The environment = base-packages.json (the image) overlaid by persist/. A restore empties
 * the persist/ package folders and installs, with no dependency resolution, exactly the
 * packages whose version differs from the image's. Image packages the snapshot does not
 * have can only go by rebuilding the image (the plan lists them).
 */
import { PERSIST } from "../recipe/plan.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { diffSnapshots } from "./diff.ts";
import {
  type Ecosystem,
  ECOSYSTEM_LABEL,
  ECOSYSTEMS,
  type PackageState,
  type Pkg,
  type Snapshot,
} from "./model.ts";
import { rGetCalls } from "./renv_lock.ts";
import type { SnapshotEntry } from "./store.ts";
import { findSnapshot } from "./history.ts";

/** --snapshot, or the caller's prompt on a terminal; without either it is a usage error. */
export function chooseSnapshot(
  entries: SnapshotEntry[],
  wanted: string | undefined,
  options: { name: string; interactive: boolean },
): SnapshotEntry | "ask" {
  if (wanted !== undefined) return findSnapshot(entries, wanted, options);
  if (entries.length === 0) {
    throw new VenvoyError(`'${options.name}' has no snapshots to restore`);
  }
  if (options.interactive) return "ask";
  throw new UsageError("restore needs --snapshot when it cannot ask (not a terminal)", {
    hint: `e.g. --snapshot latest or --snapshot ${entries[0].id} (see venvoy history)`,
  });
}

export interface EcosystemPlan {
  /** Install exactly these into persist/ (they differ from the image or are not in it). */
  install: Pkg[];
  /** In the image but not in the snapshot: only an image rebuild removes them. */
  needsRebuild: Pkg[];
}

export interface RestorePlan {
  target: Snapshot;
  python: EcosystemPlan;
  r: EcosystemPlan;
  conda: EcosystemPlan;
  /** Interpreter versions the image does not have (the base image must change). */
  interpreter: { what: "Python" | "R"; wanted: string; image: string }[];
  /** persist/ folders to empty before installing (host paths relative to persist/). */
  clear: string[];
}

function planFor(target: Pkg[], base: Pkg[]): EcosystemPlan {
  const b = new Map(base.map((p) => [p.name, p.version]));
  const t = new Set(target.map((p) => p.name));
  return {
    install: target.filter((p) => b.get(p.name) !== p.version),
    needsRebuild: base.filter((p) => !t.has(p.name)),
  };
}

/** Does the image's `X.Y[.Z]` satisfy a snapshot's `X.Y[.Z]` (equal on the shorter)? */
export function versionCovers(image: string, wanted: string): boolean {
  const a = image.split(".");
  const w = wanted.split(".");
  const n = Math.min(a.length, w.length);
  return a.slice(0, n).join(".") === w.slice(0, n).join(".");
}

export function planRestore(
  target: Snapshot,
  base: PackageState,
  image: { pythonVersion?: string; rVersion?: string } = {},
): RestorePlan {
  const interpreter: RestorePlan["interpreter"] = [];
  const check = (what: "Python" | "R", wanted?: string, have?: string) => {
    if (wanted && have && !versionCovers(have, wanted)) {
      interpreter.push({ what, wanted, image: have });
    }
  };
  check("Python", target.meta.pythonVersion, image.pythonVersion);
  check("R", target.meta.rVersion, image.rVersion);
  return {
    target,
    python: planFor(target.state.python, base.python),
    r: planFor(target.state.r, base.r),
    conda: planFor(target.state.conda, base.conda),
    interpreter,
    clear: ["python", "R/library", "conda"],
  };
}

/** pip, inside the session's image: exact versions, no resolver, into persist/python. */
export function pipInstallArgv(pkgs: Pkg[], options: { python?: string } = {}): string[] {
  return [
    options.python ?? "python3",
    "-m",
    "pip",
    "install",
    "--no-deps",
    "--no-input",
    "--disable-pip-version-check",
    "--ignore-installed",
    "--prefix",
    `${PERSIST}/python`,
    ...pkgs.map((p) => `${p.name}==${p.version}`),
  ];
}

/**
 * R, inside the image: each package at its exact version from its repository, the current
 * source file first, then the repository's Archive/, into persist/R/library.
 */
export function rInstallArgv(
  pkgs: Pkg[],
  options: { repositories?: { name: string; url: string }[] } = {},
): string[] {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    `lib <- ${q(`${PERSIST}/R/library`)}`,
    "dir.create(lib, recursive = TRUE, showWarnings = FALSE)",
    "failed <- character()",
    "get1 <- function(p, v, repo) {",
    "  urls <- c(sprintf('%s/src/contrib/%s_%s.tar.gz', repo, p, v),",
    "            sprintf('%s/src/contrib/Archive/%s/%s_%s.tar.gz', repo, p, p, v))",
    "  for (u in urls) {",
    "    ok <- tryCatch({ install.packages(u, lib = lib, repos = NULL, type = 'source'); TRUE },",
    "                   warning = function(w) FALSE, error = function(e) FALSE)",
    "    if (ok && isTRUE(packageVersion(p, lib.loc = lib) == v)) return(invisible(TRUE))",
    "  }",
    "  failed <<- c(failed, sprintf('%s==%s', p, v))",
    "}",
    ...rGetCalls(pkgs, options.repositories),
    "if (length(failed)) { cat('venvoy-unavailable:', failed, '\\n', file = stderr()); quit(status = 3) }",
  ];
  return ["Rscript", "--vanilla", "-e", lines.join("\n")];
}

/** conda/mamba, inside the image: a fresh prefix in persist/conda with exact versions. */
export function condaInstallArgv(
  pkgs: Pkg[],
  options: { tool?: "conda" | "mamba"; channels?: string[]; pythonVersion?: string } = {},
): string[] {
  const channels = options.channels?.length ? options.channels : ["conda-forge"];
  return [
    options.tool ?? "mamba",
    "create",
    "--yes",
    "--prefix",
    `${PERSIST}/conda`,
    "--override-channels",
    ...channels.flatMap((c) => ["--channel", c]),
    ...(options.pythonVersion ? [`python=${options.pythonVersion}`] : []),
    ...pkgs.map((p) => `${p.name}=${p.version}`),
  ];
}

/** PEP 440-ish ordering: release numbers numerically, then the rest as text. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (p === q) continue;
    if (typeof p === "number" && typeof q === "number") return p - q;
    return String(p) < String(q) ? -1 : 1;
  }
  return 0;
}

/** The newest version not above `wanted`, else the oldest above it. */
export function nearestVersion(wanted: string, available: string[]): string | null {
  const sorted = [...new Set(available)].sort(compareVersions);
  if (sorted.length === 0) return null;
  const below = sorted.filter((v) => compareVersions(v, wanted) <= 0);
  return below.length ? below[below.length - 1] : sorted[0];
}

/** pip's "Could not find a version that satisfies the requirement x==1 (from versions: …)". */
export function parsePipUnavailable(stderr: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /satisfies the requirement ([A-Za-z0-9._-]+)\s*==\s*\S+ \(from versions: ([^)]*)\)/g;
  for (const m of stderr.matchAll(re)) {
    const versions = m[2].trim() === "none"
      ? []
      : m[2].split(",").map((v) => v.trim()).filter(Boolean);
    out.set(m[1].toLowerCase().replace(/[-_.]+/g, "-"), versions);
  }
  return out;
}

export interface Deviation {
  ecosystem: Ecosystem;
  name: string;
  wanted: string;
  chosen: string | null;
  available: string[];
}

/**
 * Packages the index no longer has at the snapshot's version: with allowNearest they take
 * the nearest version (each deviation returned for the report); otherwise a failure that
 * lists every package that could not be met.
 */
export function resolveUnavailable(
  pkgs: Pkg[],
  unavailable: Map<string, string[]>,
  options: { ecosystem: Ecosystem; allowNearest: boolean },
): { pkgs: Pkg[]; deviations: Deviation[] } {
  const deviations: Deviation[] = [];
  const out: Pkg[] = [];
  for (const p of pkgs) {
    const available = unavailable.get(p.name);
    if (!available) {
      out.push(p);
      continue;
    }
    const chosen = options.allowNearest ? nearestVersion(p.version, available) : null;
    deviations.push({
      ecosystem: options.ecosystem,
      name: p.name,
      wanted: p.version,
      chosen,
      available,
    });
    if (chosen) out.push({ ...p, version: chosen });
  }
  const unmet = deviations.filter((d) => d.chosen === null);
  if (unmet.length) {
    const lines = unmet.map((d) =>
      `  ${d.name}==${d.wanted}: not available` +
      (d.available.length
        ? ` (available: ${d.available.slice(-8).join(", ")})`
        : " (no versions at all)")
    );
    throw new VenvoyError(
      `the snapshot cannot be installed exactly; ${unmet.length} ${
        ECOSYSTEM_LABEL[options.ecosystem]
      } package(s) could not be met:\n${lines.join("\n")}`,
      {
        hint: options.allowNearest
          ? "these have no version at all on the index; restore another snapshot"
          : "re-run with --allow-nearest to take the nearest available versions (each one is reported)",
      },
    );
  }
  return { pkgs: out, deviations };
}

export function renderDeviations(devs: Deviation[]): string {
  return devs
    .filter((d) => d.chosen)
    .map((d) =>
      `  ${ECOSYSTEM_LABEL[d.ecosystem]} ${d.name}: wanted ${d.wanted}, installed ${d.chosen}`
    )
    .join("\n");
}

export interface Mismatch {
  ecosystem: Ecosystem | "interpreter";
  name: string;
  wanted: string | null;
  found: string | null;
}

/** Every difference between the snapshot and a fresh listing after the restore. */
export function verifyRestore(target: Snapshot, fresh: Snapshot): Mismatch[] {
  const d = diffSnapshots(target, fresh);
  const out: Mismatch[] = [];
  for (const m of d.meta) {
    if (m.field === "python" || m.field === "r") {
      if (m.from && m.to && versionCovers(m.to, m.from)) continue;
      out.push({ ecosystem: "interpreter", name: m.label, wanted: m.from, found: m.to });
    }
  }
  for (const e of ECOSYSTEMS) {
    for (const p of d[e].removed) {
      out.push({ ecosystem: e, name: p.name, wanted: p.version, found: null });
    }
    for (const p of d[e].added) {
      out.push({ ecosystem: e, name: p.name, wanted: null, found: p.version });
    }
    for (const c of d[e].changed) {
      out.push({ ecosystem: e, name: c.name, wanted: c.from, found: c.to });
    }
  }
  return out;
}

export function renderMismatches(ms: Mismatch[]): string {
  return ms.map((m) => {
    const label = m.ecosystem === "interpreter" ? "" : `${ECOSYSTEM_LABEL[m.ecosystem]} `;
    if (m.found === null) return `  ${label}${m.name} ${m.wanted}: missing`;
    if (m.wanted === null) return `  ${label}${m.name} ${m.found}: not in the snapshot`;
    return `  ${label}${m.name}: wanted ${m.wanted}, found ${m.found}`;
  }).join("\n");
}
