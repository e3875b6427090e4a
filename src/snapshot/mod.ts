/**
 * The snapshot layer: what the environment layer calls.
 *
 *   run:    const saver = startAutoSave({ envDir, projectDir, name, meta }); … await saver.stop();
 *   init:   await captureSnapshot({ envDir, projectDir, name, meta }) after base-packages.json
 *   meta:   metaFromConfig(parsed config.yaml)
 *
 * with envDir = join(statePaths().environments, name), projectDir = join(statePaths().projects, name).
 */
export { type AutoSave, captureSnapshot, startAutoSave, watchTargets } from "./autosave.ts";
export { diffSnapshots, renderDiff, summarizeDiff } from "./diff.ts";
export { parseEnvironmentYml, renderEnvironmentYml } from "./environment_yml.ts";
export { SnapshotFormatError } from "./errors.ts";
export { findSnapshot, resolveEnvironmentName, snapshotDir } from "./history.ts";
export {
  metaFromConfig,
  normalizePythonName,
  type PackageState,
  type Pkg,
  type Snapshot,
  type SnapshotMeta,
} from "./model.ts";
export { parseRenvLock, renderRenvLock } from "./renv_lock.ts";
export { readPackageState } from "./state.ts";
export { listSnapshots, loadSnapshot, type SnapshotEntry, writeSnapshot } from "./store.ts";
