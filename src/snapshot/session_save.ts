/**
 * Auto-save for a `venvoy run` session (src/session/run.ts): the run layer takes it as a
 * parameter (RunContext.autoSaver), so src/session/ loads no snapshot code itself.
 */
import { join } from "node:path";
import type { LoadedEnv } from "../env/store.ts";

/** Starts auto-saving the environment's persist/ into `<projects>/<name>`. */
export async function startSessionAutoSave(
  env: LoadedEnv,
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
  });
}
