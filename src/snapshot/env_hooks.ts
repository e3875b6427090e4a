/**
 * The snapshots other layers take, given to them as parameters so src/session/ and src/env/
 * load no snapshot code themselves: auto-save during `venvoy run` (RunContext.autoSaver) and
 * the snapshot an init starts from (InitContext.recordSnapshot).
 */
// util/path, not node:path: loading node:path costs ~8 ms, at the end of every session.
import { join } from "../util/path.ts";
import type { EnvConfig } from "../env/config.ts";
// Deno APIs and util/ only: the end of every session asks it (RunContext.savedUnchanged).
import * as quick from "./quick.ts";

/** An environment as both hooks see it (LoadedEnv, or what init has just written). */
interface EnvAt {
  dir: string;
  name: string;
  config: EnvConfig;
}

/** Starts auto-saving the environment's persist/ into `<projects>/<name>`. */
export async function startSessionAutoSave(
  env: EnvAt,
  projects: string,
): Promise<{ stop(): Promise<void> }> {
  // Not snapshot/mod.ts: that brings the YAML library, which a session that changes no
  // package never needs.
  const { startAutoSave } = await import("./autosave.ts");
  const { metaFromConfig } = await import("./model.ts");
  return startAutoSave({
    envDir: env.dir,
    projectDir: join(projects, env.name),
    name: env.name,
    meta: metaFromConfig(env.config as unknown as Record<string, unknown>),
    // The session has run session/run.ts's AUTOSAVE_DELAY_MS already: the first look is due now.
    startDelayMs: 0,
  });
}

/** Whether the package state is as it was when last found saved (snapshot/quick.ts). */
export function unchangedSinceSaved(env: EnvAt, projects: string): Promise<boolean> {
  return Promise.resolve(quick.unchangedSinceSaved(env.dir, join(projects, env.name)));
}

/** The state an environment is in becomes a snapshot (unless it is the latest already). */
export async function captureEnvSnapshot(env: EnvAt, projects: string): Promise<void> {
  const { captureSnapshot, metaFromConfig } = await import("./mod.ts");
  await captureSnapshot({
    envDir: env.dir,
    projectDir: join(projects, env.name),
    name: env.name,
    meta: metaFromConfig(env.config as unknown as Record<string, unknown>),
  });
}
