/** Shared builders for the snapshot tests. */
import type { Snapshot } from "../../../src/snapshot/model.ts";

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
