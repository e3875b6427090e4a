/**
 * POSIX path helpers for vup-core. Hand-written instead of node:path on purpose: vup-core is
 * the instant path and imports nothing (see ./mod.ts).
 */

/** Lexically normalises an absolute path: no `.`, `..`, repeated or trailing slashes. */
export function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

export function join(...parts: string[]): string {
  return normalize(parts.join("/"));
}

/** The parent of a normalised absolute path; "/" for "/". */
export function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** True when `p` is `home` or below it (both normalised). */
export function isWithin(home: string, p: string): boolean {
  if (home === "/") return true;
  return p === home || p.startsWith(home + "/");
}

/** `~` form of a path within home; other paths unchanged. */
export function tildify(home: string, p: string): string {
  if (!isWithin(home, p) || home === "/") return p;
  return p === home ? "~" : "~" + p.slice(home.length);
}

/**
 * Resolves a user-supplied directory: `~` and `~/…` against home, absolute as is, anything
 * else relative to cwd. `~user` is not expanded (returns null).
 */
export function resolveUserPath(
  p: string,
  { home, cwd }: { home: string; cwd: string },
): string | null {
  if (p === "~" || p.startsWith("~/")) return normalize(home + p.slice(1));
  if (p.startsWith("~")) return null;
  if (p.startsWith("/")) return normalize(p);
  return normalize(cwd + "/" + p);
}

/** The directories searched from `start` up to `home`, closest first (start within home). */
export function levelsUpTo(home: string, start: string): string[] {
  const levels = [start];
  let d = start;
  while (d !== home && d !== "/") {
    d = dirname(d);
    levels.push(d);
  }
  return levels;
}
