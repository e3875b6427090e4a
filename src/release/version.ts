/**
 * Release versions: MAJOR.MINOR.PATCH with an optional pre-release (`-rc.1`) and build
 * (`+abc`) part, and an optional leading `v` as in git tags. Ordered as semver orders them.
 */
import { VenvoyError } from "../ui/errors.ts";

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers; empty for a release. */
  pre: string[];
  /** The version as written, without a leading `v`. */
  text: string;
}

const VERSION_RE =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function parseVersion(text: string): Version | null {
  const m = text.trim().match(VERSION_RE);
  if (!m) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    pre: m[4] ? m[4].split(".") : [],
    text: text.trim().replace(/^v/, ""),
  };
}

/** Like parseVersion, but a bad version is an error that says where it came from. */
export function mustParseVersion(text: string, source: string): Version {
  const v = parseVersion(text);
  if (!v) {
    const shown = text.trim().slice(0, 60) || "(empty)";
    throw new VenvoyError(`${source} does not hold a version: '${shown}'`, {
      hint: "a version looks like 1.2.3 (or 1.2.3-rc.1)",
    });
  }
  return v;
}

/** Negative when a < b, zero when equal (build metadata ignored), positive when a > b. */
export function compareVersions(a: Version | string, b: Version | string): number {
  const x = typeof a === "string" ? mustParseVersion(a, "version") : a;
  const y = typeof b === "string" ? mustParseVersion(b, "version") : b;
  for (const k of ["major", "minor", "patch"] as const) {
    if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  }
  // A pre-release comes before its release.
  if (x.pre.length === 0 || y.pre.length === 0) {
    return x.pre.length === y.pre.length ? 0 : x.pre.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const c = comparePreId(x.pre[i], y.pre[i]);
    if (c !== 0) return c;
  }
  return Math.sign(x.pre.length - y.pre.length);
}

function comparePreId(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an !== bn) return an ? -1 : 1; // numeric identifiers sort first
  return a < b ? -1 : a > b ? 1 : 0;
}
