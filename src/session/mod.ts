/**
 * The container session shared by `venvoy run` (src/session/run.ts) and the commands that run one
 * command inside an environment (src/snapshot/exec.ts, proof, sbom, export): which engine runs
 * it, which image, and the exact RunSpec. It sits below both, so neither imports the other.
 */
import { join } from "../util/path.ts";
// recipe/plan.ts and python.ts, not mod.ts: a session needs no recipe renderer or template.
import { PERSIST, PERSIST_DIR } from "../recipe/plan.ts";
import { asOfEnv } from "../recipe/python.ts";
import type { ProcessRunner } from "../process/mod.ts";
// runtime/create.ts and types.ts, not mod.ts: a session needs no runtime detection.
import { createRuntime, parseEngine } from "../runtime/create.ts";
import {
  type ContainerRuntime,
  type EngineName,
  isEngineName,
  type Mount,
  type RunSpec,
} from "../runtime/types.ts";
import { isSifEnv, isTrustedSif, prepareHint, sifNameFor } from "../hpc/sif.ts";
import { RuntimeUnavailableError, VenvoyError } from "../ui/errors.ts";
import type { LoadedEnv } from "../env/store.ts";

/** What choosing a runtime needs: the runner and the forced engine (--engine), if any. */
export interface EngineChoice {
  runner: ProcessRunner;
  engine: string | null;
}

export const CA_TARGET = "/opt/venvoy/ca-bundle.crt";

const SIF_ENGINES: EngineName[] = ["apptainer", "singularity"];

/**
 * The engine recorded at init, or the one forced (--engine, VENVOY_ENGINE), without probing
 * any runtime (run must start fast): a PATH lookup of its program only. With `sifFallback`,
 * an environment built with podman or docker runs with Apptainer (or Singularity) where its
 * engine is missing, as on a compute node (its image is converted to a SIF: hpc/sif.ts).
 */
export function runtimeFor(
  ctx: EngineChoice,
  env: LoadedEnv,
  options: { sifFallback?: boolean } = {},
): Promise<ContainerRuntime> {
  return Promise.resolve(pickRuntime(ctx, env, options));
}

function pickRuntime(
  ctx: EngineChoice,
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
    // Only a SIF venvoy converted from this image, unchanged since (hpc/sif.ts); a session
    // (ensureSif) converts a missing or changed one again.
    const converted = join(env.dir, sifNameFor(env.config.image_id));
    if (isTrustedSif(converted, env.config.image_id)) return converted;
    throw new VenvoyError(
      `'${env.name}' has no ${runtime.name} image (SIF) that venvoy made from its image, ` +
        "unchanged since",
      { hint: prepareHint(env, runtime.name) },
    );
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
    // config.yaml's image_id of a SIF environment is the sha256 venvoy took of the SIF it
    // built or imported: a SIF with other bytes is not run.
    const id = env.config.image_id;
    if (id && !isTrustedSif(sif, id, { sha256: id.replace(/^sha256:/, "") })) {
      throw new VenvoyError(
        `${sif} is not the SIF venvoy made for '${env.name}' (its sha256 differs)`,
        {
          hint: `build it again: venvoy --engine ${runtime.name} init --name ${env.name} --force` +
            " (or import its archive again)",
        },
      );
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
  const persist = join(env.dir, PERSIST_DIR);
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
