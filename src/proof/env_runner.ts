/**
 * A ProcessRunner that adds variables to every process it starts (CONTAINERS_STORAGE_CONF,
 * APPTAINER_CACHEDIR…), and can send the programs' stdout to stderr, so that `verify`'s own
 * results stay alone on stdout. It wraps the real runner: spawning still happens only there.
 */
import type {
  ProcessRunner,
  RunRequest,
  RunResult,
  SpawnedProcess,
  SpawnRequest,
} from "../process/mod.ts";

export function withEnv(
  inner: ProcessRunner,
  vars: Record<string, string>,
  options: { stdoutToStderr?: boolean } = {},
): ProcessRunner {
  return {
    env: (name) => (name in vars ? vars[name] : inner.env(name)),
    which: (program) => inner.which(program),
    async run(req: RunRequest): Promise<RunResult> {
      const redirect = options.stdoutToStderr && req.stdout === "inherit";
      const res = await inner.run({
        ...req,
        env: { ...req.env, ...vars },
        ...(redirect ? { stdout: "piped" as const } : {}),
      });
      if (redirect && res.stdout) {
        await Deno.stderr.write(new TextEncoder().encode(res.stdout));
      }
      return res;
    },
    spawn(req: SpawnRequest): SpawnedProcess {
      return inner.spawn({ ...req, env: { ...req.env, ...vars } });
    },
  };
}
