import { type Command, Option } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("submit")
    .description("run a command in an environment as a batch job (SLURM; PBS and LSF untested)")
    .option("--name <name>", "environment (optional when there is only one)")
    .option("--command <cmd>", "what the job runs, through `sh -c` (required)")
    .option("--array <spec>", "a job array: 1-8, 0-20:2, 1,3,5-7, 1-100%10")
    .option("--time <t>", "time limit: MINUTES, MM:SS, HH:MM:SS or D-HH[:MM[:SS]]")
    .option("--cpus <n>", "CPUs for the task")
    .option("--mem <m>", "memory: 500M, 4G (unit K, M, G or T; default M)")
    .option("--gpus <n>", "GPUs; the job runs with `venvoy run --gpus`")
    .option("--partition <p>", "partition (SLURM) or queue (PBS, LSF)")
    .option("--account <a>", "account or project to charge")
    .option("--output <file>", "the job's output file (SLURM patterns such as %j pass)")
    .addOption(
      new Option("--scheduler <scheduler>", "default: the one found here").choices(
        ["slurm", "pbs", "lsf"] as const,
      ),
    )
    .option("--dry-run", "print the script and submit nothing")
    .option("--wait", "wait for the job; exit with its exit code (an array: the highest)")
    .option("--writable", "let the job change the environment's packages (no --read-only)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
The script goes into the environment's jobs/ folder and calls this venvoy by absolute path:
  venvoy run --name NAME --read-only --command CMD
in the folder you submit from (/workspace inside). The scheduler's variables (SLURM_*,
PBS_*, LSB_*, SGE_*, JOB_ID, OMP_NUM_THREADS, CUDA_VISIBLE_DEVICES, TMPDIR) reach the
command. With Apptainer on the cluster, an environment built with podman or docker is
converted to a SIF here before the job is submitted, so compute nodes never convert.
Prints the job id on stdout.

SLURM is tested against a real cluster. PBS (qsub, PBS Professional directives) and LSF
(bsub < script) scripts are produced and checked against reference files but are untested
against a real scheduler: read them with --dry-run first.

Examples:
  venvoy submit --name study --command "python analysis.py" --time 2:00:00 --mem 8G
  venvoy submit --name study --array 1-100%10 --command 'python task.py $SLURM_ARRAY_TASK_ID'
  venvoy submit --name study --gpus 1 --partition gpu --command "python train.py" --wait
  venvoy submit --name study --scheduler pbs --dry-run --command "Rscript fit.R"

Exit codes: 0 submitted (or, with --wait, the job's own code), 2 bad flags (--time, --mem,
--array...), 3 no scheduler found.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, submit } = await import("./submit_action.ts");
      await submit(makeContext(cmd.optsWithGlobals()), opts);
    });
}
