/**
 * The few path functions that `venvoy run` needs before its container starts (the process
 * seam, the state folders, the environment store), without node:path: the first node:
 * module costs ~5 ms of Deno's Node-compatibility start-up, on every batch job. The POSIX
 * versions follow node:path's posix ones exactly (tests/unit/util/path_test.ts compares them
 * over many inputs); on Windows these are node:path's own.
 */
import type * as NodePath from "node:path";

const win: typeof NodePath | null = Deno.build.os === "windows" ? await import("node:path") : null;

/** node:path's normalizeString for "/": resolves "." and "..", drops empty segments. */
function normalizeSegments(path: string, allowAboveRoot: boolean): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (allowAboveRoot) out.push("..");
    } else out.push(seg);
  }
  return out.join("/");
}

function posixNormalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  let p = normalizeSegments(path, !absolute);
  if (p === "" && !absolute) p = ".";
  if (p !== "" && trailing) p += "/";
  return absolute ? `/${p}` : p;
}

export const delimiter: string = win ? win.delimiter : ":";

export function isAbsolute(path: string): boolean {
  return win ? win.isAbsolute(path) : path.startsWith("/");
}

export function join(...parts: string[]): string {
  if (win) return win.join(...parts);
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : posixNormalize(joined);
}

export function resolve(...parts: string[]): string {
  if (win) return win.resolve(...parts);
  let resolved = "";
  let absolute = false;
  for (let i = parts.length - 1; i >= -1 && !absolute; i--) {
    const p = i >= 0 ? parts[i] : Deno.cwd();
    if (p === "") continue;
    resolved = `${p}/${resolved}`;
    absolute = p.startsWith("/");
  }
  const normal = normalizeSegments(resolved, !absolute);
  return absolute ? `/${normal}` : normal || ".";
}

export function dirname(path: string): string {
  if (win) return win.dirname(path);
  if (path === "") return ".";
  const hasRoot = path.startsWith("/");
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === "/") {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else matchedSlash = false;
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return path.slice(0, end);
}

export function basename(path: string): string {
  if (win) return win.basename(path);
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}
