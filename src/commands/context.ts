/** What every command action receives: the global options and the process seam. */
import { DenoRunner, type ProcessRunner } from "../process/mod.ts";
import { type StatePaths, statePaths } from "../env/paths.ts";

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
  return {
    runner: new DenoRunner(),
    engine: globals.engine ?? null,
    debug: globals.debug ?? false,
    paths: statePaths(),
  };
}
