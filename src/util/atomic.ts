/**
 * The one write-to-temporary-then-rename of venvoy: a file that a reader sees is the old one
 * or the new one, never half of either. It loads no node: module (the `run` fast path uses it).
 */
import { basename, dirname, join } from "./path.ts";

export interface AtomicWriteOptions {
  /** Flush the data to disk before the rename (snapshots, records): survives a power cut. */
  fsync?: boolean;
  /** Permission bits set exactly (not masked by the umask); default 0o644 less the umask. */
  mode?: number;
  /** Refuse to replace an existing `path` (a no-clobber link, so there is no race window). */
  createOnly?: boolean;
  /** The error thrown when `createOnly` meets an existing file; default Deno's AlreadyExists. */
  onExists?: () => Error;
  /** Create the parent folders first (default); false for a path the user named. */
  mkdir?: boolean;
  /** The temporary name's ending after `.<basename>`; default `.tmp-<pid>-<random>`. */
  tmpSuffix?: string;
}

/** Marks venvoy's temporary files: `.<name>.tmp-<pid>-<random>` beside the target. */
export const TMP_MARK = ".tmp-";

/** The hidden temporary path beside `path` that `replaceAtomic` fills and renames. */
export function tempPathFor(path: string, suffix?: string): string {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return join(dirname(path), `.${basename(path)}${suffix ?? `${TMP_MARK}${Deno.pid}-${rand}`}`);
}

/**
 * Lets `fill` write a temporary file beside `path`, then moves it into place. On any failure
 * the temporary file is removed and `path` is untouched.
 */
export async function replaceAtomic(
  path: string,
  fill: (tmp: string) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  if (options.mkdir !== false) await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path, options.tmpSuffix);
  try {
    await fill(tmp);
    if (options.mode !== undefined) await Deno.chmod(tmp, options.mode);
    if (options.createOnly) await linkNew(tmp, path, options.onExists);
    else await Deno.rename(tmp, path);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/** Writes `data` to `path` atomically (see AtomicWriteOptions). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await replaceAtomic(path, async (tmp) => {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: options.mode ?? 0o644 });
    try {
      let n = 0;
      while (n < bytes.length) n += await f.write(bytes.subarray(n));
      if (options.fsync) await f.syncData();
    } finally {
      f.close();
    }
  }, options);
}

/**
 * Puts `tmp` at `path` only if nothing is there: link(2) fails on an existing name, where
 * rename(2) would replace it. A file system without hard links falls back to check-and-rename.
 */
async function linkNew(tmp: string, path: string, onExists?: () => Error): Promise<void> {
  const exists = () => onExists?.() ?? new Deno.errors.AlreadyExists(`${path} already exists`);
  try {
    await Deno.link(tmp, path);
    return;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw exists();
    if (e instanceof Deno.errors.NotFound) throw e;
  }
  if (await Deno.lstat(path).then(() => true, () => false)) throw exists();
  await Deno.rename(tmp, path);
}
