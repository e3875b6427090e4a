/**
 * Running one of restore's or freeze's commands inside an environment's image, through the
 * runtime and the run layer's session spec: persist/ is mounted as in every session, the
 * host's CA bundle too, and the host user owns what is written. The command's output goes
 * to stderr (stdout is for results) and, when asked, is also kept for parsing.
 */
import { join } from "node:path";
import { ENTRY } from "../recipe/mod.ts";
import { hostCaBundle, hostUser } from "../env/host.ts";
import type { StatePaths } from "../env/paths.ts";
import { imageFor, runtimeFor, sessionSpec } from "../session/mod.ts";
import type { LoadedEnv } from "../env/store.ts";
import type { ProcessRunner } from "../process/mod.ts";
import type { ContainerRuntime, Mount, RunSpec } from "../runtime/mod.ts";

export interface ExecContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
  /** Messages for people (stderr). */
  note: (msg: string) => void;
  user?: { uid: number; gid: number };
  /** Show the command's own progress bars (venvoy's stderr is a terminal). */
  tty?: boolean;
}

export interface ExecResult {
  code: number;
  /** stdout and stderr of the command, interleaved (only with capture). */
  output: string;
}

const LOG = "/workspace/.venvoy-exec.log";
const RC = "/workspace/.venvoy-exec.rc";

/**
 * The `sh -c` script around the command: its output goes to stderr, and with `capture`
 * through tee into a log as well, keeping the command's exit code.
 */
export function wrapperScript(capture: boolean): string {
  return capture
    ? `{ "$@" 2>&1; echo $? >${RC}; } | tee ${LOG} >&2; exit "$(cat ${RC} 2>/dev/null || echo 1)"`
    : `"$@" 1>&2`;
}

/** The RunSpec for one command in the environment (pure; unit tests assert its argv). */
export function execSpec(
  runtime: ContainerRuntime,
  env: LoadedEnv,
  o: {
    image: string;
    argv: string[];
    workDir: string;
    capture: boolean;
    extraMounts?: Mount[];
    ca: string | null;
    user?: { uid: number; gid: number };
    tty?: boolean;
    id?: string;
  },
): RunSpec {
  return sessionSpec(runtime, env, {
    image: o.image,
    containerName: `venvoy-${env.name}-${o.id ?? crypto.randomUUID().slice(0, 8)}`,
    command: [ENTRY, "sh", "-c", wrapperScript(o.capture), "sh", ...o.argv],
    cwd: o.workDir,
    home: null,
    extraMounts: o.extraMounts ?? [],
    extraEnv: [],
    ca: o.ca,
    user: o.user,
    tty: !o.capture && !!o.tty,
    interactive: false,
  });
}

export interface EnvExec {
  runtime: ContainerRuntime;
  image: string;
  run(argv: string[], options?: { capture?: boolean; extraMounts?: Mount[] }): Promise<ExecResult>;
}

/** Resolves the environment's runtime and image once; then runs commands in it. */
export async function envExec(ctx: ExecContext, env: LoadedEnv): Promise<EnvExec> {
  const runtime = await runtimeFor(ctx, env);
  const image = imageFor(runtime, env);
  const ca = hostCaBundle(ctx.runner);
  const user = ctx.user ?? hostUser();
  return {
    runtime,
    image,
    async run(argv, options = {}) {
      const workDir = await Deno.makeTempDir({ prefix: "venvoy-exec-" });
      try {
        const capture = options.capture ?? false;
        const spec = execSpec(runtime, env, {
          image,
          argv,
          workDir,
          capture,
          extraMounts: options.extraMounts,
          ca,
          user,
          tty: ctx.tty,
        });
        const code = await runtime.run(spec);
        let output = "";
        if (capture) {
          output = await Deno.readTextFile(join(workDir, ".venvoy-exec.log")).catch(() => "");
        }
        return { code, output };
      } finally {
        await Deno.remove(workDir, { recursive: true }).catch(() => {});
      }
    },
  };
}
