/**
 * Where a session-installed Python package came from, from PEP 610's `direct_url.json`
 * in its `.dist-info` (pip writes it for everything not installed from an index):
 *
 *   {"url": "file:///home/me/mypkg-1.0-py3-none-any.whl", "archive_info": {"hashes": {...}}}
 *   {"url": "file:///home/me/proj", "dir_info": {"editable": true}}
 *   {"url": "https://github.com/o/r", "vcs_info": {"vcs": "git", "commit_id": "abc..."}}
 *
 * `venvoy freeze` turns each into a wheel in vendor/ (see freeze_run.ts): local files are
 * copied from their recorded path, VCS installs are built at the recorded commit, local
 * and editable projects are built as wheels, and where the origin is gone the wheel is
 * rebuilt from the installed files. Read on the host; nothing here runs a container.
 */
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { PERSIST_DIR } from "../recipe/plan.ts";
import { normalizePythonName } from "./model.ts";
import { distInfoName, PersistReader, sitePackagesDirs } from "./state.ts";

export type Origin =
  /** A local file: a wheel or an sdist (`pip install ./x.whl`, `./x.tar.gz`). */
  | { kind: "file"; path: string; sha256: string | null }
  /** A local project folder (`pip install ./proj`, `pip install -e ./proj`). */
  | { kind: "dir"; path: string; editable: boolean; subdirectory: string | null }
  /** A VCS checkout at a commit, in pip's syntax (`git+https://…@<commit>`). */
  | { kind: "vcs"; requirement: string }
  /** A remote archive, in pip's syntax (`https://…/x.tar.gz#sha256=…`). */
  | { kind: "url"; requirement: string }
  /** direct_url.json names nothing venvoy can fetch again: rebuilt from installed files. */
  | { kind: "unknown" };

export interface DirectPackage {
  name: string;
  version: string;
  /** The .dist-info folder on the host. */
  distInfo: string;
  origin: Origin;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A local file:// URL as a path; null for another host or a malformed URL. */
function fromFileUrl(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}

/** Parses direct_url.json; null for anything PEP 610 does not describe (then: the index). */
export function parseDirectUrl(text: string): Origin | null {
  // deno-lint-ignore no-explicit-any
  let d: any;
  try {
    d = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof d !== "object" || d === null || typeof d.url !== "string") return null;
  const url: string = d.url;
  const sub = typeof d.subdirectory === "string" && d.subdirectory ? d.subdirectory : null;
  const fragment = sub ? `#subdirectory=${sub}` : "";
  if (d.vcs_info && typeof d.vcs_info === "object") {
    const vcs = String(d.vcs_info.vcs ?? "");
    const commit = String(d.vcs_info.commit_id ?? "");
    if (!/^(git|hg|bzr|svn)$/.test(vcs) || !commit) return null;
    const bare = url.replace(/^(git|hg|bzr|svn)\+/, "");
    return { kind: "vcs", requirement: `${vcs}+${bare}@${commit}${fragment}` };
  }
  if (d.dir_info && typeof d.dir_info === "object") {
    const path = url.startsWith("file:") ? fromFileUrl(url) : null;
    if (!path) return null;
    return {
      kind: "dir",
      path,
      editable: d.dir_info.editable === true,
      subdirectory: sub,
    };
  }
  if (d.archive_info && typeof d.archive_info === "object") {
    const a = d.archive_info;
    let sha: string | null = typeof a.hashes?.sha256 === "string" ? a.hashes.sha256 : null;
    if (!sha && typeof a.hash === "string" && a.hash.startsWith("sha256=")) sha = a.hash.slice(7);
    if (sha && !SHA256.test(sha)) sha = null;
    if (url.startsWith("file:")) {
      const path = fromFileUrl(url);
      return path ? { kind: "file", path, sha256: sha } : null;
    }
    if (!/^https?:\/\//.test(url)) return null;
    const hash = sha ? `#sha256=${sha}` : "";
    return { kind: "url", requirement: `${url.replace(/#.*$/, "")}${hash}` };
  }
  return null;
}

/**
 * The packages in persist/ (session installs) that have a direct_url.json, by normalized
 * name. Packages of the image itself came from the index or vendor/ and have none here.
 * persist/ is read as sessions left it: through PersistReader (no links, no FIFOs).
 */
export async function directPackages(envDir: string): Promise<Map<string, DirectPackage>> {
  const out = new Map<string, DirectPackage>();
  const p = await PersistReader.open(envDir);
  for (const prefix of ["python", "conda"]) {
    for (const site of sitePackagesDirs(p, prefix)) {
      for (const e of p.list(site)) {
        if (!e.isDirectory || !e.name.endsWith(".dist-info")) continue;
        const pkg = distInfoName(e.name);
        if (!pkg) continue;
        const text = p.text(`${site}/${e.name}/direct_url.json`);
        if (text === null) continue; // from an index
        const distInfo = join(envDir, PERSIST_DIR, site, e.name);
        const origin: Origin = parseDirectUrl(text) ?? { kind: "unknown" };
        out.set(normalizePythonName(pkg.name), { ...pkg, distInfo, origin });
      }
    }
  }
  return out;
}

/** The path of a host file under `<envDir>/persist` as the container sees it. */
export function containerPath(envDir: string, hostPath: string, persistMount: string): string {
  const rel = relative(join(envDir, PERSIST_DIR), hostPath);
  if (rel.startsWith("..")) throw new Error(`internal: ${hostPath} is not in persist/`);
  return `${persistMount}/${rel.split(sep).join("/")}`;
}
