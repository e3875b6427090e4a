/**
 * Built with podman (or docker), run with Apptainer: the image is converted to a SIF once,
 * kept in the environment folder under a name keyed by the image ID
 * (image-<12 hex of the ID>.sif), and reused by every later session. The conversion holds
 * a lock, so sessions started at once (a job array) convert once and all run.
 *
 * Non-root `apptainer build` from a definition does not work on many clusters; converting
 * a docker-archive does, so the recorded engine saves the image and Apptainer converts it.
 *
 * A SIF runs only if venvoy made it from the environment's image: beside it, venvoy
 * records the image ID and the SIF's sha256 (`<sif>.trust.json`, a name no archive can
 * bring in: import takes env/ by its allow-list). A SIF without that record (placed by
 * someone else), for another image, or whose bytes changed since is converted again from
 * the image, with a note. The sha256 is checked in full when the file's stat stamp (inode,
 * size, mtime, ctime) differs from the one recorded with it; any write changes ctime, which
 * no one but the clock sets, so an unchanged stamp means unchanged bytes and a session
 * start pays one stat, not a hash of a gigabyte. File times are coarse (a clock tick), so a
 * rewrite right after the stamp was taken can keep it: as git does with its index, a stamp
 * taken less than RACY_MS after the file last changed is not trusted, and the file is hashed.
 */
import { join } from "../util/path.ts";
import type { ProcessRunner } from "../process/mod.ts";
import type { ApptainerRuntime } from "../runtime/apptainer.ts";
// runtime/create.ts, not mod.ts: run loads this module, and needs no runtime detection.
import { createRuntime } from "../runtime/create.ts";
import { type ContainerRuntime, isEngineName } from "../runtime/types.ts";
import { RuntimeUnavailableError, VenvoyError } from "../ui/errors.ts";
import type { LoadedEnv } from "../env/store.ts";
import { sha256FileSync } from "../util/hash.ts";
import { tempPathFor } from "../util/atomic.ts";

/** The record beside a SIF venvoy made: `<sif>.trust.json`. */
export function trustPathFor(sif: string): string {
  return `${sif}.trust.json`;
}

interface TrustRecord {
  image_id: string;
  sha256: string;
  /** The stat stamp the sha256 was taken at. */
  stamp: string;
  /** When the stamp was taken (ms since the epoch); absent in older records. */
  recorded_ms?: number;
}

/** A stamp taken this soon after the file's last change proves nothing (coarse file times). */
export const RACY_MS = 2000;

/** The stamp can stand for the bytes: taken well after the file last changed. */
function stampSettled(rec: TrustRecord, st: Deno.FileInfo): boolean {
  const changed = Math.max(st.mtime?.getTime() ?? Infinity, st.ctime?.getTime() ?? Infinity);
  return typeof rec.recorded_ms === "number" && rec.recorded_ms - changed >= RACY_MS;
}

function stampOf(st: Deno.FileInfo): string {
  return [st.ino, st.size, st.mtime?.getTime(), st.ctime?.getTime()].join(":");
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

function readTrust(sif: string): TrustRecord | null {
  try {
    const j = JSON.parse(Deno.readTextFileSync(trustPathFor(sif)));
    if (typeof j?.image_id === "string" && typeof j.sha256 === "string") return j;
  } catch { /* none, or not ours */ }
  return null;
}

/**
 * True when venvoy made `sif` from image `imageId` and its bytes are still those it
 * recorded (`<sif>.trust.json`). An unchanged stat stamp costs one stat; a changed one, a
 * hash (then the new stamp is recorded). Without a record, `sha256` (what venvoy recorded
 * elsewhere: a SIF environment's config.yaml image_id is its SIF's sha256) is checked
 * instead and, if it holds, recorded.
 */
export function isTrustedSif(
  sif: string,
  imageId: string,
  options: { sha256?: string } = {},
): boolean {
  const st = lstatOrNull(sif);
  if (!st?.isFile) return false;
  const rec = readTrust(sif);
  const fits = rec !== null && rec.image_id === imageId;
  if (fits && rec.stamp === stampOf(st) && stampSettled(rec, st)) return true;
  // A record of another image (an init --force since) proves nothing about this one.
  const want = fits ? rec.sha256 : options.sha256;
  if (!want || sha256FileSync(sif) !== want) return false;
  // The same bytes (copied, touched, or never recorded): the stamp saves the next hash.
  try {
    recordSif(sif, imageId, want);
  } catch { /* a read-only environment folder: hashed again next time */ }
  return true;
}

/** Records that venvoy made `sif` from image `imageId` (its sha256 and stat stamp). */
export function recordSif(sif: string, imageId: string, sha256?: string): void {
  const sum = sha256 ?? sha256FileSync(sif);
  const rec: TrustRecord = {
    image_id: imageId,
    sha256: sum,
    stamp: stampOf(Deno.lstatSync(sif)),
    recorded_ms: Date.now(),
  };
  // Written beside and renamed (a sync replaceAtomic): a reader sees the old or the new one.
  const tmp = tempPathFor(trustPathFor(sif));
  Deno.writeTextFileSync(tmp, JSON.stringify(rec) + "\n");
  Deno.renameSync(tmp, trustPathFor(sif));
}

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
  const imageId = id;
  const sif = join(env.dir, sifNameFor(id));
  if (isTrustedSif(sif, imageId)) return sif;
  // Not snapshot/mod.ts: only the lock helper is needed, and only here.
  const { withFileLock } = await import("../util/lock.ts");
  return await withFileLock(join(env.dir, ".sif.lock"), async () => {
    // Another session may have converted it while this one waited.
    if (isTrustedSif(sif, imageId)) return sif;
    const oci = builder();
    if (lstatOrNull(sif)) {
      ctx.note(
        `${sif} is not a SIF venvoy made from '${env.name}''s image (no record, or its ` +
          `sha256 changed since): it is not run, and is made again from the image`,
      );
      await Deno.remove(sif, { recursive: true });
    }
    await Deno.remove(trustPathFor(sif)).catch(() => {});
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
    recordSif(sif, imageId);
    return sif;
  });
}
