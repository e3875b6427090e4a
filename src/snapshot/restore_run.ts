/**
 * `venvoy restore`, run: make an environment's installed packages equal a snapshot.
 *
 *   1. keep the current state as a snapshot (so the restore can be undone);
 *   2. move persist/{python,R/library,conda} aside (put back if anything fails);
 *   3. install, inside the image, exactly the packages whose version differs from the
 *      image's (restore.ts plans it); a version gone from the index fails with a report of
 *      every package that could not be met, or with allowNearest takes the nearest one;
 *   4. re-read the state and compare it with the snapshot; report every difference;
 *   5. save the restored state as the latest snapshot.
 */
import { join } from "node:path";
import { PERSIST_DIR } from "../recipe/plan.ts";
import type { StatePaths } from "../env/paths.ts";
import { type LoadedEnv, loadEnv } from "../env/store.ts";
import { VenvoyError } from "../ui/errors.ts";
import { captureSnapshot } from "./autosave.ts";
import { type EnvExec, envExec, type ExecContext } from "./exec.ts";
import { parseUnavailableLines } from "./freeze.ts";
import { metaFromConfig, type Pkg, type Snapshot } from "./model.ts";
import {
  chooseSnapshot,
  condaInstallArgv,
  type Deviation,
  type Mismatch,
  parsePipUnavailable,
  pipInstallArgv,
  planRestore,
  resolveUnavailable,
  type RestorePlan,
  rInstallArgv,
  verifyRestore,
} from "./restore.ts";
import { readPackageState } from "./state.ts";
import { listSnapshots, loadSnapshot, type SnapshotEntry } from "./store.ts";

export interface RestoreOptions {
  name: string;
  /** YYYYMMDD_HHMMSS, a file name, or latest; undefined asks (on a terminal). */
  snapshot?: string;
  allowNearest?: boolean;
  /** Asks which snapshot, when none was given and this is a terminal. */
  ask?: (entries: SnapshotEntry[]) => Promise<SnapshotEntry>;
}

export interface RestoreResult {
  name: string;
  restored: SnapshotEntry;
  /** The pre-restore state's snapshot (written now, or the latest that already had it). */
  undo: SnapshotEntry;
  installed: { python: number; r: number; conda: number };
  deviations: Deviation[];
  /** Image packages the snapshot does not have: only an image rebuild removes them. */
  needsRebuild: { ecosystem: "python" | "r" | "conda"; pkg: Pkg }[];
  /** Differences found by the fresh listing, beyond the reported deviations and rebuilds. */
  mismatches: Mismatch[];
  /** The snapshot now recording the restored state. */
  after: SnapshotEntry;
}

const AREAS = ["python", join("R", "library"), "conda"];

function projectDir(paths: StatePaths, name: string): string {
  return join(paths.projects, name);
}

function captureOpts(paths: StatePaths, env: LoadedEnv) {
  return {
    envDir: env.dir,
    projectDir: projectDir(paths, env.name),
    name: env.name,
    meta: metaFromConfig(env.config as unknown as Record<string, unknown>),
  };
}

/** Moves the persist/ package folders into a backup folder; returns how to put them back. */
async function setAside(
  envDir: string,
): Promise<{ restore(): Promise<void>; drop(): Promise<void> }> {
  const persist = join(envDir, PERSIST_DIR);
  const backup = join(persist, `.pre-restore-${Date.now()}`);
  await Deno.mkdir(join(backup, "R"), { recursive: true });
  const moved: string[] = [];
  for (const a of AREAS) {
    try {
      await Deno.rename(join(persist, a), join(backup, a));
      moved.push(a);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return {
    async restore() {
      for (const a of AREAS) {
        await Deno.remove(join(persist, a), { recursive: true }).catch(() => {});
      }
      await Deno.mkdir(join(persist, "R"), { recursive: true });
      for (const a of moved) await Deno.rename(join(backup, a), join(persist, a));
      await Deno.remove(backup, { recursive: true }).catch(() => {});
    },
    async drop() {
      await Deno.remove(backup, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Runs one ecosystem's install; on a version the index no longer has, resolves it
 * (fail, or nearest) and runs again, until it succeeds or fails for another reason.
 */
async function installLoop(
  exec: EnvExec,
  pkgs: Pkg[],
  a: {
    ecosystem: "python" | "r" | "conda";
    argv: (pkgs: Pkg[]) => string[];
    unavailable: (output: string) => Map<string, string[]>;
    allowNearest: boolean;
    deviations: Deviation[];
  },
): Promise<void> {
  let todo = pkgs;
  const gone = new Map<string, string[]>();
  for (let round = 0; round <= pkgs.length; round++) {
    if (todo.length === 0) return;
    const res = await exec.run(a.argv(todo), { capture: true });
    if (res.code === 0) break;
    const found = a.unavailable(res.output);
    const fresh = [...found].filter(([n]) => !gone.has(n));
    if (fresh.length === 0) {
      throw new VenvoyError(
        `installing the snapshot's ${a.ecosystem} packages failed (exit ${res.code}); see the output above`,
        { hint: "check the network and the index, then run venvoy restore again" },
      );
    }
    for (const [n, v] of fresh) gone.set(n, v);
    if (!a.allowNearest) {
      // Find every unmet package before failing: retry without the ones already known.
      const rest = todo.filter((p) => !gone.has(p.name));
      if (rest.length === todo.length) break;
      todo = rest;
      continue;
    }
    const resolved = resolveUnavailable(todo, found, {
      ecosystem: a.ecosystem,
      allowNearest: true,
    });
    a.deviations.push(...resolved.deviations);
    todo = resolved.pkgs;
  }
  if (gone.size) {
    // Throws the per-package report (allowNearest: only those with no version at all).
    resolveUnavailable(pkgs, gone, { ecosystem: a.ecosystem, allowNearest: a.allowNearest });
  }
}

/** R's `venvoy-unavailable: x==1` lines: no list of versions, so no nearest one. */
function rUnavailable(output: string): Map<string, string[]> {
  return new Map(parseUnavailableLines(output).map((s) => [s.split("==")[0], []]));
}

async function install(
  exec: EnvExec,
  plan: RestorePlan,
  target: Snapshot,
  allowNearest: boolean,
): Promise<Deviation[]> {
  const deviations: Deviation[] = [];
  if (plan.python.install.length) {
    await installLoop(exec, plan.python.install, {
      ecosystem: "python",
      argv: (p) => pipInstallArgv(p),
      unavailable: parsePipUnavailable,
      allowNearest,
      deviations,
    });
  }
  if (plan.r.install.length) {
    await installLoop(exec, plan.r.install, {
      ecosystem: "r",
      argv: (p) => rInstallArgv(p, { repositories: target.meta.repositories }),
      unavailable: rUnavailable,
      allowNearest,
      deviations,
    });
  }
  if (plan.conda.install.length) {
    await installLoop(exec, plan.conda.install, {
      ecosystem: "conda",
      argv: (p) =>
        condaInstallArgv(p, {
          tool: "mamba",
          channels: target.meta.channels,
          pythonVersion: target.meta.pythonVersion,
        }),
      unavailable: () => new Map(),
      allowNearest,
      deviations,
    });
  }
  return deviations;
}

export async function pickSnapshot(
  dir: string,
  opts: Pick<RestoreOptions, "name" | "snapshot" | "ask">,
): Promise<SnapshotEntry> {
  const entries = await listSnapshots(dir);
  const chosen = chooseSnapshot(entries, opts.snapshot, {
    name: opts.name,
    interactive: !!opts.ask,
  });
  return chosen === "ask" ? await opts.ask!(entries) : chosen;
}

export async function restoreEnv(ctx: ExecContext, opts: RestoreOptions): Promise<RestoreResult> {
  const env = await loadEnv(ctx.paths, opts.name);
  const dir = projectDir(ctx.paths, env.name);
  const entry = await pickSnapshot(dir, opts);
  const target = await loadSnapshot(entry);
  const reading = await readPackageState(env.dir);
  if (!reading.hasBase) {
    throw new VenvoyError(`'${env.name}' has no base-packages.json: its image was never listed`, {
      hint: `rebuild it first: venvoy init --name ${env.name} --force`,
    });
  }
  // The image alone (persist/ left out) is what the plan installs on top of.
  const { parseBasePackages } = await import("./state.ts");
  const basePath = join(env.dir, "base-packages.json");
  const base = await parseBasePackages(await Deno.readTextFile(basePath), basePath);
  const plan = planRestore(target, base, {
    pythonVersion: env.config.python_version ?? undefined,
    rVersion: env.config.r_version ?? undefined,
  });
  if (plan.interpreter.length) {
    const i = plan.interpreter[0];
    throw new VenvoyError(
      `snapshot ${entry.id} needs ${i.what} ${i.wanted}, but the image has ${i.image}`,
      {
        hint:
          `rebuild on a base with ${i.what} ${i.wanted} (venvoy init --name ${env.name} --force --base-image IMAGE), then restore`,
      },
    );
  }

  const exec = await envExec(ctx, env);
  const undo = (await captureSnapshot(captureOpts(ctx.paths, env))).entry;
  ctx.note(
    `The current state is kept as snapshot ${undo.id} (undo: venvoy restore --name ${env.name} --snapshot ${undo.id})`,
  );
  ctx.note(
    `Restoring '${env.name}' to ${entry.id}: ${plan.python.install.length} Python, ${plan.r.install.length} R, ${plan.conda.install.length} conda package(s) to install`,
  );
  const aside = await setAside(env.dir);
  let deviations: Deviation[];
  try {
    deviations = await install(exec, plan, target, opts.allowNearest ?? false);
  } catch (e) {
    await aside.restore();
    ctx.note("The environment is unchanged (its previous packages were put back).");
    throw e;
  }
  await aside.drop();

  const fresh = await readPackageState(env.dir);
  const freshSnap: Snapshot = {
    meta: { ...target.meta, pythonVersion: fresh.pythonVersion ?? target.meta.pythonVersion },
    state: fresh.state,
  };
  const needsRebuild = (["python", "r", "conda"] as const).flatMap((e) =>
    plan[e].needsRebuild.map((pkg) => ({ ecosystem: e, pkg }))
  );
  const explained = new Set([
    ...deviations.map((d) => `${d.ecosystem}:${d.name}`),
    ...needsRebuild.map((n) => `${n.ecosystem}:${n.pkg.name}`),
  ]);
  const mismatches = verifyRestore(target, freshSnap).filter((m) =>
    !explained.has(`${m.ecosystem}:${m.name}`)
  );
  const after = (await captureSnapshot(captureOpts(ctx.paths, env))).entry;
  return {
    name: env.name,
    restored: entry,
    undo,
    installed: {
      python: plan.python.install.length,
      r: plan.r.install.length,
      conda: plan.conda.install.length,
    },
    deviations,
    needsRebuild,
    mismatches,
    after,
  };
}
