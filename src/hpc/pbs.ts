/**
 * PBS Professional: qsub, #PBS directives, -J for arrays, -W block=true to wait.
 * Untested against a real PBS server (checked against golden scripts).
 */
import { UsageError } from "../ui/errors.ts";
import { hms, type JobSpec } from "./job.ts";
import type { SchedulerAdapter } from "./scheduler.ts";

export const pbs: SchedulerAdapter = {
  name: "pbs",
  program: "qsub",
  tested: false,
  directives(job: JobSpec): string[] {
    const d = [`-N ${job.jobName}`];
    if (job.timeSeconds !== null) d.push(`-l walltime=${hms(job.timeSeconds)}`);
    const chunk = [];
    if (job.cpus !== null) chunk.push(`ncpus=${job.cpus}`);
    if (job.memMb !== null) chunk.push(`mem=${job.memMb}mb`);
    if (job.gpus !== null) chunk.push(`ngpus=${job.gpus}`);
    if (chunk.length) d.push(`-l select=1:${chunk.join(":")}`);
    if (job.partition !== null) d.push(`-q ${job.partition}`);
    if (job.account !== null) d.push(`-A ${job.account}`);
    if (job.array !== null) {
      const [r, ...more] = job.array.ranges;
      if (more.length || r.end <= r.start) {
        throw new UsageError(`PBS job arrays take one range: --array '${job.array.text}'`, {
          hint: "use --array START-END[:STEP][%MAX] with END > START, e.g. --array 1-8",
        });
      }
      const step = r.step > 1 ? `:${r.step}` : "";
      const max = job.array.throttle !== null ? `%${job.array.throttle}` : "";
      d.push(`-J ${r.start}-${r.end}${step}${max}`);
    }
    if (job.output !== null) d.push(`-o ${job.output}`);
    d.push("-j oe");
    return d.map((x) => `#PBS ${x}`);
  },
  submitCall(script, { wait }) {
    return { cmd: ["qsub", ...(wait ? ["-W", "block=true"] : []), script.path] };
  },
  /** "1234.server" or "1234[].server" on the first line. */
  parseJobId(output: string): string | null {
    return output.match(/^\s*(\d+(?:\[\d*\])?(?:\.[A-Za-z0-9_.-]+)?)\s*$/m)?.[1] ?? null;
  },
};
