/** `venvoy sbom NAME`: the SBOM of an environment, asked of its image through its runtime. */
import { resolve } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { hostUser } from "../env/host.ts";
import type { StatePaths } from "../env/paths.ts";
import { loadEnv, pickEnvName } from "../env/store.ts";
import type { ProcessRunner } from "../process/mod.ts";
import { imageFor, runtimeFor } from "../session/mod.ts";
import { generateSbom } from "./mod.ts";

export interface SbomContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
}

export interface SbomOfEnv {
  name: string;
  text: string;
  counts: { total: number; os: number; python: number; r: number; conda: number };
  /** Where it was written (with `output`); absent: the caller prints `text`. */
  path?: string;
}

/** The environment's SBOM; with `output`, written there atomically. */
export async function sbomOfEnv(
  ctx: SbomContext,
  o: {
    positional?: string;
    name?: string;
    output?: string;
    venvoyVersion: string;
    note: (msg: string) => void;
  },
): Promise<SbomOfEnv> {
  const name = await pickEnvName(ctx.paths, { positional: o.positional, flag: o.name }, o.note);
  const env = await loadEnv(ctx.paths, name);
  const runtime = await runtimeFor(ctx, env);
  const image = imageFor(runtime, env);
  const res = await generateSbom({
    runtime,
    envDir: env.dir,
    config: env.config,
    image,
    venvoyVersion: o.venvoyVersion,
    user: hostUser(),
  });
  if (!o.output) return { name, text: res.text, counts: res.counts };
  const path = resolve(o.output);
  await writeFileAtomic(path, res.text);
  return { name, text: res.text, counts: res.counts, path };
}
