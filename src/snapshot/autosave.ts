/**
 * Auto-save: while a session runs, every package change becomes a snapshot within seconds.
 *
 * It watches, it does not poll: a few non-recursive watches on the directories where a
 * package install or removal shows up as an entry appearing or disappearing
 * (persist/python/lib/python*\/site-packages, persist/R/library, persist/conda/conda-meta,
 * and their parents while they do not exist yet). That is a handful of inotify watches
 * however large the environment grows, where a recursive watch would need one per directory
 * and can run out of them. Events are debounced; then the state is re-read from disk (cheap:
 * directory listings) and a snapshot is written only if it changed. The watches are
 * re-attached before each read, so nothing created in between is missed. A rare safety
 * re-read (default once a minute) covers file systems that drop events.
 *
 * The session's container writes into persist/ through a bind mount, so the host sees the
 * changes on every engine, Apptainer included.
 */
import { PERSIST_DIR } from "../recipe/plan.ts";
import { join } from "../util/path.ts";
import { after, every, type Timer } from "../util/timer.ts";
import { warn } from "../ui/output.ts";
import { stateKey } from "./model.ts";
import { type CaptureOptions, currentSnapshot } from "./state.ts";

export type { CaptureOptions };
import { readLatestKey } from "./latest.ts";
import type { WriteResult } from "./store.ts";
import { packageStamp, recordStamp } from "./quick.ts";

export interface AutoSaveOptions extends CaptureOptions {
  /** Quiet time after the last change before saving. Default 1500 ms. */
  debounceMs?: number;
  /** Save at the latest this long after the first of a burst of changes. Default 10 s. */
  maxWaitMs?: number;
  /** Re-read this often even without events; 0 turns it off. Default 60 s. */
  safetyIntervalMs?: number;
  /**
   * When to take the first look and start watching. Default 1 s: a short batch command
   * ends before, and its changes are caught by the final look at stop(). Setting up and
   * tearing down file watches costs ~10 ms, which a `--command` session of a fraction of a
   * second would pay in full.
   */
  startDelayMs?: number;
  /** Called after each save attempt that wrote a new snapshot. */
  onSnapshot?: (result: WriteResult) => void;
  /** Failures never stop the session; they are reported here (default: a warning). */
  onError?: (error: unknown) => void;
}

export interface AutoSave {
  /** Stops watching, then writes a final snapshot if the state changed. */
  stop(): Promise<void>;
  /** The directories being watched (for tests and --debug). */
  watched(): string[];
}

/** Reads the environment's package state now and saves it unless unchanged. */
export async function captureSnapshot(options: CaptureOptions): Promise<WriteResult> {
  const { writeSnapshot } = await import("./store.ts");
  return await writeSnapshot(options.projectDir, await currentSnapshot(options));
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function childDirs(dir: string, re: RegExp): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && re.test(e.name)) out.push(join(dir, e.name));
    }
  } catch {
    // absent: its parent is watched instead
  }
  return out;
}

/** The directories whose entries change when packages do; only those that exist. */
export async function watchTargets(envDir: string): Promise<string[]> {
  const persist = join(envDir, PERSIST_DIR);
  const candidates = [envDir, persist];
  for (const prefix of [join(persist, "python"), join(persist, "conda")]) {
    candidates.push(prefix, join(prefix, "lib"));
    for (const py of await childDirs(join(prefix, "lib"), /^python\d/)) {
      candidates.push(py, join(py, "site-packages"));
    }
  }
  candidates.push(join(persist, "R"), join(persist, "R", "library"));
  candidates.push(join(persist, "conda", "conda-meta"));
  const out: string[] = [];
  for (const c of candidates) if (await isDir(c)) out.push(c);
  return out;
}

export function startAutoSave(options: AutoSaveOptions): AutoSave {
  const debounceMs = options.debounceMs ?? 1500;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const safetyMs = options.safetyIntervalMs ?? 60_000;
  const onError = options.onError ??
    ((e: unknown) =>
      warn(`auto-save of '${options.name}' failed: ${e instanceof Error ? e.message : String(e)}`));
  const persist = join(options.envDir, PERSIST_DIR);
  const cache = join(persist, "cache");

  let stopped = false;
  let watcher: Deno.FsWatcher | null = null;
  let watchKey = "";
  let targets: string[] = [];
  let timer: Timer | undefined;
  let burstStart = 0;
  let chain: Promise<void> = Promise.resolve();

  const relevant = (path: string) =>
    (path === persist || path.startsWith(persist + "/") ||
      path === join(options.envDir, "base-packages.json")) &&
    !(path === cache || path.startsWith(cache + "/"));

  async function rewatch(): Promise<void> {
    const next = await watchTargets(options.envDir);
    const key = next.join("\0");
    if (stopped || (key === watchKey && watcher)) return;
    watcher?.close();
    watcher = null;
    watchKey = key;
    targets = next;
    if (next.length === 0) return;
    const w = Deno.watchFs(next, { recursive: false });
    watcher = w;
    (async () => {
      try {
        for await (const ev of w) {
          if (ev.kind === "access" || !ev.paths.some(relevant)) continue;
          schedule();
        }
      } catch (e) {
        if (!stopped && watcher === w) onError(e);
      }
    })();
  }

  function schedule(): void {
    if (stopped) return;
    const now = Date.now();
    if (timer === undefined) burstStart = now;
    timer?.cancel();
    const wait = Math.max(0, Math.min(debounceMs, burstStart + maxWaitMs - now));
    timer = after(wait, () => {
      timer = undefined;
      enqueue();
    });
  }

  // The state this session last saved, or found already saved: the same state again needs
  // no look at the store. A session that changes nothing never reads a snapshot (no YAML):
  // the store's record of its latest state answers (latest.ts).
  let savedKey: string | null = null;
  async function capture(): Promise<void> {
    // Taken before the state is read: a change made while reading makes the stamp differ.
    const before = packageStamp(options.envDir, options.projectDir);
    const snap = await currentSnapshot(options);
    const key = stateKey(snap);
    if (key === savedKey) return await recordStamp(options.envDir, options.projectDir, before);
    if (savedKey === null && key === await readLatestKey(options.projectDir)) {
      savedKey = key;
      return await recordStamp(options.envDir, options.projectDir, before);
    }
    const { writeSnapshot } = await import("./store.ts");
    const r = await writeSnapshot(options.projectDir, snap);
    savedKey = key;
    if (r.written) options.onSnapshot?.(r);
  }

  function enqueue(): Promise<void> {
    chain = chain.then(async () => {
      try {
        await rewatch(); // before reading, so a change made meanwhile raises an event
        await capture();
      } catch (e) {
        onError(e);
      }
    });
    return chain;
  }

  const safety = safetyMs > 0 ? every(safetyMs, () => enqueue()) : undefined;
  // The first look records the state the session starts from (if it is new), and starts
  // the watches. Nothing can be missed by waiting: every look compares the whole state.
  let starter: Timer | undefined = after(options.startDelayMs ?? 1000, () => {
    starter = undefined;
    enqueue();
  });

  return {
    watched: () => [...targets],
    async stop() {
      if (stopped) return await chain;
      stopped = true;
      timer?.cancel();
      safety?.cancel();
      starter?.cancel();
      timer = undefined;
      await chain;
      watcher?.close();
      watcher = null;
      try {
        await capture();
      } catch (e) {
        onError(e);
      }
    },
  };
}
