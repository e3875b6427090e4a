/** Exclusive file locks (flock): one implementation for the snapshot store and the SIF cache. */

/** Runs `fn` holding an exclusive flock on `path` (created if absent; the kernel frees it). */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const f = await Deno.open(path, { read: true, write: true, create: true });
  try {
    await f.lock(true);
    try {
      return await fn();
    } finally {
      await f.unlock().catch(() => {});
    }
  } finally {
    f.close();
  }
}
