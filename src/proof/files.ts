/**
 * The files of a recorded run: every input and output, walked (folders) and hashed, with
 * symbolic links recorded as links and never followed. Paths are relative to the folder
 * the command ran in, with '/' separators.
 */
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { sha256File } from "../util/hash.ts";

export type FileEntry =
  | { path: string; type: "file"; size: number; sha256: string; kept?: boolean }
  | { path: string; type: "symlink"; target: string };

/** Outputs up to this size that are text are kept, so `verify` can say where they differ. */
export const KEEP_TEXT_MAX = 1024 * 1024;

/** `given` (absolute or relative to `cwd`) as a '/'-separated path relative to `cwd`. */
export function relativeTo(cwd: string, given: string): string {
  const rel = relative(resolve(cwd), resolve(cwd, given));
  return rel.split(sep).join("/");
}

/** True for a relative path that stays inside its folder (and is not the folder itself). */
export function isInside(rel: string): boolean {
  return rel !== "" && rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel);
}

/**
 * Every file and link under `rel` (itself, when it is a file or a link), sorted by path;
 * null when nothing is there. Other kinds (sockets, fifos) are left out.
 */
export async function collectEntries(cwd: string, rel: string): Promise<FileEntry[] | null> {
  const abs = join(cwd, rel);
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(abs);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const out: FileEntry[] = [];
  const visit = async (path: string, info: Deno.FileInfo) => {
    const p = join(cwd, path);
    if (info.isSymlink) out.push({ path, type: "symlink", target: await Deno.readLink(p) });
    else if (info.isFile) {
      out.push({ path, type: "file", size: info.size, sha256: await sha256File(p) });
    } else if (info.isDirectory) {
      for await (const e of Deno.readDir(p)) {
        const child = path === "." ? e.name : `${path}/${e.name}`;
        await visit(child, await Deno.lstat(join(cwd, child)));
      }
    }
  };
  await visit(rel, st);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Text: valid UTF-8 without NUL bytes (so a text round trip keeps every byte). */
export function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The first offset at which two byte strings differ; null when they are equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? null : n;
}
