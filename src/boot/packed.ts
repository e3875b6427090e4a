/**
 * The single-file build (dist/venvoy) carries most of venvoy as a packed module: gzip, then
 * base64, in one string literal. A string costs V8 and Deno almost nothing to scan, where a
 * megabyte of code costs ~15 ms on every start, and vup-core, which answers on every venv
 * activation, never needs that code. Any other command unpacks it once per version into the
 * user's cache folder and imports it from there, so it loads as an ordinary module file.
 *
 * Only Deno APIs: this runs before anything else, and must stay small and quick.
 */

export interface PackedModule {
  /** base64 of the gzip of the module's source. */
  gz: string;
  /** Hex SHA-256 of the source (a prefix is enough to name the file). */
  sha: string;
  /** Size of the source in bytes: an unpacked file of another size is not trusted. */
  size: number;
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

export function moduleFileName(p: PackedModule): string {
  return `rest-${p.sha.slice(0, 16)}.mjs`;
}

/** file:// URL of an absolute path (POSIX or Windows), each segment escaped. */
export function fileUrl(path: string): string {
  const slashed = path.replaceAll("\\", "/");
  const withRoot = slashed.startsWith("/") ? slashed : `/${slashed}`;
  return `file://${
    withRoot.split("/").map((s, i) => i === 1 && /^[A-Za-z]:$/.test(s) ? s : encodeURIComponent(s))
      .join("/")
  }`;
}

/**
 * An unpacked file is used only if it has the expected size and is ours: owned by this
 * user and writable by nobody else.
 */
function trusted(path: string, size: number): boolean {
  try {
    const st = Deno.statSync(path);
    if (!st.isFile || st.size !== size) return false;
    const me = uid();
    if (me !== null && st.uid !== null && st.uid !== me) return false;
    if (st.mode !== null && (st.mode & 0o022) !== 0) return false;
    return true;
  } catch {
    return false;
  }
}

/** The build's half (scripts/bundle.ts): source -> PackedModule. */
export async function pack(source: Uint8Array<ArrayBuffer>): Promise<PackedModule> {
  const gz = new Uint8Array(
    await new Response(new Blob([source]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  let bin = "";
  for (let i = 0; i < gz.length; i += 0x8000) {
    bin += String.fromCharCode(...gz.subarray(i, i + 0x8000));
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", source));
  const sha = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { gz: btoa(bin), sha, size: source.length };
}

export async function unpack(p: PackedModule): Promise<Uint8Array> {
  const bin = Uint8Array.from(atob(p.gz), (c) => c.charCodeAt(0));
  const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"));
  const source = new Uint8Array(await new Response(stream).arrayBuffer());
  if (source.length !== p.size) {
    throw new Error(`venvoy: the packed module is damaged (${source.length} of ${p.size} bytes)`);
  }
  return source;
}

/** Keeps the newest `keep` other unpacked versions (two installs may alternate); drops the rest. */
function prune(dir: string, current: string, keep = 2) {
  try {
    const others = [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && /^rest-[0-9a-f]+\.mjs$/.test(e.name) && e.name !== current)
      .map((e) => ({ path: `${dir}/${e.name}`, mtime: Deno.statSync(`${dir}/${e.name}`).mtime }))
      .sort((a, b) => (b.mtime?.getTime() ?? 0) - (a.mtime?.getTime() ?? 0));
    for (const old of others.slice(keep)) Deno.removeSync(old.path);
  } catch { /* a cache that cannot be tidied still works */ }
}

/**
 * The path of the unpacked module, writing it (atomically) on first use. The first folder
 * that works wins; an error only if none does.
 */
export async function unpackedPath(p: PackedModule, dirs = cacheDirs()): Promise<string> {
  const name = moduleFileName(p);
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    if (trusted(path, p.size)) return path;
  }
  const source = await unpack(p);
  const failures: string[] = [];
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    const tmp = `${path}.${Deno.pid}.tmp`;
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      Deno.writeFileSync(tmp, source, { mode: 0o644 });
      if (Deno.build.os !== "windows") Deno.chmodSync(tmp, 0o644); // whatever the umask
      Deno.renameSync(tmp, path);
      if (!trusted(path, p.size)) throw new Error("written, but not owned by this user");
      prune(dir, name);
      return path;
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch { /* never written */ }
      failures.push(`${dir}: ${(e as Error).message}`);
    }
  }
  throw new Error(
    `venvoy: cannot unpack itself into a cache folder (${failures.join("; ")}); ` +
      "set XDG_CACHE_HOME or TMPDIR to a writable folder",
  );
}

/** Unpacks (once) and imports the packed module, which then runs venvoy. */
export async function importPacked(p: PackedModule, dirs?: string[]): Promise<void> {
  await import(fileUrl(await unpackedPath(p, dirs)));
}
