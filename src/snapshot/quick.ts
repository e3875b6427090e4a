/**
 * The auto-save's shortcut for a session that changed no package (a batch job, an array
 * task): a stamp of the places where a package install or removal shows (the folders the
 * auto-save watches, base-packages.json, and the snapshot store's latest record), taken
 * with a few stats and two small listings, and compared with the stamp recorded when that
 * state was last found saved. Equal: the state is the latest snapshot's, and the session's
 * final look (the package state read, the auto-save and snapshot code loaded: ~35 ms of CPU
 * on every `venvoy run`) is not needed. Different or unknown: the final look runs as before.
 *
 * A package appearing, disappearing or being replaced changes its folder's entries, so the
 * folder's modification and change times (and an R package replaced in place changes
 * library/'s entries while it installs). A stamp is recorded only when every time in it is
 * older than SETTLE_MS, so a change made in the same clock tick as the look cannot hide
 * (git's "racily clean" rule). Only Deno APIs and util/: this runs on every session, and
 * before every command that reads an environment (catch_up.ts).
 */
import { PERSIST_DIR } from "../recipe/plan.ts";
import { join } from "../util/path.ts";
import { writeFileAtomic } from "../util/atomic.ts";

/** `<envDir>/.autosave-stamp`: the stamp of the state last found saved. */
export const STAMP_RECORD = ".autosave-stamp";
/** A stamp whose newest time is younger than this is not recorded (a change may follow). */
export const SETTLE_MS = 2000;

export interface Stamp {
  text: string;
  /** The newest modification or change time in it (ms). */
  newest: number;
}

// Synchronous on purpose: about twenty stats and three listings, on every session, where
// each asynchronous call would be a trip to Deno's thread pool (~3 ms in all; sync: ~0.3 ms).
function lines(paths: string[]): { text: string[]; newest: number } {
  let newest = 0;
  const text = paths.map((p) => {
    try {
      const st = Deno.lstatSync(p);
      const m = st.mtime?.getTime() ?? 0;
      const c = st.ctime?.getTime() ?? m;
      newest = Math.max(newest, m, c);
      return `${p}\t${st.isDirectory ? "d" : "f"}\t${st.ino ?? 0}\t${m}\t${c}\t${st.size}`;
    } catch {
      return `${p}\t-`;
    }
  });
  return { text, newest };
}

function names(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) if (re.test(e.name)) out.push(e.name);
  } catch { /* absent: its parent's stamp shows when it appears */ }
  return out.sort();
}

/**
 * The stamp of the environment's package state and of the store's latest snapshot. The
 * paths are those autosave.ts watches (watchTargets), whether they exist or not.
 */
export function packageStamp(envDir: string, projectDir: string): Stamp {
  const persist = join(envDir, PERSIST_DIR);
  const paths = [join(envDir, "base-packages.json"), persist];
  for (const prefix of [join(persist, "python"), join(persist, "conda")]) {
    const lib = join(prefix, "lib");
    paths.push(prefix, lib);
    for (const py of names(lib, /^python\d/)) {
      paths.push(join(lib, py), join(lib, py, "site-packages"));
    }
  }
  paths.push(join(persist, "R"), join(persist, "R", "library"));
  paths.push(join(persist, "conda", "conda-meta"));
  // The store: its latest record, and which snapshot is the latest (latest.ts).
  const snapshots = names(projectDir, /^environment_\d{8}_\d{6}\.yml$/);
  const latest = snapshots.length ? join(projectDir, snapshots[snapshots.length - 1]) : "";
  paths.push(join(projectDir, ".latest-state"), ...(latest ? [latest] : []));
  const { text, newest } = lines(paths);
  return { text: `${text.join("\n")}\nlatest\t${latest}\n`, newest };
}

/** True when the state now is the one last found saved (so no final look is needed). */
export function unchangedSinceSaved(envDir: string, projectDir: string): boolean {
  let recorded: string;
  try {
    recorded = Deno.readTextFileSync(join(envDir, STAMP_RECORD));
  } catch {
    return false;
  }
  return recorded === packageStamp(envDir, projectDir).text;
}

/**
 * Records `before` (taken before a look that found the state saved: the auto-save's, the
 * catch-up's) as the stamp of a saved state, when nothing changed since it was taken and it
 * has settled; a later session or command that finds the same stamp skips its look.
 */
export async function recordStamp(envDir: string, projectDir: string, before: Stamp) {
  if (!settled(before)) return;
  if (packageStamp(envDir, projectDir).text !== before.text) return;
  const path = join(envDir, STAMP_RECORD);
  const old = await Deno.readTextFile(path).catch(() => null);
  if (old !== before.text) {
    await writeFileAtomic(path, before.text).catch(() => {}); // only an optimisation
  }
}

/** True when `stamp` may be recorded: nothing in it changed within SETTLE_MS of `now`. */
export function settled(stamp: Stamp, now: number = Date.now()): boolean {
  return now - stamp.newest > SETTLE_MS;
}
