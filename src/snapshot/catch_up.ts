/**
 * Changes made outside a watched `venvoy run` (an editor attached to a session that outlives
 * venvoy, a `docker exec`) are caught up on the next venvoy command that reads the
 * environment: if persist/ no longer holds the latest snapshot's state, a snapshot is
 * written first. An environment with no history yet is left alone (its first snapshot comes
 * from init, import or a session).
 *
 * This runs before every command that reads an environment, `venvoy run` in every array task
 * included, so it is cheap when nothing changed: the stamp recorded when the state was last
 * found saved (quick.ts: a few stats) answers, and only a different or missing stamp loads
 * the full look (directory listings and the store's record of its latest state, latest.ts;
 * no YAML is read), which records the stamp when it finds the state saved.
 */
import { join } from "../util/path.ts";
import { packageStamp, recordStamp, unchangedSinceSaved } from "./quick.ts";
import type { WriteResult } from "./store.ts";

export async function catchUpSnapshot(
  env: { name: string; dir: string; config: object },
  projectsRoot: string,
): Promise<WriteResult | null> {
  const projectDir = join(projectsRoot, env.name);
  if (unchangedSinceSaved(env.dir, projectDir)) return null;
  const [{ currentSnapshot }, { latestId, readLatestKey }, { metaFromConfig, stateKey }] =
    await Promise.all([import("./state.ts"), import("./latest.ts"), import("./model.ts")]);
  if ((await latestId(projectDir)) === null) return null;
  const before = packageStamp(env.dir, projectDir);
  const snap = await currentSnapshot({
    envDir: env.dir,
    projectDir,
    name: env.name,
    meta: metaFromConfig(env.config as Record<string, unknown>),
  });
  if (stateKey(snap) === await readLatestKey(projectDir)) {
    await recordStamp(env.dir, projectDir, before);
    return null;
  }
  const { writeSnapshot } = await import("./store.ts");
  return await writeSnapshot(projectDir, snap);
}
