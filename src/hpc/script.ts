/**
 * The batch script `venvoy submit` writes, rendered from templates/jobs/<scheduler>.sh.tmpl:
 * the scheduler's directives, then a `cd` to the submit folder and this venvoy, called by
 * absolute path, running the command in the environment. Every value on a shell line is
 * shell-quoted; directive values were validated (job.ts). A line break is refused.
 */
import slurmTemplate from "../../templates/jobs/slurm.sh.tmpl" with { type: "text" };
import pbsTemplate from "../../templates/jobs/pbs.sh.tmpl" with { type: "text" };
import lsfTemplate from "../../templates/jobs/lsf.sh.tmpl" with { type: "text" };
import { fill } from "../util/template.ts";
import { shellQuote } from "../process/mod.ts";
import { type JobSpec, noLineBreak, type SchedulerName } from "./job.ts";
import type { SchedulerAdapter } from "./scheduler.ts";

const TEMPLATES: Record<SchedulerName, string> = {
  slurm: slurmTemplate,
  pbs: pbsTemplate,
  lsf: lsfTemplate,
};

export interface ScriptInput {
  envName: string;
  /** The folder the job runs in (the submit folder): /workspace inside. */
  workdir: string;
  /** This venvoy: its absolute path (or deno and the source entry point). */
  venvoy: string[];
  /** Variables the job sets before it runs venvoy (VENVOY_HOME, VENVOY_ENGINE, ...). */
  exports: [string, string][];
  command: string;
  /** --read-only (the default for submit; --writable turns it off). */
  readOnly: boolean;
  gpus: boolean;
}

/** The `venvoy run` argv the job executes. */
export function jobRunArgv(input: ScriptInput): string[] {
  return [
    ...input.venvoy,
    "run",
    "--name",
    input.envName,
    ...(input.readOnly ? ["--read-only"] : []),
    ...(input.gpus ? ["--gpus"] : []),
    "--command",
    input.command,
  ];
}

export function renderJobScript(
  adapter: SchedulerAdapter,
  job: JobSpec,
  input: ScriptInput,
): string {
  noLineBreak(input.command, "--command");
  noLineBreak(input.workdir, "the current folder's path");
  for (const part of input.venvoy) noLineBreak(part, "venvoy's own path");
  for (const [k, v] of input.exports) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`internal: bad variable name ${k}`);
    noLineBreak(v, k);
  }
  return fill(TEMPLATES[adapter.name], {
    DIRECTIVES: adapter.directives(job).join("\n"),
    ENV_NAME: input.envName,
    WORKDIR: shellQuote(input.workdir),
    EXPORTS: input.exports.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join("\n"),
    RUN: jobRunArgv(input).map(shellQuote).join(" "),
  });
}
