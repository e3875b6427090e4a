/**
 * The single-file build (dist/venvoy) carries most of venvoy as a packed folder of modules
 * (`deno bundle --code-splitting`): a JSON map of file names to sources, gzipped, then
 * base64, in one string literal. A string costs V8 and Deno almost nothing to scan, where a
 * megabyte of code costs ~15 ms on every start, and vup-core, which answers on every venv
 * activation, never needs that code. Any other command unpacks the folder once per version
 * into the user's cache folder and imports its entry from there, so each command loads
 * only the modules (and the node: built-ins) it uses.
 *
 * Only Deno APIs: this runs before anything else, and must stay small and quick.
 */
import { sha256Hex } from "../util/hash.ts";

export interface PackedModule {
  /** base64 of the gzip of the JSON `{ entry, files: { name: source } }`. */
  gz: string;
  /** Hex SHA-256 of that JSON (a prefix names the folder). */
  sha: string;
  /** Size of that JSON in bytes. */
  size: number;
}

interface Unpacked {
  entry: string;
  files: Record<string, string>;
}

type Env = (name: string) => string | undefined;

/** Where unpacked modules are kept, in order of preference. */
export function cacheDirs(env: Env = (n) => Deno.env.get(n), os: string = Deno.build.os): string[] {
  const dirs: string[] = [];
  const xdg = env("XDG_CACHE_HOME");
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    if (local) dirs.push(`${local}\\venvoy\\cache`);
  } else if (xdg && xdg.startsWith("/")) dirs.push(`${xdg}/venvoy`);
  else if (env("HOME")) dirs.push(`${env("HOME")}/.cache/venvoy`);
  // A read-only or missing home (some batch nodes): a per-user folder in the temp dir.
  const tmp = env("TMPDIR") || env("TEMP") || (os === "windows" ? undefined : "/tmp");
  if (tmp) dirs.push(`${tmp}${os === "windows" ? "\\" : "/"}venvoy-cache-${uid() ?? "user"}`);
  return dirs;
}

function uid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

export function folderName(p: PackedModule): string {
  return `rest-${p.sha.slice(0, 16)}`;
}

/** Written last into an unpacked folder: its presence with the full hash means complete. */
const COMPLETE = ".complete";
const FILE_NAME = /^[\w.-]+\.js$/;

/** file:// URL of an absolute path (POSIX or Windows), each segment escaped. */
export function fileUrl(path: string): string {
  const slashed = path.replaceAll("\\", "/");
  const withRoot = slashed.startsWith("/") ? slashed : `/${slashed}`;
  return `file://${
    withRoot.split("/").map((s, i) => i === 1 && /^[A-Za-z]:$/.test(s) ? s : encodeURIComponent(s))
      .join("/")
  }`;
}

/** Ours: owned by this user and writable by nobody else. */
function ours(st: Deno.FileInfo): boolean {
  const me = uid();
  if (me !== null && st.uid !== null && st.uid !== me) return false;
  return st.mode === null || (st.mode & 0o022) === 0;
}

/** The entry of an unpacked folder, or null unless it is complete, ours, and this version. */
function trustedEntry(dir: string, p: PackedModule): string | null {
  try {
    const st = Deno.statSync(dir);
    if (!st.isDirectory || !ours(st)) return null;
    const [sha, entry] = Deno.readTextFileSync(`${dir}/${COMPLETE}`).split("\n");
    if (sha !== p.sha || !FILE_NAME.test(entry ?? "")) return null;
    return `${dir}/${entry}`;
  } catch {
    return null;
  }
}

/** The build's half (scripts/bundle.ts): the entry file and its chunks -> PackedModule. */
export async function pack(entry: string, files: Record<string, string>): Promise<PackedModule> {
  if (!(entry in files)) throw new Error(`pack: the entry ${entry} is not among the files`);
  for (const name of Object.keys(files)) {
    if (!FILE_NAME.test(name)) throw new Error(`pack: unexpected file name '${name}'`);
  }
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => a < b ? -1 : 1));
  const source = new TextEncoder().encode(JSON.stringify({ entry, files: sorted }));
  const gz = new Uint8Array(
    await new Response(new Blob([source]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  let bin = "";
  for (let i = 0; i < gz.length; i += 0x8000) {
    bin += String.fromCharCode(...gz.subarray(i, i + 0x8000));
  }
  return { gz: btoa(bin), sha: await sha256Hex(source), size: source.length };
}

export async function unpack(p: PackedModule): Promise<Unpacked> {
  const bin = Uint8Array.from(atob(p.gz), (c) => c.charCodeAt(0));
  const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"));
  const source = new Uint8Array(await new Response(stream).arrayBuffer());
  if (source.length !== p.size) {
    throw new Error(`venvoy: the packed modules are damaged (${source.length} of ${p.size} bytes)`);
  }
  const data = JSON.parse(new TextDecoder().decode(source)) as Unpacked;
  for (const name of Object.keys(data.files)) {
    if (!FILE_NAME.test(name)) throw new Error(`venvoy: a packed file is named '${name}'`);
  }
  return data;
}

/** Keeps the newest `keep` other unpacked versions (two installs may alternate); drops the rest. */
function prune(dir: string, current: string, keep = 2) {
  try {
    const others = [...Deno.readDirSync(dir)]
      .filter((e) => /^rest-[0-9a-f]{16}(\.mjs)?$/.test(e.name) && e.name !== current)
      .map((e) => ({ path: `${dir}/${e.name}`, mtime: Deno.statSync(`${dir}/${e.name}`).mtime }))
      .sort((a, b) => (b.mtime?.getTime() ?? 0) - (a.mtime?.getTime() ?? 0));
    for (const old of others.slice(keep)) Deno.removeSync(old.path, { recursive: true });
  } catch { /* a cache that cannot be tidied still works */ }
}

function writeFolder(tmp: string, data: Unpacked, p: PackedModule) {
  Deno.mkdirSync(tmp, { mode: 0o700 });
  if (Deno.build.os !== "windows") Deno.chmodSync(tmp, 0o755); // whatever the umask
  for (const [name, text] of Object.entries(data.files)) {
    Deno.writeTextFileSync(`${tmp}/${name}`, text, { mode: 0o644 });
  }
  Deno.writeTextFileSync(`${tmp}/${COMPLETE}`, `${p.sha}\n${data.entry}\n`, { mode: 0o644 });
}

/**
 * The path of the unpacked entry, writing the folder (complete, then renamed into place) on
 * first use. The first cache folder that works wins; an error only if none does.
 */
export async function unpackedEntry(p: PackedModule, dirs = cacheDirs()): Promise<string> {
  const name = folderName(p);
  for (const dir of dirs) {
    const entry = trustedEntry(`${dir}/${name}`, p);
    if (entry) return entry;
  }
  const data = await unpack(p);
  const failures: string[] = [];
  for (const dir of dirs) {
    const final = `${dir}/${name}`;
    const tmp = `${final}.${Deno.pid}.tmp`;
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFolder(tmp, data, p);
      try {
        // An untrusted or stale folder of this name goes; a complete one just written by
        // another venvoy (a race) stays, and this copy is dropped.
        if (!trustedEntry(final, p)) Deno.removeSync(final, { recursive: true });
      } catch { /* none there */ }
      try {
        Deno.renameSync(tmp, final);
      } catch (e) {
        if (!trustedEntry(final, p)) throw e;
        Deno.removeSync(tmp, { recursive: true });
      }
      const entry = trustedEntry(final, p);
      if (!entry) throw new Error("written, but not owned by this user");
      prune(dir, name);
      return entry;
    } catch (e) {
      try {
        Deno.removeSync(tmp, { recursive: true });
      } catch { /* never written */ }
      failures.push(`${dir}: ${(e as Error).message}`);
    }
  }
  throw new Error(
    `venvoy: cannot unpack itself into a cache folder (${failures.join("; ")}); ` +
      "set XDG_CACHE_HOME or TMPDIR to a writable folder",
  );
}

/** Unpacks (once) and imports the packed entry, which then runs venvoy. */
export async function importPacked(p: PackedModule, dirs?: string[]): Promise<void> {
  await import(fileUrl(await unpackedEntry(p, dirs)));
}
