/**
 * The one way to touch a path that a container or an archive shaped (a stranger's record,
 * a file a session wrote under persist/, a container's /opt/venvoy/out): relative to a
 * folder venvoy trusts, never through a link (neither in the middle nor at the end), regular
 * files only (a FIFO is refused without blocking), with a size cap, and writes that create a
 * new file or fail.
 *
 * Links in the middle are refused twice: by an lstat walk before the open, and, on Linux, by
 * reading back where the opened descriptor really is (/proc/self/fd), which a container that
 * swaps a folder for a link between the two steps cannot fake.
 */
import type * as NodeFs from "node:fs";
import { printable, VenvoyError } from "../ui/errors.ts";

/** A path that is not a plain file or folder inside its root: a link, a FIFO, `..`, too big. */
export class UnsafePathError extends VenvoyError {
  readonly path: string;
  constructor(path: string, why: string, hint?: string) {
    super(`${printable(path)}: ${why}`, { hint });
    this.path = path;
  }
}

/**
 * node:fs, loaded at its first use rather than by a static import: `venvoy run` is bundled
 * whole (scripts/chunks.ts), may hold no static node: import, and reads persist/ through
 * this module only once its container ended.
 */
let nodeFs: typeof NodeFs | null = null;
const fs = new Proxy({} as typeof NodeFs, {
  get: (_t, key) =>
    Reflect.get(
      nodeFs ??= (globalThis as unknown as {
        process: { getBuiltinModule(id: "node:fs"): typeof NodeFs };
      }).process.getBuiltinModule("node:fs"),
      key,
    ),
});
/** open(2) flags; 0 for one the platform lacks (O_NOFOLLOW, O_NOCTTY off Linux). */
const C = new Proxy({} as typeof NodeFs.constants, {
  get: (_t, key) => Reflect.get(fs.constants, key) ?? 0,
});
const onLinux = Deno.build.os === "linux";

/**
 * True for a '/'-separated relative path in normal form: no leading '/', no empty, '.' or
 * '..' segment, no NUL or backslash. `a/../b` and `./a` are not normal, and are refused
 * rather than resolved: a stranger's path means exactly what it says or nothing.
 */
export function isNormalRelative(rel: string): boolean {
  if (rel === "" || rel.startsWith("/") || rel.includes("\0") || rel.includes("\\")) return false;
  return rel.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

function checkRel(rel: string): string[] {
  if (!isNormalRelative(rel)) {
    throw new UnsafePathError(rel, "not a plain relative path (no '..', '.', empty or '/' start)");
  }
  return rel.split("/");
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The real path of `root` (which venvoy chose, so links in it are the user's own). */
function realRoot(root: string): string {
  return Deno.realPathSync(root);
}

/** Each folder between root and the last segment must be a real folder (or, with `create`, absent). */
function walkFolders(root: string, segs: string[], rel: string, create: boolean): void {
  let p = root;
  for (const seg of segs.slice(0, -1)) {
    p = `${p}/${seg}`;
    const st = lstatOrNull(p);
    if (st === null) {
      if (!create) throw new Deno.errors.NotFound(`${rel}: no such file`);
      Deno.mkdirSync(p);
      continue;
    }
    if (st.isSymlink) throw new UnsafePathError(rel, `a folder on the way is a link (${seg})`);
    if (!st.isDirectory) throw new UnsafePathError(rel, `${seg} is not a folder`);
  }
}

/** On Linux: the opened descriptor must sit exactly at root/rel (no link was followed). */
function checkLanded(fd: number, root: string, rel: string): void {
  if (!onLinux) return;
  let where: string;
  try {
    where = Deno.readLinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return; // no /proc: the lstat walk stands alone
  }
  if (where !== `${root}/${rel}`) {
    throw new UnsafePathError(rel, "it resolves outside the folder it was named in");
  }
}

function openErr(e: unknown, rel: string): never {
  const code = (e as { code?: string }).code;
  if (code === "ELOOP" || code === "EMLINK") throw new UnsafePathError(rel, "it is a link");
  if (code === "ENOENT") throw new Deno.errors.NotFound(`${rel}: no such file`);
  if (code === "EEXIST") throw new UnsafePathError(rel, "it exists already");
  throw e;
}

export interface ReadOptions {
  /** Refuse files larger than this many bytes. */
  maxBytes: number;
}

/**
 * The bytes of the regular file at root/rel. Throws UnsafePathError for a link, a FIFO or
 * other special file, a path that leaves root, or a file over the cap; Deno.errors.NotFound
 * when nothing is there.
 */
export function readContained(root: string, rel: string, opts: ReadOptions): Uint8Array {
  const segs = checkRel(rel);
  const base = realRoot(root);
  walkFolders(base, segs, rel, false);
  let fd: number;
  try {
    fd = fs.openSync(`${base}/${rel}`, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
  } catch (e) {
    openErr(e, rel);
  }
  try {
    checkLanded(fd, base, rel);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UnsafePathError(rel, "not a regular file");
    if (st.size > opts.maxBytes) {
      throw new UnsafePathError(rel, `larger than ${opts.maxBytes} bytes (${st.size})`);
    }
    // Read one byte past the cap: a file that grows after fstat is refused too.
    const buf = new Uint8Array(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > opts.maxBytes) {
        throw new UnsafePathError(rel, `larger than ${opts.maxBytes} bytes (it grew)`);
      }
    }
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** readContained, or null when nothing is at root/rel (links and FIFOs still throw). */
export function readContainedIfExists(
  root: string,
  rel: string,
  opts: ReadOptions,
): Uint8Array | null {
  try {
    return readContained(root, rel, opts);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** readContained as UTF-8 text (invalid bytes become U+FFFD). */
export function readContainedText(root: string, rel: string, opts: ReadOptions): string {
  return new TextDecoder().decode(readContained(root, rel, opts));
}

/** The real root when every folder on the way to rel is a real folder; null: one is missing. */
function foldersOnTheWay(root: string, rel: string): string | null {
  const segs = checkRel(rel);
  const base = realRoot(root);
  try {
    walkFolders(base, segs, rel, false);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return base;
}

/**
 * The entries of the folder root/rel, listed through the descriptor opened there (on Linux,
 * /proc/self/fd), so a folder swapped for a link after the check lists nothing of the host;
 * null when nothing is there. A link (on the way or at the end) or a non-folder throws
 * UnsafePathError.
 */
export function listContained(root: string, rel: string): Deno.DirEntry[] | null {
  const base = foldersOnTheWay(root, rel);
  if (base === null) return null;
  let fd: number;
  try {
    fd = fs.openSync(`${base}/${rel}`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return null;
    if (code === "ENOTDIR") throw new UnsafePathError(rel, "not a folder");
    openErr(e, rel);
  }
  try {
    checkLanded(fd, base, rel);
    const via = onLinux && lstatOrNull(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : null;
    return [...Deno.readDirSync(via ?? `${base}/${rel}`)];
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * What is at root/rel, without following any link; null when nothing is there. A link in a
 * folder on the way is refused (UnsafePathError); the last segment may be anything, and a
 * link there is reported as a link.
 */
export function lstatContained(root: string, rel: string): Deno.FileInfo | null {
  const base = foldersOnTheWay(root, rel);
  if (base === null) return null;
  return lstatOrNull(`${base}/${rel}`);
}

/** Makes the folder root/rel and any folder on the way, never through a link. */
export function mkdirContained(root: string, rel: string): void {
  const segs = checkRel(rel);
  const base = realRoot(root);
  walkFolders(base, [...segs, ""], rel, true);
}

/**
 * Creates the symbolic link root/rel -> target: folders on the way are made (never through a
 * link), and anything already at rel is refused. The target is not followed or checked: a
 * link is only text until something opens it.
 */
export function symlinkNewContained(root: string, rel: string, target: string): void {
  const segs = checkRel(rel);
  const base = realRoot(root);
  walkFolders(base, segs, rel, true);
  try {
    Deno.symlinkSync(target, `${base}/${rel}`);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw new UnsafePathError(rel, "it exists already");
    throw e;
  }
}

export interface WriteOptions {
  /** Permission bits of the new file (default 0o644, less the umask). */
  mode?: number;
}

/**
 * Creates root/rel as a new regular file holding `data`: folders on the way are made (never
 * through a link), and an existing file, link (dangling or not) or FIFO at rel is refused,
 * so nothing outside root is ever written or created.
 */
export function writeNewContained(
  root: string,
  rel: string,
  data: Uint8Array,
  opts: WriteOptions = {},
): void {
  const segs = checkRel(rel);
  const base = realRoot(root);
  walkFolders(base, segs, rel, true);
  let fd: number;
  try {
    fd = fs.openSync(
      `${base}/${rel}`,
      C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NOCTTY,
      opts.mode ?? 0o644,
    );
  } catch (e) {
    openErr(e, rel);
  }
  try {
    checkLanded(fd, base, rel);
    writeAll(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}

/**
 * Copies the trusted file `from` (a path venvoy itself wrote, such as a verified blob) to a
 * new file root/rel, streamed in chunks; the rules of writeNewContained apply to the target.
 */
export function copyNewContained(from: string, root: string, rel: string): void {
  const segs = checkRel(rel);
  const base = realRoot(root);
  walkFolders(base, segs, rel, true);
  const src = fs.openSync(from, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  try {
    if (!fs.fstatSync(src).isFile()) throw new UnsafePathError(from, "not a regular file");
    let fd: number;
    try {
      fd = fs.openSync(`${base}/${rel}`, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
    } catch (e) {
      openErr(e, rel);
    }
    try {
      checkLanded(fd, base, rel);
      const buf = new Uint8Array(1 << 20);
      for (;;) {
        const n = fs.readSync(src, buf, 0, buf.length, null);
        if (n === 0) break;
        writeAll(fd, buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(src);
  }
}
