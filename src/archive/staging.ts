/**
 * venvoy's own temporary folders for import (and export): created locked, removed on
 * success, failure and SIGHUP/SIGINT/SIGTERM, and swept when a killed process left one.
 *
 * An owned folder `<parent>/<prefix>XXXX/` holds `.venvoy-lock`, which records the pid and
 * host and is held with an exclusive lock (flock) for the folder's life; the kernel drops
 * the lock when the process dies, however it dies. The payload lives in subfolders, so no
 * archive member can collide with the lock file.
 *
 * The sweep (removeStaleTempDirs, at the start of every import and export) removes only
 * folders whose names venvoy gives, owned by this user, that are real folders (never
 * links), whose lock nobody holds, and that are older than a day, or whose recorded
 * process on this host is gone. Folders of older venvoy versions (no lock file) go by age.
 * An old environment set aside by a --force swap (`.<name>.replaced-*`) is swept only once
 * its replacement (`<name>/config.yaml`) is in place.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { Interrupted } from "../ui/progress.ts";

export const LOCK_FILE = ".venvoy-lock";
/** Names of venvoy's temporary folders: `.venvoy-import-*`, `.venvoy-export-*`, staging. */
export const TEMP_PREFIX_RE = /^\.(venvoy-import-|venvoy-export-|venvoy-stage-|.+\.importing-)/;
/** An old environment set aside during a --force swap: `.<name>.replaced-*`. */
const ASIDE_RE = /^\.(.+)\.replaced-[0-9a-f]{8}$/;
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

export interface OwnedTempDir {
  /** The folder; put payload in subfolders (the lock file sits at its top). */
  dir: string;
  /** Removes the folder and releases the lock (idempotent). */
  release(): Promise<void>;
}

/** Live owned folders; those marked are removed by the signal handler itself. */
const live = new Map<string, { lock: Deno.FsFile; removeOnSignal: boolean }>();
const SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGHUP", "SIGINT", "SIGTERM"];
let signalled: Deno.Signal | null = null;
let listening = false;

/**
 * Marks the signal (the running step stops at its next throwIfSignalled and cleans up in
 * its finally blocks) and removes the folders that nothing live depends on at once, so
 * the space is free even if the process is killed for good right after.
 */
function onSignal(sig: Deno.Signal) {
  signalled ??= sig;
  for (const [dir, entry] of live) {
    if (!entry.removeOnSignal) continue;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
    try {
      entry.lock.close();
    } catch { /* closed */ }
    live.delete(dir);
  }
}
const handlers = new Map(SIGNALS.map((s) => [s, () => onSignal(s)]));

function listen(on: boolean) {
  if (on === listening) return;
  listening = on;
  for (const [s, h] of handlers) {
    if (on) Deno.addSignalListener(s, h);
    else Deno.removeSignalListener(s, h);
  }
}

/**
 * Throws Interrupted (exit 130) once a hang-up, Ctrl-C or SIGTERM arrived while an owned
 * folder was live: the step stops at this check and its finally blocks remove the rest.
 */
export function throwIfSignalled(): void {
  if (signalled) throw new Interrupted();
}

/** Creates a locked temporary folder `<parent>/<prefix>XXXX`, removed on a signal. */
export async function makeOwnedTempDir(
  parent: string,
  prefix: string,
  options: { removeOnSignal?: boolean } = {},
): Promise<OwnedTempDir> {
  throwIfSignalled();
  await Deno.mkdir(parent, { recursive: true });
  // Listen before the folder exists: a signal between its creation and its registration
  // would otherwise kill venvoy (exit 129) and leave it behind.
  listen(true);
  let dir: string;
  let lock: Deno.FsFile;
  try {
    dir = await Deno.makeTempDir({ dir: parent, prefix });
    lock = await Deno.open(join(dir, LOCK_FILE), { write: true, createNew: true });
    await lock.lock(true);
    await lock.write(new TextEncoder().encode(`${Deno.pid}\n${hostname()}\n`));
    live.set(dir, { lock, removeOnSignal: options.removeOnSignal ?? true });
  } catch (e) {
    if (live.size === 0) listen(false);
    throw e;
  }
  if (signalled) {
    // The signal came while the folder was being made: it goes now, like the others did.
    live.delete(dir);
    try {
      lock.close();
    } catch { /* closed */ }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (live.size === 0) listen(false);
    throwIfSignalled();
  }
  let released = false;
  return {
    dir,
    async release() {
      if (released) return;
      released = true;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (live.get(dir)?.lock === lock) {
        live.delete(dir);
        try {
          lock.close();
        } catch { /* closed */ }
      }
      if (live.size === 0) listen(false);
    },
  };
}

/** The newest mtime of a folder and its direct entries (a long write keeps it fresh). */
async function newestMtime(dir: string): Promise<number> {
  let newest = (await Deno.lstat(dir)).mtime?.getTime() ?? 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = (await Deno.lstat(join(dir, e.name)).catch(() => null))?.mtime?.getTime() ?? 0;
      newest = Math.max(newest, m);
    }
  } catch { /* unreadable: its own mtime */ }
  return newest;
}

function pidAlive(pid: number): boolean {
  if (Deno.build.os !== "linux") return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** True when nobody holds the folder's lock; `dead` when its recorded process is gone. */
async function lockState(dir: string): Promise<"held" | "free" | "dead" | "none"> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(join(dir, LOCK_FILE), { read: true, write: true });
  } catch {
    return "none";
  }
  try {
    if (!(await f.tryLock(true))) return "held";
    const text = await Deno.readTextFile(join(dir, LOCK_FILE)).catch(() => "");
    const [pid, host] = text.split("\n");
    const n = Number(pid);
    if (host === hostname() && Number.isSafeInteger(n) && n > 0 && !pidAlive(n)) return "dead";
    return "free";
  } finally {
    f.close();
  }
}

/**
 * Removes venvoy's stale temporary folders in `parents` (see the module comment). Returns
 * what was removed. Never throws: a sweep must not stop the import or export it precedes.
 */
export async function removeStaleTempDirs(
  parents: string[],
  options: { now?: number; maxAgeMs?: number } = {},
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const maxAge = options.maxAgeMs ?? STALE_AFTER_MS;
  const uid = Deno.uid?.() ?? null;
  const removed: string[] = [];
  for (const parent of new Set(parents)) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(parent)];
    } catch {
      continue;
    }
    for (const e of entries) {
      const path = join(parent, e.name);
      try {
        if (live.has(path)) continue;
        const aside = ASIDE_RE.exec(e.name);
        if (!TEMP_PREFIX_RE.test(e.name) && !aside) continue;
        const st = await Deno.lstat(path);
        if (!st.isDirectory || (uid !== null && st.uid !== uid)) continue;
        // An old environment set aside is only debris once its replacement is in place.
        if (
          aside &&
          !(await Deno.lstat(join(parent, aside[1], "config.yaml")).then(
            (s) => s.isFile,
            () => false,
          ))
        ) {
          continue;
        }
        const state = await lockState(path);
        if (state === "held") continue;
        const old = now - await newestMtime(path) > maxAge;
        if (state === "dead" || old) {
          await Deno.remove(path, { recursive: true });
          removed.push(path);
        }
      } catch { /* raced with its owner, or unreadable: leave it */ }
    }
  }
  return removed;
}

/** For tests: forget a signal seen (the module keeps process-wide state). */
export function resetSignalledForTests(): void {
  signalled = null;
}
