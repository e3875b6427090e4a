/**
 * Changes made outside a watched `venvoy run` (an editor attached to a session that outlives
 * venvoy, a `docker exec`) are caught up on the next venvoy command that reads the
 * environment: if persist/ no longer holds the latest snapshot's state, a snapshot is
 * written first. Cheap when nothing changed: directory listings and the store's record of
 * its latest state (latest.ts); no YAML is read. An environment with no history yet is left
 * alone (its first snapshot comes from init, import or a session).
 */
import { join } from "node:path";
import { currentSnapshot } from "./autosave.ts";
import { latestId, readLatestKey } from "./latest.ts";
import { metaFromConfig, stateKey } from "./model.ts";
import type { WriteResult } from "./store.ts";

export async function catchUpSnapshot(
  env: { name: string; dir: string; config: object },
  projectsRoot: string,
): Promise<WriteResult | null> {
  const projectDir = join(projectsRoot, env.name);
  if ((await latestId(projectDir)) === null) return null;
  const snap = await currentSnapshot({
    envDir: env.dir,
    projectDir,
    name: env.name,
    meta: metaFromConfig(env.config as Record<string, unknown>),
  });
  if (stateKey(snap) === await readLatestKey(projectDir)) return null;
  const { writeSnapshot } = await import("./store.ts");
  return await writeSnapshot(projectDir, snap);
}
