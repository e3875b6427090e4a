/**
 * vup's rules for paths relative to the home directory. The generic helpers (join, dirname,
 * basename, resolve) are src/util/path.ts, which loads no node: module on POSIX: vup-core is
 * the instant path (see ./mod.ts and tests/unit/boot/loaded_modules_test.ts).
 */
import { dirname, resolve } from "../util/path.ts";

/** Lexically normalises an absolute path: no `.`, `..`, repeated or trailing slashes. */
export function normalize(p: string): string {
  return resolve(p.startsWith("/") ? p : `/${p}`);
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
