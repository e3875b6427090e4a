/**
 * The scheduler's world inside a session. Every engine runs with a clean environment
 * (apptainer --cleanenv; docker and podman pass nothing by default), so the variables a
 * batch job depends on are passed in by name: without SLURM_ARRAY_TASK_ID a job array
 * cannot tell its tasks apart. Everything else on the host stays outside.
 */
import type { Mount } from "../runtime/types.ts";

/** Passed whole: every variable whose name starts with one of these. */
export const PASSTHROUGH_PREFIXES: readonly string[] = ["SLURM_", "PBS_", "LSB_", "SGE_"];

/** Passed by exact name. TMPDIR comes with its folder mounted at the same path. */
export const PASSTHROUGH_NAMES: readonly string[] = [
  "JOB_ID",
  "OMP_NUM_THREADS",
  "CUDA_VISIBLE_DEVICES",
  "TMPDIR",
];

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isPassedThrough(name: string): boolean {
  return NAME_RE.test(name) &&
    (PASSTHROUGH_NAMES.includes(name) || PASSTHROUGH_PREFIXES.some((p) => name.startsWith(p)));
}

export interface Passthrough {
  env: Record<string, string>;
  mounts: Mount[];
  /** Variables left out, and why (a value with a newline cannot be passed safely). */
  skipped: string[];
}

/**
 * The variables of `host` that go into the session, and the mount for TMPDIR. TMPDIR
 * passes only when it names an existing folder (absolute), which is then mounted at the
 * same path; `isDir` is for tests.
 */
export function schedulerPassthrough(
  host: Record<string, string>,
  options: { isDir?: (path: string) => boolean } = {},
): Passthrough {
  const isDir = options.isDir ?? dirExists;
  const env: Record<string, string> = {};
  const mounts: Mount[] = [];
  const skipped: string[] = [];
  for (const name of Object.keys(host).sort()) {
    if (!isPassedThrough(name)) continue;
    const value = host[name];
    if (/[\n\r\0]/.test(value)) {
      skipped.push(`${name} (its value has a line break)`);
      continue;
    }
    if (name === "TMPDIR") {
      if (!value.startsWith("/") || !isDir(value)) {
        skipped.push(`TMPDIR (${value} is not an existing absolute folder)`);
        continue;
      }
      const target = value.length > 1 ? value.replace(/\/+$/, "") : value;
      mounts.push({ source: target, target });
      env.TMPDIR = target;
      continue;
    }
    env[name] = value;
  }
  return { env, mounts, skipped };
}

function dirExists(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}
