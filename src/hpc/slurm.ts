/** SLURM: sbatch --parsable, #SBATCH directives, scontrol for the exit codes of an array. */
import type { ProcessRunner } from "../process/mod.ts";
import { hms, type JobSpec } from "./job.ts";
import type { SchedulerAdapter } from "./scheduler.ts";

/** D-HH:MM:SS, or HH:MM:SS under a day. */
export function slurmTime(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const rest = hms(seconds % 86400);
  return days ? `${days}-${rest}` : rest;
}

/** Every `ExitCode=N:S` of `scontrol -o show job` (one line per array task): the highest. */
export function highestSlurmExit(text: string): number | null {
  let highest: number | null = null;
  for (const m of text.matchAll(/(?:^|\s)ExitCode=(\d+):(\d+)/g)) {
    const code = Number(m[2]) > 0 ? 128 + Number(m[2]) : Number(m[1]);
    highest = Math.max(highest ?? 0, code);
  }
  return highest;
}

export const slurm: SchedulerAdapter = {
  name: "slurm",
  program: "sbatch",
  tested: true,
  directives(job: JobSpec): string[] {
    const d = [`--job-name=${job.jobName}`];
    if (job.timeSeconds !== null) d.push(`--time=${slurmTime(job.timeSeconds)}`);
    if (job.cpus !== null) d.push(`--cpus-per-task=${job.cpus}`);
    if (job.memMb !== null) d.push(`--mem=${job.memMb}M`);
    if (job.gpus !== null) d.push(`--gpus=${job.gpus}`);
    if (job.partition !== null) d.push(`--partition=${job.partition}`);
    if (job.account !== null) d.push(`--account=${job.account}`);
    if (job.array !== null) d.push(`--array=${job.array.text}`);
    if (job.output !== null) d.push(`--output=${job.output}`);
    return d.map((x) => `#SBATCH ${x}`);
  },
  submitCall(script, { wait }) {
    return { cmd: ["sbatch", "--parsable", ...(wait ? ["--wait"] : []), script.path] };
  },
  /** "123" or "123;cluster" on the first line. */
  parseJobId(output: string): string | null {
    return output.match(/^\s*(\d+)(?:;\S*)?\s*$/m)?.[1] ?? null;
  },
  async highestExitCode(runner: ProcessRunner, jobId: string): Promise<number | null> {
    const res = await runner.run({ cmd: ["scontrol", "-o", "show", "job", jobId] });
    return res.code === 0 ? highestSlurmExit(res.stdout) : null;
  },
};
