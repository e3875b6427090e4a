/**
 * Built with podman (or docker), run with Apptainer: the image is converted to a SIF once,
 * kept in the environment folder under a name keyed by the image ID
 * (image-<12 hex of the ID>.sif), and reused by every later session. The conversion holds
 * a lock, so sessions started at once (a job array) convert once and all run.
 *
 * Non-root `apptainer build` from a definition does not work on many clusters; converting
 * a docker-archive does, so the recorded engine saves the image and Apptainer converts it.
 */
import { join } from "../util/path.ts";
import type { ProcessRunner } from "../process/mod.ts";
import type { ApptainerRuntime } from "../runtime/apptainer.ts";
// runtime/create.ts, not mod.ts: run loads this module, and needs no runtime detection.
import { createRuntime } from "../runtime/create.ts";
import { type ContainerRuntime, isEngineName } from "../runtime/types.ts";
import { RuntimeUnavailableError, VenvoyError } from "../ui/errors.ts";
import type { LoadedEnv } from "../env/store.ts";

/** image-<first 12 hex digits of the image ID>.sif */
export function sifNameFor(imageId: string): string {
  const hex = imageId.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{12,}$/.test(hex)) {
    throw new VenvoyError(`not an image ID: '${imageId}'`);
  }
  return `image-${hex.slice(0, 12)}.sif`;
}

/** True when the environment's own image is a SIF (built or imported for Apptainer). */
export function isSifEnv(env: LoadedEnv): boolean {
  return env.config.image.endsWith(".sif");
}

/** How to make the SIF where it cannot be made. */
export function prepareHint(env: LoadedEnv, engine: string): string {
  return `on a node that has both ${env.config.engine} and ${engine} (the login node), run ` +
    `once: venvoy --engine ${engine} run ${env.name} --command true` +
    ` (or submit the job from there with venvoy submit, which prepares it); ` +
    `or import the environment's archive here (venvoy import), which builds its SIF`;
}

export interface EnsureSifContext {
  runner: ProcessRunner;
  note: (msg: string) => void;
}

/**
 * The SIF a SIF engine runs for an environment built with an OCI engine: the existing
 * one (one stat), or a new conversion under the environment's lock.
 */
export async function ensureSif(
  ctx: EnsureSifContext,
  env: LoadedEnv,
  runtime: ContainerRuntime,
): Promise<string> {
  const recorded = env.config.engine;
  const builder = () => {
    const path = isEngineName(recorded) ? ctx.runner.which(recorded) : null;
    if (!path || !isEngineName(recorded)) {
      throw new RuntimeUnavailableError(
        `'${env.name}' was built with ${recorded}, which is not installed here, and has no ` +
          `${runtime.name} image (SIF) yet`,
        { hint: prepareHint(env, runtime.name) },
      );
    }
    return createRuntime(recorded, ctx.runner, { path });
  };
  let id = env.config.image_id;
  if (!id) {
    id = (await builder().inspect(env.config.image))?.id ?? null;
    if (!id) {
      throw new VenvoyError(`${recorded} has no image '${env.config.image}' for '${env.name}'`, {
        hint: `rebuild it: venvoy init --name ${env.name} --force`,
      });
    }
  }
  const sif = join(env.dir, sifNameFor(id));
  if (await exists(sif)) return sif;
  // Not snapshot/mod.ts: only the lock helper is needed, and only here.
  const { withFileLock } = await import("../util/lock.ts");
  return await withFileLock(join(env.dir, ".sif.lock"), async () => {
    // Another session may have converted it while this one waited.
    if (await exists(sif)) return sif;
    const oci = builder();
    ctx.note(`converting '${env.name}' (${recorded} image) to ${sif} for ${runtime.name}, once`);
    const tmpDir = await Deno.makeTempDir({ dir: env.dir, prefix: ".sif-convert-" });
    try {
      const archive = join(tmpDir, "image.tar");
      await oci.save(env.config.image, archive);
      await (runtime as ApptainerRuntime).buildSif({ kind: "docker-archive", path: archive }, sif, {
        logPath: join(env.dir, "sif-convert.log"),
      });
    } finally {
      await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    }
    return sif;
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
