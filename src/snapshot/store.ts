/**
 * The snapshot store: `<VENVOY_PROJECTS>/<name>/`
 *
 *   environment_YYYYMMDD_HHMMSS.yml   each snapshot (UTC time)
 *   renv_YYYYMMDD_HHMMSS.lock         its R packages (R environments)
 *   environment.yml, renv.lock        copies of the latest
 *   .last_updated                     ISO time of the latest
 *   .lock                             held (flock) while writing
 *
 * Every file is written to a temporary file in the same folder and renamed, so a reader, or
 * a process killed at any instant, never sees a half-written file. Writers take an exclusive
 * lock, which the kernel releases if the holder dies, so two sessions of one environment
 * never interleave. The timestamped .yml is renamed into place after its .lock, so it marks a
 * complete snapshot. Ids strictly increase, even for two snapshots within one second.
 */
import { join } from "../util/path.ts";
import { TMP_MARK, writeFileAtomic } from "../util/atomic.ts";
import { parseEnvironmentYml, renderEnvironmentYml } from "./environment_yml.ts";
import { writeLatestKey } from "./latest.ts";
import { type Snapshot, stateKey } from "./model.ts";
import { parseRenvLock, renderRenvLock, repositoriesFor } from "./renv_lock.ts";
import { withFileLock } from "../util/lock.ts";

export interface SnapshotEntry {
  /** YYYYMMDD_HHMMSS, as in the file name. */
  id: string;
  time: Date;
  yml: string;
  /** The renv lock written with it, if any. */
  rLock: string | null;
}

export const ID_RE = /^\d{8}_\d{6}$/;
const YML_RE = /^environment_(\d{8}_\d{6})\.yml$/;
/** Snapshot files are flushed to disk before they are renamed into place. */
const DURABLE = { fsync: true } as const;

export function formatId(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function parseId(id: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/.exec(id);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return formatId(t) === id ? t : null;
}

/** Runs `fn` holding the folder's exclusive lock (released by the kernel if we die). */
export async function withStoreLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(dir, { recursive: true });
  return await withFileLock(join(dir, ".lock"), fn);
}

/** Snapshots in `dir`, newest first; an absent folder has none. */
export async function listSnapshots(dir: string): Promise<SnapshotEntry[]> {
  const names = new Set<string>();
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile) names.add(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: SnapshotEntry[] = [];
  for (const n of names) {
    const m = YML_RE.exec(n);
    const time = m && parseId(m[1]);
    if (!m || !time) continue;
    const lock = `renv_${m[1]}.lock`;
    out.push({
      id: m[1],
      time,
      yml: join(dir, n),
      rLock: names.has(lock) ? join(dir, lock) : null,
    });
  }
  return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Reads one snapshot: its .yml, and its R packages from the lock next to it. */
export async function loadSnapshot(entry: Pick<SnapshotEntry, "yml" | "rLock">): Promise<Snapshot> {
  const snap = parseEnvironmentYml(await Deno.readTextFile(entry.yml), entry.yml);
  if (entry.rLock) {
    const lock = parseRenvLock(await Deno.readTextFile(entry.rLock), entry.rLock);
    snap.state.r = lock.packages;
    snap.meta.rVersion ??= lock.rVersion ?? undefined;
    if (lock.repositories.length) snap.meta.repositories = lock.repositories;
  }
  return snap;
}

export interface WriteResult {
  written: boolean;
  /** The new snapshot, or the existing latest one that already had this state. */
  entry: SnapshotEntry;
}

function hasR(snap: Snapshot): boolean {
  return snap.state.r.length > 0 || snap.meta.runtime === "r";
}

async function removeStaleTemps(dir: string): Promise<void> {
  // Under the lock nobody else is writing, so any temp file is from a writer that died.
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.startsWith(".") && e.name.includes(TMP_MARK)) {
      await Deno.remove(join(dir, e.name)).catch(() => {});
    }
  }
}

/**
 * Saves `snap` as a new snapshot in `dir` unless the latest one has the same state.
 * `now` is for tests.
 */
export async function writeSnapshot(
  dir: string,
  snap: Snapshot,
  options: { now?: Date; force?: boolean } = {},
): Promise<WriteResult> {
  return await withStoreLock(dir, async () => {
    await removeStaleTemps(dir);
    const existing = await listSnapshots(dir);
    const latest = existing[0];
    if (latest && !options.force) {
      let same = false;
      try {
        same = stateKey(await loadSnapshot(latest)) === stateKey(snap);
      } catch {
        same = false; // a corrupt latest snapshot: write a good one after it
      }
      if (same) {
        await writeLatestKey(dir, latest.id, stateKey(snap));
        return { written: false, entry: latest };
      }
    }
    let time = options.now ?? new Date();
    time = new Date(Math.floor(time.getTime() / 1000) * 1000);
    if (latest && formatId(time) <= latest.id) time = new Date(latest.time.getTime() + 1000);
    const id = formatId(time);
    const meta = { ...snap.meta, created: (options.now ?? new Date()).toISOString() };
    const full: Snapshot = { meta, state: snap.state };
    const yml = renderEnvironmentYml(full);
    const entry: SnapshotEntry = {
      id,
      time,
      yml: join(dir, `environment_${id}.yml`),
      rLock: hasR(full) ? join(dir, `renv_${id}.lock`) : null,
    };
    if (entry.rLock) {
      const lock = renderRenvLock({
        rVersion: meta.rVersion ?? null,
        repositories: repositoriesFor(full.state.r, meta.repositories),
        packages: full.state.r,
      });
      await writeFileAtomic(entry.rLock, lock, DURABLE);
      await writeFileAtomic(entry.yml, yml, DURABLE);
      await writeFileAtomic(join(dir, "renv.lock"), lock, DURABLE);
    } else {
      await writeFileAtomic(entry.yml, yml, DURABLE);
    }
    await writeFileAtomic(join(dir, "environment.yml"), yml, DURABLE);
    await writeFileAtomic(join(dir, ".last_updated"), meta.created + "\n", DURABLE);
    await writeLatestKey(dir, id, stateKey(full));
    return { written: true, entry };
  });
}
