/**
 * `venvoy run`: one container per session, with the current folder at /workspace, the
 * environment's persist/ folder at /opt/venvoy/persist (packages installed in a session
 * live there), the home folder at its own path, and the host user's identity.
 */
import { isAbsolute, resolve } from "../util/path.ts";
import { after } from "../util/timer.ts";
import { ENTRY } from "../recipe/plan.ts";
import type { ProcessRunner } from "../process/mod.ts";
import type { ContainerRuntime, Mount, Sandbox } from "../runtime/mod.ts";
import { schedulerPassthrough } from "../hpc/passthrough.ts";
import { isSifEnv } from "../hpc/sif.ts";
import { imageFor, runtimeFor, sessionSpec } from "./mod.ts";
import { CommandExit, UsageError } from "../ui/errors.ts";
import { hostCaBundle, hostUser } from "../env/host.ts";
import type { StatePaths } from "../env/paths.ts";
import { parseEnvPair } from "../env/spec.ts";
import { type LoadedEnv, loadEnv, pickEnvName } from "../env/store.ts";

export interface RunOptions {
  /** The positional NAME. */
  positional?: string;
  name?: string;
  command?: string;
  mount?: string[];
  env?: string[];
  /** commander's --no-home gives home: false. */
  home?: boolean;
  /** Mount persist/ read-only (batch jobs, arrays): the session changes no package. */
  readOnly?: boolean;
  /** Make the host's GPUs reachable (apptainer --nv, CDI on podman, docker --gpus all). */
  gpus?: boolean;
}

export interface RunContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
  cwd: string;
  note: (msg: string) => void;
  terminal: { stdin: boolean; stdout: boolean };
  /** stdin is a pipe or file worth passing on (not /dev/null). */
  stdinData: boolean;
  user?: { uid: number; gid: number };
  /** Auto-save snapshots while the session runs (default true). */
  autosave?: boolean;
  /**
   * Starts the auto-save (snapshot/session_save.ts startSessionAutoSave), given by the
   * caller so this layer imports no snapshot code. Absent: no auto-save.
   */
  autoSaver?: (env: LoadedEnv, projects: string) => Promise<{ stop(): Promise<void> }>;
  /**
   * Whether the package state still has the stamp recorded when it was last found saved
   * (snapshot/env_hooks.ts unchangedSinceSaved); given with autoSaver. Absent: the full look.
   */
  savedUnchanged?: (env: LoadedEnv, projects: string) => Promise<boolean>;
  /**
   * The host environment, for the scheduler's variables passed into the session
   * (src/hpc/passthrough.ts). Absent: none are passed.
   */
  hostEnv?: Record<string, string>;
  /**
   * Confine the session (verify's re-runs of a stranger's record): RunSpec.sandbox, and no
   * host file beyond the mounts (no CA bundle, no scheduler variables).
   */
  sandbox?: Sandbox;
}

/** HOST:CONTAINER[:ro|:rw]; the host path must exist; the container path is absolute. */
export function parseMount(value: string, cwd: string): Mount {
  let rest = value;
  let readOnly = false;
  const mode = rest.match(/:(ro|rw)$/);
  if (mode) {
    readOnly = mode[1] === "ro";
    rest = rest.slice(0, -3);
  }
  // Split at the last ':' followed by '/', so Windows drive letters (C:\data) survive.
  const i = rest.lastIndexOf(":/");
  if (i <= 0) {
    throw new UsageError(`invalid --mount '${value}'`, {
      hint: "use --mount HOST:CONTAINER[:ro], e.g. --mount /scratch/data:/data:ro",
    });
  }
  const host = rest.slice(0, i);
  const target = rest.slice(i + 1);
  const source = isAbsolute(host) ? host : resolve(cwd, host);
  try {
    Deno.statSync(source);
  } catch {
    throw new UsageError(`mount source '${host}' does not exist`, {
      hint: `create it first (mkdir -p ${source}), or fix the path`,
    });
  }
  return { source, target, readOnly };
}

export async function runEnv(ctx: RunContext, opts: RunOptions): Promise<void> {
  const name = await pickEnvName(
    ctx.paths,
    { positional: opts.positional, flag: opts.name },
    ctx.note,
  );
  const env = await loadEnv(ctx.paths, name);
  const extraMounts = (opts.mount ?? []).map((m) => parseMount(m, ctx.cwd));
  const extraEnv = (opts.env ?? []).map(parseEnvPair);
  const runtime = await runtimeFor(ctx, env, { sifFallback: true });
  const image = runtime.produces === "sif" && !isSifEnv(env)
    ? await (await import("../hpc/sif.ts")).ensureSif(ctx, env, runtime)
    : imageFor(runtime, env);
  const home = opts.home === false ? null : ctx.paths.home;
  const tty = ctx.terminal.stdin && ctx.terminal.stdout;

  await runSession(ctx, opts, { env, runtime, image, home, extraMounts, extraEnv, tty });
}

/** How long a session runs before its auto-save starts watching (and its code is loaded). */
export const AUTOSAVE_DELAY_MS = 1000;

/**
 * Every package change in the session becomes a snapshot; the final one is written after
 * the container ends, also on failure and on Ctrl-C (the runner forwards the signal).
 * The auto-save (its code and its watches) starts only once the session has run for
 * AUTOSAVE_DELAY_MS: a batch command that ends before pays nothing while its container
 * starts. At the end, a session whose package state has the stamp recorded when that state
 * was last found saved (snapshot/quick.ts: a few stats) needs no final look; any other
 * does the full one, as before.
 */
async function whileAutoSaving<T>(
  ctx: RunContext,
  env: LoadedEnv,
  session: () => Promise<T>,
): Promise<T> {
  if (ctx.autosave === false || !ctx.autoSaver) return await session();
  const autoSaver = ctx.autoSaver;
  const running = session();
  let saver: Promise<{ stop(): Promise<void> } | null> | null = null;
  const start = () =>
    saver ??= autoSaver(env, ctx.paths.projects).catch((e) => {
      ctx.note(`auto-save is off for this session: ${(e as Error).message}`);
      return null;
    });
  const timer = after(AUTOSAVE_DELAY_MS, start); // loads no node:timers (util/timer.ts)
  try {
    return await running;
  } finally {
    timer.cancel();
    if (saver || !(await unchangedSinceSaved(ctx, env))) await (await start())?.stop();
  }
}

async function unchangedSinceSaved(ctx: RunContext, env: LoadedEnv): Promise<boolean> {
  try {
    return await (ctx.savedUnchanged?.(env, ctx.paths.projects) ?? false);
  } catch {
    return false; // the full look decides
  }
}

async function runSession(
  ctx: RunContext,
  opts: RunOptions,
  s: {
    env: LoadedEnv;
    runtime: ContainerRuntime;
    image: string;
    home: string | null;
    extraMounts: Mount[];
    extraEnv: [string, string][];
    tty: boolean;
  },
): Promise<void> {
  const { env, runtime, image, home, extraMounts, extraEnv, tty } = s;
  const name = env.name;
  // A read-only persist/ cannot change: there is nothing to auto-save.
  if (opts.readOnly) ctx = { ...ctx, autosave: false };
  if (opts.command === undefined) {
    const { launchEditor } = await import("./editor.ts");
    const launched = await whileAutoSaving(
      ctx,
      env,
      () =>
        launchEditor(ctx, env, {
          runtime,
          image,
          home,
          extraMounts,
          extraEnv,
          readOnly: opts.readOnly,
          gpus: opts.gpus,
        }),
    );
    if (launched) return;
  }
  if (opts.command === "") {
    throw new UsageError("--command is empty", {
      hint: `e.g. venvoy run ${name} --command "python script.py"`,
    });
  }
  const command = opts.command === undefined
    ? [ENTRY, "--shell"]
    : [ENTRY, "sh", "-c", opts.command];
  const spec = sessionSpec(runtime, env, {
    image,
    containerName: `venvoy-${name}-${crypto.randomUUID().slice(0, 8)}`,
    command,
    cwd: ctx.cwd,
    home,
    extraMounts,
    extraEnv,
    ca: ctx.sandbox ? null : hostCaBundle(ctx.runner),
    user: ctx.user ?? hostUser(),
    readOnly: opts.readOnly,
    gpus: opts.gpus,
    passthrough: ctx.hostEnv && !ctx.sandbox ? passthroughFor(ctx, ctx.hostEnv) : undefined,
    tty,
    interactive: opts.command === undefined || ctx.terminal.stdin || ctx.stdinData,
  });
  if (ctx.sandbox) spec.sandbox = ctx.sandbox;
  if (opts.command === undefined && !tty) {
    ctx.note("no terminal: the shell reads commands from stdin (use --command in batch jobs)");
  }
  const code = await whileAutoSaving(ctx, env, () => runtime.run(spec));
  if (code >= 125 && runtime.produces === "image" && runtime.name === "podman") {
    // Interrupted or failed to start: make sure the container is gone (--rm may not have run).
    await runtime.removeContainer(spec.name!, { ignoreMissing: true }).catch(
      () => {},
    );
  }
  if (code !== 0) throw new CommandExit(code);
}

function passthroughFor(ctx: RunContext, host: Record<string, string>) {
  const p = schedulerPassthrough(host);
  for (const skipped of p.skipped) ctx.note(`not passed into the session: ${skipped}`);
  return p;
}
