/**
 * IBM Spectrum LSF: `bsub < script`, #BSUB directives, NAME[SPEC]%MAX for arrays, -K to wait.
 * Untested against a real LSF cluster (checked against golden scripts).
 */
import type { JobSpec } from "./job.ts";
import type { SchedulerAdapter } from "./scheduler.ts";

/** -W takes [HOURS:]MINUTES: whole minutes, rounded up. */
export function lsfTime(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
}

export const lsf: SchedulerAdapter = {
  name: "lsf",
  program: "bsub",
  tested: false,
  directives(job: JobSpec): string[] {
    const array = job.array
      ? `[${job.array.text.replace(/%\d+$/, "")}]` +
        (job.array.throttle !== null ? `%${job.array.throttle}` : "")
      : "";
    const d = [`-J "${job.jobName}${array}"`];
    if (job.timeSeconds !== null) d.push(`-W ${lsfTime(job.timeSeconds)}`);
    if (job.cpus !== null) d.push(`-n ${job.cpus}`, `-R "span[hosts=1]"`);
    if (job.memMb !== null) d.push(`-M ${job.memMb}MB`, `-R "rusage[mem=${job.memMb}MB]"`);
    if (job.gpus !== null) d.push(`-gpu "num=${job.gpus}"`);
    if (job.partition !== null) d.push(`-q ${job.partition}`);
    if (job.account !== null) d.push(`-P ${job.account}`);
    if (job.output !== null) d.push(`-o ${job.output}`);
    return d.map((x) => `#BSUB ${x}`);
  },
  submitCall(script, { wait }) {
    return { cmd: ["bsub", ...(wait ? ["-K"] : [])], input: script.text };
  },
  /** "Job <1234> is submitted to queue <normal>." */
  parseJobId(output: string): string | null {
    return output.match(/Job <(\d+)> is submitted/)?.[1] ?? null;
  },
};
