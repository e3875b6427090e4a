/** What every command action receives: the global options and the process seam. */
import { DenoRunner, type ProcessRunner } from "../process/mod.ts";
import { type StatePaths, statePaths } from "../env/paths.ts";
import { type LoadedEnv, setEnvReadHook } from "../env/store.ts";
import { info } from "../ui/output.ts";

export interface GlobalOptions {
  engine?: string;
  debug?: boolean;
}

export interface CommandContext {
  runner: ProcessRunner;
  engine: string | null;
  debug: boolean;
  paths: StatePaths;
}

export function makeContext(globals: GlobalOptions): CommandContext {
  setEnvReadHook(catchUp);
  return {
    runner: new DenoRunner(),
    engine: globals.engine ?? null,
    debug: globals.debug ?? false,
    paths: statePaths(),
  };
}

/**
 * Before a command works with an environment, the changes made in persist/ since its last
 * snapshot (an editor session venvoy no longer watches) become a snapshot. Best effort: a
 * history that cannot be written never stops the command (sessions report their own).
 */
async function catchUp(paths: StatePaths, env: LoadedEnv): Promise<void> {
  try {
    const { catchUpSnapshot } = await import("../snapshot/catch_up.ts");
    const r = await catchUpSnapshot(env, paths.projects);
    if (r?.written) {
      info(
        `venvoy: recorded snapshot ${r.entry.id} of '${env.name}': packages changed since the last one`,
      );
    }
  } catch {
    // best effort, see above
  }
}
