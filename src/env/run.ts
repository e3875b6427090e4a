/**
 * `venvoy run`: one container per session, with the current folder at /workspace, the
 * environment's persist/ folder at /opt/venvoy/persist (packages installed in a session
 * live there), the home folder at its own path, and the host user's identity.
 */
import { isAbsolute, join, resolve } from "../util/path.ts";
import { asOfEnv, ENTRY, PERSIST } from "../build/mod.ts";
import type { ProcessRunner } from "../process/mod.ts";
import {
  type ContainerRuntime,
  createRuntime,
  type EngineName,
  isEngineName,
  type Mount,
  parseEngine,
  type RunSpec,
} from "../runtime/mod.ts";
import { schedulerPassthrough } from "../hpc/passthrough.ts";
import { isSifEnv, prepareHint, sifNameFor } from "../hpc/sif.ts";
import { CommandExit, RuntimeUnavailableError, UsageError, VenvoyError } from "../ui/errors.ts";
import { hostCaBundle, hostUser } from "./host.ts";
import type { StatePaths } from "./paths.ts";
import { parseEnvPair } from "./spec.ts";
import { type LoadedEnv, loadEnv, pickEnvName } from "./store.ts";

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
   * The host environment, for the scheduler's variables passed into the session
   * (src/hpc/passthrough.ts). Absent: none are passed.
   */
  hostEnv?: Record<string, string>;
}

export const CA_TARGET = "/opt/venvoy/ca-bundle.crt";

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

const SIF_ENGINES: EngineName[] = ["apptainer", "singularity"];

/**
 * The engine recorded at init, or the one forced (--engine, VENVOY_ENGINE), without probing
 * any runtime (run must start fast): a PATH lookup of its program only. With `sifFallback`,
 * an environment built with podman or docker runs with Apptainer (or Singularity) where its
 * engine is missing, as on a compute node (its image is converted to a SIF: hpc/sif.ts).
 */
export function runtimeFor(
  ctx: Pick<RunContext, "runner" | "engine">,
  env: LoadedEnv,
  options: { sifFallback?: boolean } = {},
): Promise<ContainerRuntime> {
  return Promise.resolve(pickRuntime(ctx, env, options));
}

function pickRuntime(
  ctx: Pick<RunContext, "runner" | "engine">,
  env: LoadedEnv,
  options: { sifFallback?: boolean },
): ContainerRuntime {
  const forced = parseEngine(ctx.engine, "--engine") ??
    parseEngine(ctx.runner.env("VENVOY_ENGINE"), "VENVOY_ENGINE");
  if (forced) {
    const path = ctx.runner.which(forced);
    if (!path) {
      throw new RuntimeUnavailableError(`${forced} was asked for but is not installed here`, {
        hint: `install it, or use another engine (venvoy runtime-info lists them)`,
      });
    }
    return createRuntime(forced, ctx.runner, { path });
  }
  const recorded = env.config.engine;
  if (!isEngineName(recorded)) {
    throw new VenvoyError(`'${env.name}' records an unknown engine '${recorded}'`, {
      hint: `rebuild it: venvoy init --name ${env.name} --force`,
    });
  }
  const path = ctx.runner.which(recorded);
  if (!path && options.sifFallback && !isSifEnv(env)) {
    for (const sifEngine of SIF_ENGINES) {
      const p = ctx.runner.which(sifEngine);
      if (p) return createRuntime(sifEngine, ctx.runner, { path: p });
    }
  }
  if (!path) {
    throw new RuntimeUnavailableError(
      `${recorded}, which built '${env.name}', is not installed here`,
      { hint: `use another engine: venvoy --engine podman init --name ${env.name} --force` },
    );
  }
  return createRuntime(recorded, ctx.runner, { path });
}

/** The image to run; for a SIF engine on an OCI-built environment, its converted SIF. */
export function imageFor(runtime: ContainerRuntime, env: LoadedEnv): string {
  if (runtime.produces === "sif" && !isSifEnv(env) && env.config.image_id) {
    const converted = join(env.dir, sifNameFor(env.config.image_id));
    try {
      Deno.statSync(converted);
      return converted;
    } catch {
      throw new VenvoyError(`'${env.name}' has no ${runtime.name} image (SIF) yet`, {
        hint: prepareHint(env, runtime.name),
      });
    }
  }
  if (runtime.produces === "sif") {
    const sif = join(env.dir, "image.sif");
    try {
      Deno.statSync(sif);
    } catch {
      throw new VenvoyError(`'${env.name}' has no Apptainer image (image.sif)`, {
        hint: `build one: venvoy --engine ${runtime.name} init --name ${env.name} --force`,
      });
    }
    return sif;
  }
  if (env.config.image.endsWith(".sif")) {
    throw new VenvoyError(`'${env.name}' was built for ${env.config.engine}, not ${runtime.name}`, {
      hint:
        `build it for ${runtime.name}: venvoy --engine ${runtime.name} init --name ${env.name} --force`,
    });
  }
  return env.config.image;
}

export interface SessionOptions {
  command: string[];
  cwd: string;
  home: string | null;
  extraMounts: Mount[];
  extraEnv: [string, string][];
  ca: string | null;
  user?: { uid: number; gid: number };
  tty: boolean;
  interactive: boolean;
  /** Mount persist/ read-only. */
  readOnly?: boolean;
  gpus?: boolean;
  /** The scheduler's variables (and TMPDIR's mount), from schedulerPassthrough. */
  passthrough?: { env: Record<string, string>; mounts: Mount[] };
}

/** The RunSpec for a session; pure, so unit tests assert the exact command line. */
export function sessionSpec(
  runtime: ContainerRuntime,
  env: LoadedEnv,
  opts: SessionOptions & { image: string; containerName: string },
): RunSpec {
  const persist = join(env.dir, "persist");
  const mounts: Mount[] = [
    { source: opts.cwd, target: "/workspace" },
    { source: persist, target: PERSIST, ...(opts.readOnly ? { readOnly: true } : {}) },
  ];
  const vars: Record<string, string> = {
    VENVOY_ENV: env.name,
    PYTHONNOUSERSITE: "1",
    PIP_CACHE_DIR: `${PERSIST}/cache/pip`,
    UV_CACHE_DIR: `${PERSIST}/cache/uv`,
    R_USER_CACHE_DIR: `${PERSIST}/cache/R`,
  };
  // --as-of: every session resolves as of the date too (images built before it lack the ENV).
  for (const [k, v] of asOfEnv(env.config.as_of ?? undefined)) vars[k] = v;
  const oci = runtime.produces === "image";
  if (oci) {
    // Apptainer mounts the home folder itself (and honours --no-home).
    if (opts.home && !opts.extraMounts.some((m) => m.target === opts.home)) {
      mounts.push({ source: opts.home, target: opts.home });
      vars.HOME = opts.home;
    } else {
      vars.HOME = `${PERSIST}/home`;
    }
  }
  if (opts.ca) {
    mounts.push({ source: opts.ca, target: CA_TARGET, readOnly: true });
    for (const k of ["PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]) {
      vars[k] = CA_TARGET;
    }
  }
  // The job's variables; a --mount or --env given for the same target or name wins.
  for (const m of opts.passthrough?.mounts ?? []) {
    if (!opts.extraMounts.some((x) => x.target === m.target)) mounts.push(m);
  }
  Object.assign(vars, opts.passthrough?.env);
  mounts.push(...opts.extraMounts);
  for (const [k, v] of opts.extraEnv) vars[k] = v;
  return {
    image: opts.image,
    command: opts.command,
    mounts,
    env: vars,
    workdir: "/workspace",
    user: opts.user,
    tty: opts.tty,
    interactive: opts.interactive,
    name: opts.containerName,
    labels: { "org.venvoy.managed": "true", "org.venvoy.env": env.name },
    noHome: !opts.home,
    ...(opts.gpus ? { gpus: true } : {}),
  };
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
  if (ctx.autosave === false) return await session();
  const running = session();
  let saver: Promise<{ stop(): Promise<void> } | null> | null = null;
  const start = () =>
    saver ??= startSessionAutoSave(ctx, env).catch((e) => {
      ctx.note(`auto-save is off for this session: ${(e as Error).message}`);
      return null;
    });
  const timer = setTimeout(start, AUTOSAVE_DELAY_MS);
  try {
    return await running;
  } finally {
    clearTimeout(timer);
    if (saver || !(await unchangedSinceSaved(ctx, env))) await (await start())?.stop();
  }
}

async function unchangedSinceSaved(ctx: RunContext, env: LoadedEnv): Promise<boolean> {
  try {
    const quick = await import("../snapshot/quick.ts");
    return await quick.unchangedSinceSaved(env.dir, join(ctx.paths.projects, env.name));
  } catch {
    return false; // the full look decides
  }
}

async function startSessionAutoSave(
  ctx: RunContext,
  env: LoadedEnv,
): Promise<{ stop(): Promise<void> }> {
  // Not snapshot/mod.ts: that brings the YAML library, which a session that changes no
  // package never needs.
  const { startAutoSave } = await import("../snapshot/autosave.ts");
  const { metaFromConfig } = await import("../snapshot/model.ts");
  return startAutoSave({
    envDir: env.dir,
    projectDir: join(ctx.paths.projects, env.name),
    name: env.name,
    meta: metaFromConfig(env.config as unknown as Record<string, unknown>),
    // The session has run AUTOSAVE_DELAY_MS already: the first look is due now.
    startDelayMs: 0,
  });
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
      () => launchEditor(ctx, env, { runtime, image, home, extraMounts, extraEnv }),
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
    ca: hostCaBundle(ctx.runner),
    user: ctx.user ?? hostUser(),
    readOnly: opts.readOnly,
    gpus: opts.gpus,
    passthrough: ctx.hostEnv ? passthroughFor(ctx, ctx.hostEnv) : undefined,
    tty,
    interactive: opts.command === undefined || ctx.terminal.stdin || ctx.stdinData,
  });
  if (opts.command === undefined && !tty) {
    ctx.note("no terminal: the shell reads commands from stdin (use --command in batch jobs)");
  }
  const code = await whileAutoSaving(ctx, env, () => runtime.run(spec));
  if (code >= 125 && runtime.produces === "image" && runtime.name === "podman") {
    // Interrupted or failed to start: make sure the container is gone (--rm may not have run).
    await ctx.runner.run({ cmd: [runtime.binary, "rm", "-f", "--ignore", spec.name!] }).catch(
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
