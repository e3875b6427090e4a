/**
 * `renv.lock`-compatible JSON for the R packages of a snapshot:
 *
 *   { "R": { "Version": "4.2.2", "Repositories": [{ "Name": "CRAN", "URL": "…" }] },
 *     "Packages": { "jsonlite": { "Package": "jsonlite", "Version": "1.8.4",
 *                                 "Source": "Repository", "Repository": "CRAN" } } }
 *
 * renv reads it (`renv::restore()`); fields renv adds (Hash, Requirements, …) are accepted
 * and ignored when parsing.
 */
import { parseDocument } from "yaml";
import { SnapshotFormatError } from "./errors.ts";
import { KNOWN_R_REPOSITORIES, type Pkg, sortPkgs } from "./model.ts";

export interface RLock {
  rVersion: string | null;
  repositories: { name: string; url: string }[];
  packages: Pkg[];
}

/** Repositories named by the packages, with URLs from `known` or the built-in list. */
export function repositoriesFor(
  packages: Pkg[],
  known: { name: string; url: string }[] = [],
): { name: string; url: string }[] {
  const out = [...known];
  for (const p of packages) {
    const name = p.repository;
    if (!name || out.some((r) => r.name === name)) continue;
    const url = KNOWN_R_REPOSITORIES[name] ?? (/^https?:\/\//.test(name) ? name : "");
    if (url) out.push({ name, url });
  }
  if (out.length === 0) out.push({ name: "CRAN", url: KNOWN_R_REPOSITORIES.CRAN });
  return out;
}

/**
 * One `get1("name", "version", "repo-url")` R call per package, each from its own repository
 * (the first one when a package names none): the shared tail of the R download and install
 * scripts, which each define their own `get1`.
 */
export function rGetCalls(
  packages: Pkg[],
  repositories?: { name: string; url: string }[],
): string[] {
  const repos = repositoriesFor(packages, repositories);
  const q = (s: string) => JSON.stringify(s);
  return packages.map((p) => {
    const url = (repos.find((r) => r.name === p.repository) ?? repos[0]).url.replace(/\/+$/, "");
    return `get1(${q(p.name)}, ${q(p.version)}, ${q(url)})`;
  });
}

export function renderRenvLock(lock: RLock): string {
  const packages: Record<string, Record<string, string>> = {};
  for (const p of sortPkgs(lock.packages)) {
    const entry: Record<string, string> = {
      Package: p.name,
      Version: p.version,
      Source: p.source ?? (p.repository ? "Repository" : "unknown"),
    };
    if (p.repository) entry.Repository = p.repository;
    packages[p.name] = entry;
  }
  const doc = {
    R: {
      Version: lock.rVersion ?? "",
      Repositories: lock.repositories.map((r) => ({ Name: r.name, URL: r.url })),
    },
    Packages: packages,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** The line of a JSON syntax error, from V8's message or from the YAML parser. */
export function jsonErrorLine(text: string, message: string): number | null {
  const ln = /line (\d+)/.exec(message);
  if (ln) return Number(ln[1]);
  const pos = /position (\d+)/.exec(message);
  if (pos) return text.slice(0, Number(pos[1])).split("\n").length;
  const doc = parseDocument(text);
  return doc.errors[0]?.linePos?.[0].line ?? null;
}

/** The line where `"key"` first appears after `from`, for pointing at a bad entry. */
function lineOfKey(text: string, key: string, from = 0): number | null {
  const i = text.indexOf(JSON.stringify(key), from);
  return i < 0 ? null : text.slice(0, i).split("\n").length;
}

export function parseRenvLock(text: string, file: string): RLock {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SnapshotFormatError(file, jsonErrorLine(text, msg), `not valid JSON: ${msg}`);
  }
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(doc)) throw new SnapshotFormatError(file, 1, "expected a JSON object");
  const r = doc.R;
  if (r !== undefined && !isObj(r)) {
    throw new SnapshotFormatError(file, lineOfKey(text, "R"), `"R" must be an object`);
  }
  const rVersion = r && typeof r.Version === "string" && r.Version !== "" ? r.Version : null;
  const repositories: { name: string; url: string }[] = [];
  const repos = r?.Repositories;
  if (repos !== undefined) {
    if (!Array.isArray(repos)) {
      throw new SnapshotFormatError(
        file,
        lineOfKey(text, "Repositories"),
        "Repositories must be a list",
      );
    }
    for (const x of repos) {
      if (!isObj(x) || typeof x.Name !== "string" || typeof x.URL !== "string") {
        throw new SnapshotFormatError(
          file,
          lineOfKey(text, "Repositories"),
          "each repository needs a Name and a URL",
        );
      }
      repositories.push({ name: x.Name, url: x.URL });
    }
  }
  const pkgsNode = doc.Packages ?? {};
  if (!isObj(pkgsNode)) {
    throw new SnapshotFormatError(
      file,
      lineOfKey(text, "Packages"),
      `"Packages" must be an object`,
    );
  }
  const pkgsAt = text.indexOf(`"Packages"`);
  const packages: Pkg[] = [];
  for (const [key, v] of Object.entries(pkgsNode)) {
    const at = lineOfKey(text, key, Math.max(0, pkgsAt));
    if (!isObj(v)) throw new SnapshotFormatError(file, at, `package "${key}" must be an object`);
    const name = typeof v.Package === "string" ? v.Package : key;
    if (typeof v.Version !== "string" || v.Version === "") {
      throw new SnapshotFormatError(file, at, `package "${key}" has no Version`);
    }
    const pkg: Pkg = { name, version: v.Version };
    if (typeof v.Source === "string") pkg.source = v.Source;
    if (typeof v.Repository === "string") pkg.repository = v.Repository;
    packages.push(pkg);
  }
  return { rVersion, repositories, packages: sortPkgs(packages) };
}
