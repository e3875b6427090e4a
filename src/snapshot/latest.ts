/**
 * A small record beside the snapshots: the latest snapshot's id, its file's size and
 * modification time, and the state key of what it holds. With it, the auto-save of a session
 * that changed no package decides "nothing to write" from directory listings alone, without
 * reading the snapshot (which needs the YAML library: its cost is in env/config.ts). The
 * record is only trusted while it names the current latest snapshot file unchanged;
 * otherwise the snapshot itself is read, as before. No YAML here, on purpose.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";

export const LATEST_RECORD = ".latest-state";
const YML_RE = /^environment_(\d{8}_\d{6})\.yml$/;

/** The id of the newest environment_<id>.yml in the folder, or null. */
export async function latestId(dir: string): Promise<string | null> {
  let best: string | null = null;
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = e.isFile ? YML_RE.exec(e.name) : null;
      if (m && (best === null || m[1] > best)) best = m[1];
    }
  } catch {
    return null;
  }
  return best;
}

async function fileStamp(dir: string, id: string): Promise<string | null> {
  try {
    const st = await Deno.stat(join(dir, `environment_${id}.yml`));
    return `${st.size}:${st.mtime?.getTime() ?? 0}`;
  } catch {
    return null;
  }
}

/** The state key of the latest snapshot, when the record still describes it; else null. */
export async function readLatestKey(dir: string): Promise<string | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, LATEST_RECORD));
  } catch {
    return null;
  }
  const [id, stamp, ...rest] = text.split("\n");
  const key = rest.join("\n").replace(/\n$/, "");
  if (!id || !key || id !== await latestId(dir)) return null;
  return stamp === await fileStamp(dir, id) ? key : null;
}

/** Records `key` as the state of snapshot `id` (call under the store lock, after writing). */
export async function writeLatestKey(dir: string, id: string, key: string): Promise<void> {
  const stamp = await fileStamp(dir, id);
  if (stamp === null) return;
  await writeFileAtomic(join(dir, LATEST_RECORD), `${id}\n${stamp}\n${key}\n`)
    .catch(() => {}); // only an optimisation: the snapshots stand
}
