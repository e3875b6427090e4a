/**
 * The single-file build (dist/venvoy) carries most of venvoy as a packed folder of modules
 * (`deno bundle --code-splitting`): a JSON map of file names to sources, gzipped, then
 * base64, in one string literal. A string is cheap for V8 and Deno to scan, where a megabyte
 * of code costs tens of milliseconds on every start (docs/vup.md, "How the single file stays
 * fast", has the measurement), and vup-core, which answers on every venv activation, never
 * needs that code. Any other command unpacks the folder once per version
 * into the user's cache folder and imports its entry from there, so each command loads
 * only the modules (and the node: built-ins) it uses.
 *
 * What is loaded from that folder is code this user then runs, so nobody else may be able
 * to write or swap it (issue 11, item 1):
 *  - the folder is `$XDG_CACHE_HOME/venvoy` or `~/.cache/venvoy`, never a shared temp folder;
 *  - the base folder is resolved to its real path once (a home reached through a link works),
 *    and every folder from `/` down is then checked with lstat: no symlink, owned by root or
 *    this user, writable by neither group nor others (a root-owned sticky folder such as /tmp
 *    is allowed above `venvoy/`); `venvoy/` and below are this user's own;
 *  - each module is checked before it is imported: a regular file (not a link), owned by
 *    this user, writable by nobody else, whose SHA-256 is the one this build recorded. A
 *    module's static imports are checked with it, and dynamic imports between modules go
 *    through the same check (`globalThis.__venvoyImport`, see scripts/chunks.ts), so only
 *    what a command loads is read and hashed.
 * If no such folder can be had, venvoy stops with an error and a hint.
 *
 * Only Deno APIs: this runs before anything else, and must stay small and quick.
 */
import { sha256Hex } from "../util/hash.ts";
import { every } from "../util/timer.ts";

export interface PackedModule {
  /** base64 of the gzip of the JSON `{ entry, files: { name: source } }`. */
  gz: string;
  /** Hex SHA-256 of that JSON (a prefix names the folder). */
  sha: string;
  /** Size of that JSON in bytes. */
  size: number;
  /** The module that runs venvoy (`main.js`). */
  entry: string;
  /** Per module: the hex SHA-256 of its source, then the modules it imports statically. */
  index: Record<string, [string, ...string[]]>;
}

interface Unpacked {
  entry: string;
  files: Record<string, string>;
}

type Env = (name: string) => string | undefined;

/** Where unpacked modules are kept: one folder of the user's own (or none: an error). */
export function cacheDirs(env: Env = (n) => Deno.env.get(n), os: string = Deno.build.os): string[] {
  const xdg = env("XDG_CACHE_HOME");
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    return local ? [`${local}\\venvoy\\cache`] : [];
  }
  if (xdg && xdg.startsWith("/")) return [`${xdg}/venvoy`];
  const home = env("HOME");
  return home && home.startsWith("/") ? [`${home}/.cache/venvoy`] : [];
}

function uid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

export function folderName(p: Pick<PackedModule, "sha">): string {
  return `rest-${p.sha.slice(0, 16)}`;
}

/** Written last into an unpacked folder: its presence with the full hash means complete. */
const COMPLETE = ".complete";
const FILE_NAME = /^[\w.-]+\.js$/;
/** A static import between chunks, as esbuild writes it (`from"./x.js"`, `import"./x.js"`). */
const STATIC_IMPORT = /(?:\bfrom|\bimport)\s*["']\.\/([\w.-]+\.js)["']/g;

/** The error shown when the cache cannot be trusted; `main.ts` is not loaded yet. */
export class CacheError extends Error {
  constructor(what: string, readonly hint: string) {
    super(`venvoy: error: ${what}\nhint: ${hint}`);
    this.name = "CacheError";
  }
}

const HINT = "set XDG_CACHE_HOME to a folder of your own that only you can write " +
  "(for example, export XDG_CACHE_HOME=$HOME/.cache)";

/** file:// URL of an absolute path (POSIX or Windows), each segment escaped. */
export function fileUrl(path: string): string {
  const slashed = path.replaceAll("\\", "/");
  const withRoot = slashed.startsWith("/") ? slashed : `/${slashed}`;
  return `file://${
    withRoot.split("/").map((s, i) => i === 1 && /^[A-Za-z]:$/.test(s) ? s : encodeURIComponent(s))
      .join("/")
  }`;
}

const posix = () => Deno.build.os !== "windows" && uid() !== null;

/**
 * Why `path` (absolute, already real) could be written or swapped by another user, or null.
 * Every folder from `/` down is looked at with lstat. Folders at or below `ownFrom` (a prefix
 * of `path`) must be this user's; above it, root's or this user's, and group/other-writable
 * only if root-owned and sticky.
 */
export function unsafeReason(path: string, ownFrom: string = path): string | null {
  if (!posix()) return null;
  const me = uid()!;
  const parts = path.split("/").filter(Boolean);
  let at = "";
  for (let i = -1; i < parts.length; i++) {
    at = i < 0 ? "/" : `${at === "/" ? "" : at}/${parts[i]}`;
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(at);
    } catch (e) {
      return `${at}: ${(e as Error).message}`;
    }
    if (st.isSymlink) return `${at} is a symbolic link`;
    if (!st.isDirectory) return `${at} is not a folder`;
    const own = at.length >= ownFrom.length;
    const mode = st.mode ?? 0;
    if (own ? st.uid !== me : st.uid !== 0 && st.uid !== me) {
      return `${at} is owned by uid ${st.uid}, not by ${own ? "you" : "you or root"}`;
    }
    if ((mode & 0o022) !== 0 && (own || st.uid !== 0 || (mode & 0o1000) === 0)) {
      return `${at} is writable by ${(mode & 0o002) ? "others" : "its group"} (mode ${
        (mode & 0o7777).toString(8)
      })`;
    }
  }
  return null;
}

/** Why the module file could be another user's, or null. */
function unsafeFile(path: string): string | null {
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(path);
  } catch (e) {
    return `${path}: ${(e as Error).message}`;
  }
  if (st.isSymlink) return `${path} is a symbolic link`;
  if (!st.isFile) return `${path} is not a regular file`;
  if (!posix()) return null;
  if (st.uid !== uid()) return `${path} is owned by uid ${st.uid}, not by you`;
  if (((st.mode ?? 0) & 0o022) !== 0) return `${path} is writable by others`;
  return null;
}

/** A folder (not a link to one) is at `path`; who owns it is unsafeReason's to judge. */
function existsAsFolder(path: string): boolean {
  try {
    return Deno.lstatSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The real path of `dir`: its longest existing ancestor resolved once (so a home reached
 * through a link, or an XDG_CACHE_HOME that is one, works), and the rest created, folder by
 * folder, private to this user. The last component (`venvoy`) is never resolved: it is ours.
 */
function realCacheDir(dir: string): string {
  const sep = dir.lastIndexOf("/");
  let base = dir.slice(0, sep) || "/";
  const missing: string[] = [dir.slice(sep + 1)];
  let real: string | null = null;
  while (real === null) {
    try {
      real = Deno.realPathSync(base);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound) || base === "/") throw e;
      const i = base.lastIndexOf("/");
      missing.unshift(base.slice(i + 1));
      base = base.slice(0, i) || "/";
    }
  }
  let at = real === "/" ? "" : real;
  for (const name of missing) {
    at = `${at}/${name}`;
    if (existsAsFolder(at)) continue; // the usual case: no failing mkdir (a thrown error costs)
    try {
      Deno.mkdirSync(at, { mode: 0o700 }); // not recursive: an existing link is not followed
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  return at;
}

/** The build's half (scripts/bundle.ts): the entry file and its chunks -> PackedModule. */
export async function pack(entry: string, files: Record<string, string>): Promise<PackedModule> {
  if (!(entry in files)) throw new Error(`pack: the entry ${entry} is not among the files`);
  for (const name of Object.keys(files)) {
    if (!FILE_NAME.test(name)) throw new Error(`pack: unexpected file name '${name}'`);
  }
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a < b ? -1 : 1));
  const index: PackedModule["index"] = {};
  for (const [name, text] of Object.entries(sorted)) {
    const deps = [...new Set([...text.matchAll(STATIC_IMPORT)].map((m) => m[1]))];
    for (const d of deps) {
      if (!(d in files)) throw new Error(`pack: ${name} imports ${d}, which is not packed`);
    }
    index[name] = [await sha256Hex(text), ...deps];
  }
  const source = new TextEncoder().encode(JSON.stringify({ entry, files: sorted }));
  const gz = new Uint8Array(
    await new Response(new Blob([source]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  let bin = "";
  for (let i = 0; i < gz.length; i += 0x8000) {
    bin += String.fromCharCode(...gz.subarray(i, i + 0x8000));
  }
  return { gz: btoa(bin), sha: await sha256Hex(source), size: source.length, entry, index };
}

export async function unpack(p: PackedModule): Promise<Unpacked> {
  const bin = Uint8Array.from(atob(p.gz), (c) => c.charCodeAt(0));
  const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"));
  const source = new Uint8Array(await new Response(stream).arrayBuffer());
  if (source.length !== p.size || await sha256Hex(source) !== p.sha) {
    throw new Error(`venvoy: the packed modules are damaged (${source.length} of ${p.size} bytes)`);
  }
  const data = JSON.parse(new TextDecoder().decode(source)) as Unpacked;
  if (data.entry !== p.entry) throw new Error("venvoy: the packed modules are damaged (entry)");
  for (const name of Object.keys(data.files)) {
    if (!FILE_NAME.test(name)) throw new Error(`venvoy: a packed file is named '${name}'`);
  }
  return data;
}

/**
 * When a version's folder counts as in use: its `.complete` marker's modification time,
 * which every venvoy that loads from the folder sets at start (when older than TOUCH_MS)
 * and then every TOUCH_MS while it runs (keepFresh). prune() removes only folders unused
 * for PRUNE_MS, so it never pulls the modules from under a running venvoy (an open
 * `venvoy run` while the user upgrades, or two builds used side by side), which would
 * otherwise crash at its next lazy import.
 */
export const TOUCH_MS = 60 * 60 * 1000;
export const PRUNE_MS = 7 * 24 * 60 * 60 * 1000;

/** The last-use time of an unpacked folder (or of an old single-file `.mjs`), or null. */
function lastUse(path: string): number | null {
  try {
    const st = Deno.lstatSync(path);
    if (st.isDirectory) return Deno.lstatSync(`${path}/${COMPLETE}`).mtime?.getTime() ?? null;
    return st.mtime?.getTime() ?? null;
  } catch {
    return null; // no marker: an incomplete folder, judged by the folder itself below
  }
}

/**
 * Drops other versions' folders that no venvoy has used for PRUNE_MS. A folder is first
 * renamed aside and its marker looked at again, so a venvoy that marked it in between
 * (starting just then) keeps it: it is renamed back.
 */
export function prune(dir: string, current: string, now: number = Date.now()): void {
  const old = (t: number | null | undefined) => t !== null && t !== undefined && now - t > PRUNE_MS;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return; // a cache that cannot be tidied still works
  }
  for (const e of entries) {
    // Other versions, and what a crashed unpack or prune left (`.<pid>.tmp`, `.<pid>.prune`).
    if (!/^rest-[0-9a-f]{16}(\.mjs)?(\.\d+\.(tmp|prune))?$/.test(e.name)) continue;
    if (e.name === current || e.name.startsWith(`${current}.`)) continue;
    const path = `${dir}/${e.name}`;
    try {
      const used = lastUse(path) ?? Deno.lstatSync(path).mtime?.getTime();
      if (!old(used)) continue;
      if (/\.(tmp|prune)$/.test(e.name)) {
        Deno.removeSync(path, { recursive: true });
        continue;
      }
      const aside = `${path}.${Deno.pid}.prune`;
      Deno.renameSync(path, aside);
      const again = lastUse(aside) ?? used;
      if (!old(again)) {
        try {
          Deno.renameSync(aside, path);
          continue;
        } catch { /* unpacked afresh meanwhile: this copy goes */ }
      }
      Deno.removeSync(aside, { recursive: true });
    } catch { /* gone already, or not ours to tidy */ }
  }
}

/** Marks `folder` as in use now (its `.complete` marker's time). */
function touch(folder: string): void {
  try {
    const now = new Date();
    Deno.utimeSync(`${folder}/${COMPLETE}`, now, now);
  } catch { /* a read-only cache: pruning is then not ours either */ }
}

/**
 * Keeps `folder` marked as in use while this process runs: an hourly timer that does not
 * keep the process alive. Returns its stop function.
 */
export function keepFresh(folder: string, everyMs: number = TOUCH_MS): () => void {
  // util/timer.ts: unref'd, and unlike setInterval it loads no node:timers on every start.
  const timer = every(everyMs, () => touch(folder));
  return () => timer.cancel();
}

function writeFolder(tmp: string, data: Unpacked, p: PackedModule) {
  Deno.mkdirSync(tmp, { mode: 0o700 }); // fails if anything is there already
  if (posix()) Deno.chmodSync(tmp, 0o755); // whatever the umask
  for (const [name, text] of Object.entries(data.files)) {
    Deno.writeTextFileSync(`${tmp}/${name}`, text, { mode: 0o644, createNew: true });
    if (posix()) Deno.chmodSync(`${tmp}/${name}`, 0o644);
  }
  Deno.writeTextFileSync(`${tmp}/${COMPLETE}`, `${p.sha}\n${data.entry}\n`, {
    mode: 0o644,
    createNew: true,
  });
}

/**
 * True if `folder` is a complete unpacked folder of this build, ours, and not a link. With
 * `mark`, a marker older than TOUCH_MS is touched (the folder is in use: prune keeps it).
 */
function complete(folder: string, p: PackedModule, mark = false): boolean {
  try {
    const st = Deno.lstatSync(folder);
    if (st.isSymlink || !st.isDirectory) return false;
    if (posix() && (st.uid !== uid() || ((st.mode ?? 0) & 0o022) !== 0)) return false;
    const marker = `${folder}/${COMPLETE}`;
    if (unsafeFile(marker)) return false;
    // Touched before it is read: a prune that renamed the folder aside meanwhile sees the
    // new time and puts it back; one that removed it already leaves no marker to read.
    if (mark && Date.now() - (Deno.lstatSync(marker).mtime?.getTime() ?? 0) > TOUCH_MS) {
      touch(folder);
    }
    const [sha] = Deno.readTextFileSync(marker).split("\n");
    return sha === p.sha;
  } catch {
    return false;
  }
}

/** A cache folder that only this user can change, or a CacheError. */
function safeCacheDir(dirs: string[]): string {
  if (dirs.length === 0) {
    throw new CacheError("no cache folder to unpack venvoy into (HOME is not set)", HINT);
  }
  const dir = dirs[0];
  if (!posix()) {
    // Windows: %LOCALAPPDATA% is the user's own; modules are still checked by hash.
    try {
      Deno.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new CacheError(`cannot create the cache folder ${dir}: ${(e as Error).message}`, HINT);
    }
    return dir;
  }
  let real: string;
  try {
    real = realCacheDir(dir);
  } catch (e) {
    throw new CacheError(`cannot create the cache folder ${dir}: ${(e as Error).message}`, HINT);
  }
  const why = unsafeReason(real, real);
  if (why) {
    throw new CacheError(
      `will not load venvoy's code from ${real}: ${why}; another user could change it`,
      HINT,
    );
  }
  return real;
}

/**
 * The real path of this build's unpacked folder, written (complete, then renamed into place)
 * on first use, in a cache folder only this user can change.
 */
export async function unpackedFolder(p: PackedModule, dirs = cacheDirs()): Promise<string> {
  const dir = safeCacheDir(dirs);
  const name = folderName(p);
  const final = `${dir}/${name}`;
  if (complete(final, p, true)) return final;
  const data = await unpack(p);
  const tmp = `${final}.${Deno.pid}.tmp`;
  try {
    try {
      Deno.removeSync(tmp, { recursive: true }); // a crashed run of the same pid
    } catch { /* none */ }
    writeFolder(tmp, data, p);
    // An incomplete or foreign folder of this name goes; a complete one just written by
    // another venvoy (a race) stays, and this copy is dropped.
    if (!complete(final, p)) {
      try {
        Deno.removeSync(final, { recursive: true });
      } catch { /* none there */ }
    }
    try {
      Deno.renameSync(tmp, final);
    } catch (e) {
      if (!complete(final, p)) throw e;
      Deno.removeSync(tmp, { recursive: true });
    }
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* never written */ }
    throw new CacheError(`cannot unpack venvoy into ${dir}: ${(e as Error).message}`, HINT);
  }
  if (!complete(final, p)) throw new CacheError(`${final} was changed while written`, HINT);
  prune(dir, name);
  return final;
}

/**
 * Checks `name` and every module it imports statically (those not checked yet): each a
 * regular file of this user's, writable by nobody else, with the hash this build recorded.
 */
export async function verifyModules(
  folder: string,
  name: string,
  p: PackedModule,
  seen: Set<string> = new Set(),
): Promise<void> {
  const todo: string[] = [];
  const walk = (n: string) => {
    if (seen.has(n)) return;
    const rec = p.index[n];
    if (!rec) throw new CacheError(`venvoy has no packed module '${n}'`, "reinstall venvoy");
    seen.add(n);
    todo.push(n);
    for (const d of rec.slice(1)) walk(d);
  };
  walk(name);
  const bad = (await Promise.all(todo.map(async (n) => {
    const path = `${folder}/${n}`;
    const why = unsafeFile(path);
    if (why) return why;
    return await sha256Hex(Deno.readFileSync(path)) === p.index[n][0]
      ? null
      : `${path} is not the module this build packed`;
  }))).filter((w) => w !== null);
  if (bad.length) {
    for (const n of todo) seen.delete(n);
    throw new CacheError(
      `will not load venvoy's code: ${bad[0]}`,
      `remove ${folder} and run venvoy again`,
    );
  }
}

declare global {
  var __venvoyImport: ((spec: string) => Promise<unknown>) | undefined;
}

/**
 * Unpacks (once) and imports the packed entry, which then runs venvoy. Each module is
 * verified before it is imported (verifyModules); a folder whose entry fails the check is
 * written afresh once (our own cache, damaged), and a second failure is an error.
 */
export async function importPacked(p: PackedModule, dirs?: string[]): Promise<void> {
  let folder = await unpackedFolder(p, dirs);
  const entry = p.entry;
  const seen = new Set<string>();
  try {
    await verifyModules(folder, entry, p, seen);
  } catch {
    Deno.removeSync(folder, { recursive: true });
    folder = await unpackedFolder(p, dirs);
    await verifyModules(folder, entry, p, seen);
  }
  keepFresh(folder); // a session open for days keeps its modules (prune skips folders in use)
  globalThis.__venvoyImport = async (spec: string) => {
    const name = spec.replace(/^\.\//, "");
    await verifyModules(folder, name, p, seen);
    return await import(fileUrl(`${folder}/${name}`));
  };
  await import(fileUrl(`${folder}/${entry}`));
}
