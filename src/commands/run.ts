import type { Command } from "@commander-js/extra-typings";
import type { RunOptions } from "../session/run.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("run")
    .description("work in an environment: a shell, your editor, or one command")
    .argument("[name]", "environment (optional when there is only one)")
    .option("--name <name>", "environment, as an option")
    .option("--command <cmd>", "run this through `sh -c` and exit with its code")
    .option("--mount <host:container[:ro]>", "mount another folder (repeatable)", collect)
    .option("--env <K=V>", "set a variable in the container (repeatable)", collect)
    .option("--no-home", "do not make your home folder reachable inside")
    .option(
      "--read-only",
      "mount the environment's installed packages read-only (batch jobs, arrays); no auto-save",
    )
    .option("--gpus", "make the host's NVIDIA GPUs reachable (apptainer --nv, CDI, --gpus all)")
    .addHelpText(
      "after",
      `
Examples:
  venvoy run                                   the only environment: shell or editor
  venvoy run study --command "python analysis.py && python plots.py"
  venvoy run study --mount /scratch/data:/data:ro --env OMP_NUM_THREADS=4
  sbatch --wrap 'venvoy run study --read-only --command "python train.py"'

Inside: the current folder is /workspace (the working directory); your home folder is at
the same path as on the host (unless --no-home); files you create belong to you.
Packages installed in a session (pip, uv pip, install.packages) stay for the next one.
In a batch job the scheduler's variables are passed in (SLURM_*, PBS_*, LSB_*, SGE_*,
JOB_ID, OMP_NUM_THREADS, CUDA_VISIBLE_DEVICES, and TMPDIR with its folder mounted); no
other host variable is. With --engine apptainer an environment built with podman or docker
is converted to a SIF once (kept in the environment folder) and reused.`,
    )
    .action(async (positional, opts, cmd) => {
      const { makeContext, run } = await import("./run_action.ts");
      await run(makeContext(cmd.optsWithGlobals()), { ...opts, positional });
    });
}

/** The options of `run` that are switches, by flag. */
const BOOLEAN_FLAGS: Record<string, "readOnly" | "gpus"> = {
  "--read-only": "readOnly",
  "--gpus": "gpus",
};

/** The options of `run` that take a value, by flag. */
const VALUE_FLAGS: Record<string, "name" | "command" | "mount" | "env"> = {
  "--name": "name",
  "--command": "command",
  "--mount": "mount",
  "--env": "env",
};

/**
 * The fast path (main.ts): `venvoy run`'s arguments read without the command framework,
 * which costs ~25 ms of start-up on every batch job. It accepts only the plain forms
 * (`--flag value`, `--flag=value`, `--no-home`, `--read-only`, `--gpus`, one NAME) and
 * returns null for anything else (help, global options, a value that looks like an option,
 * an unknown flag, `--`), which then goes through commander. For what it accepts, it gives exactly commander's
 * result; a unit test holds the two to that.
 */
export function parseRunArgs(argv: string[]): RunOptions | null {
  const opts: RunOptions = { home: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--no-home") {
      opts.home = false;
      continue;
    }
    const flag = BOOLEAN_FLAGS[arg];
    if (flag) {
      opts[flag] = true;
      continue;
    }
    if (!arg.startsWith("-")) {
      if (opts.positional !== undefined) return null;
      opts.positional = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const key = VALUE_FLAGS[eq > 0 ? arg.slice(0, eq) : arg];
    if (!key) return null;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith("-"))) return null;
    if (key === "mount" || key === "env") (opts[key] ??= []).push(value);
    else opts[key] = value;
  }
  return opts;
}
