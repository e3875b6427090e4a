/**
 * One adapter per batch scheduler, like the container runtimes: each turns a JobSpec into
 * its directives and builds its own command lines (sbatch, qsub, bsub), which run through
 * the ProcessRunner. SLURM is tested against a real cluster; PBS and LSF are checked
 * against golden scripts only.
 */
import type { ProcessRunner } from "../process/mod.ts";
import { EXIT, VenvoyError } from "../ui/errors.ts";
import type { JobSpec, SchedulerName } from "./job.ts";

/** No scheduler to submit to. Exit 3, like a missing container runtime. */
export class SchedulerUnavailableError extends VenvoyError {
  override readonly exitCode: number = EXIT.noRuntime;
}

export interface SubmitCall {
  cmd: string[];
  /** Fed on stdin (LSF reads the script there: `bsub < script`). */
  input?: string;
}

export interface SchedulerAdapter {
  readonly name: SchedulerName;
  /** The submitting program, looked up on PATH. */
  readonly program: string;
  /** Tested against a real scheduler in the lab. */
  readonly tested: boolean;
  /** The directive lines at the top of the script. */
  directives(job: JobSpec): string[];
  /** Submits; with wait, the program blocks until the job ends and exits with its code. */
  submitCall(script: { path: string; text: string }, options: { wait: boolean }): SubmitCall;
  /** The job id in the submitting program's output, or null when it is not there (yet). */
  parseJobId(output: string): string | null;
  /** After a waited job: the highest exit code of its tasks; null when not known. */
  highestExitCode?(runner: ProcessRunner, jobId: string): Promise<number | null>;
}

export async function schedulerAdapter(name: SchedulerName): Promise<SchedulerAdapter> {
  switch (name) {
    case "slurm":
      return (await import("./slurm.ts")).slurm;
    case "pbs":
      return (await import("./pbs.ts")).pbs;
    case "lsf":
      return (await import("./lsf.ts")).lsf;
  }
}
