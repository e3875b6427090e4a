/** Shared builders for the snapshot tests. */
import type { Snapshot } from "../../../src/snapshot/model.ts";
import { startAutoSave } from "../../../src/snapshot/autosave.ts";

/** A Python snapshot of 'demo' with these packages (name -> version). */
export function snap(python: Record<string, string>, extra: Partial<Snapshot> = {}): Snapshot {
  return {
    meta: { name: "demo", runtime: "python", pythonVersion: "3.11", ...extra.meta },
    state: {
      python: Object.entries(python).map(([name, version]) => ({ name, version })),
      r: [],
      conda: [],
      ...extra.state,
    },
  };
}

/**
 * The auto-save of a short session on the Python environment 'demo': it never watches
 * (its start delay is not reached) and only looks when stopped.
 */
export function shortSessionAutoSave(envDir: string, projectDir: string) {
  return startAutoSave({
    envDir,
    projectDir,
    name: "demo",
    meta: { runtime: "python" },
    startDelayMs: 60_000,
    safetyIntervalMs: 0,
  });
}
