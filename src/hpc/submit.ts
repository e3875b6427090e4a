/**
 * `venvoy submit`: writes a batch script into the environment's jobs/ folder and submits
 * it. Before submitting it makes sure the environment can run where the job runs (with
 * Apptainer, its SIF exists), so a compute node never converts an image.
 */
import { dirname, join } from "../util/path.ts";
import { fileURLToPath } from "node:url";
import type { ProcessRunner } from "../process/mod.ts";
import { createRuntime, type EngineName, isEngineName, parseEngine } from "../runtime/mod.ts";
import { detectHpc } from "../runtime/detect.ts";
import { ProcessError, RuntimeUnavailableError, UsageError, VenvoyError } from "../ui/errors.ts";
import type { StatePaths } from "../env/paths.ts";
import { loadEnv, pickEnvName } from "../env/store.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { selfPath } from "../release/self_replace.ts";
import {
  type JobFlags,
  noLineBreak,
  parseJobFlags,
  SCHEDULER_NAMES,
  type SchedulerName,
} from "./job.ts";
import { type SchedulerAdapter, schedulerAdapter, SchedulerUnavailableError } from "./scheduler.ts";
import { renderJobScript } from "./script.ts";
import { ensureSif, isSifEnv } from "./sif.ts";

export interface SubmitOptions extends JobFlags {
  name?: string;
  command?: string;
  scheduler?: string;
  dryRun?: boolean;
  wait?: boolean;
  /** Let the job change the environment's packages (no --read-only). */
  writable?: boolean;
}

export interface SubmitContext {
  runner: ProcessRunner;
  paths: StatePaths;
  /** --engine, if given. */
  engine: string | null;
  cwd: string;
  note: (msg: string) => void;
  /** How the job calls venvoy; default: this program (selfArgv). */
  venvoy?: string[];
  hostname?: string;
  now?: () => Date;
}

export interface SubmitResult {
  scheduler: SchedulerName;
  engine: EngineName;
  /** null for --dry-run. */
  scriptPath: string | null;
  scriptText: string;
  jobId: string | null;
  /** With --wait: the job's exit code (for an array, the highest of its tasks). */
  exitCode: number | null;
}

const SIF_ENGINES: readonly EngineName[] = ["apptainer", "singularity"];

/**
 * This venvoy, by absolute path: the compiled binary or the bundle (links resolved), or
 * when run from source, deno running main.ts with the project's configuration.
 */
export function selfArgv(): string[] {
  const self = selfPath();
  if (self) return [self];
  const main = fileURLToPath(Deno.mainModule);
  return [Deno.execPath(), "run", "-A", "--config", join(dirname(main), "deno.json"), main];
}

/** The scheduler asked for, or found here (detectHpc's evidence: a job's variables, sbatch...). */
export function pickScheduler(
  ctx: Pick<SubmitContext, "runner" | "hostname">,
  asked: string | undefined,
): SchedulerName {
  if (asked !== undefined) {
    const s = SCHEDULER_NAMES.find((n) => n === asked);
    if (!s) {
      throw new UsageError(`unknown --scheduler '${noLineBreak(asked, "--scheduler")}'`, {
        hint: `use one of: ${SCHEDULER_NAMES.join(", ")}`,
      });
    }
    return s;
  }
  const verdict = detectHpc(
    (n) => ctx.runner.env(n),
    (p) => ctx.runner.which(p),
    ctx.hostname ?? "",
  );
  if (verdict.scheduler === "sge") {
    throw new SchedulerUnavailableError(
      "venvoy submit writes SLURM, PBS and LSF jobs; this is SGE",
      {
        hint: `call venvoy from your own job script: venvoy run NAME --read-only --command "..."`,
      },
    );
  }
  if (!verdict.scheduler) {
    throw new SchedulerUnavailableError("no batch scheduler found here (no sbatch, qsub or bsub)", {
      hint: "run venvoy submit on the cluster's login node, where sbatch (SLURM), qsub (PBS) or " +
        "bsub (LSF) is on PATH (e.g. after `module load slurm`); to only see the script, add " +
        "--scheduler slurm --dry-run",
    });
  }
  return verdict.scheduler;
}

/**
 * The engine the job will use: the one forced (--engine, VENVOY_ENGINE), else the recorded
 * one when it makes SIFs, else Apptainer (or Singularity) where there is one, as on a
 * cluster, else the recorded engine. The script sets it (VENVOY_ENGINE), so the compute
 * node does not guess.
 */
export function jobEngine(
  ctx: Pick<SubmitContext, "runner" | "engine">,
  recorded: string,
): EngineName {
  const forced = parseEngine(ctx.engine, "--engine") ??
    parseEngine(ctx.runner.env("VENVOY_ENGINE"), "VENVOY_ENGINE");
  if (forced) return forced;
  if (!isEngineName(recorded)) {
    throw new VenvoyError(`the environment records an unknown engine '${recorded}'`);
  }
  if (SIF_ENGINES.includes(recorded)) return recorded;
  for (const e of SIF_ENGINES) if (ctx.runner.which(e)) return e;
  return recorded;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function submitJob(
  ctx: SubmitContext,
  opts: SubmitOptions,
  hooks: { onSubmitted?: (jobId: string) => void } = {},
): Promise<SubmitResult> {
  if (opts.command === undefined || opts.command.trim() === "") {
    throw new UsageError("venvoy submit needs --command", {
      hint: `e.g. venvoy submit --name study --command "python analysis.py"`,
    });
  }
  noLineBreak(opts.command, "--command");
  const name = await pickEnvName(ctx.paths, { flag: opts.name }, ctx.note);
  const job = parseJobFlags(name, opts);
  const scheduler = pickScheduler(ctx, opts.scheduler);
  const adapter = await schedulerAdapter(scheduler);
  const env = await loadEnv(ctx.paths, name);
  const engine = jobEngine(ctx, env.config.engine);
  const scriptText = renderJobScript(adapter, job, {
    envName: name,
    workdir: ctx.cwd,
    venvoy: ctx.venvoy ?? selfArgv(),
    exports: [
      ["VENVOY_HOME", ctx.paths.venvoyHome],
      ["VENVOY_PROJECTS", ctx.paths.projects],
      ["VENVOY_ENGINE", engine],
    ],
    command: opts.command,
    readOnly: !opts.writable,
    gpus: job.gpus !== null,
  });
  const result: SubmitResult = {
    scheduler,
    engine,
    scriptPath: null,
    scriptText,
    jobId: null,
    exitCode: null,
  };
  if (opts.dryRun) return result;

  if (!ctx.runner.which(adapter.program)) {
    throw new SchedulerUnavailableError(`${adapter.program} (${scheduler}) is not on PATH here`, {
      hint: `submit from a node where ${adapter.program} is available, or see the script with ` +
        `--dry-run`,
    });
  }
  // The compute node must find the image ready: convert it here, once, if needed.
  if (SIF_ENGINES.includes(engine) && !isSifEnv(env)) {
    const path = ctx.runner.which(engine);
    if (!path) {
      throw new RuntimeUnavailableError(`${engine} is not installed here`, {
        hint: `submit from the login node, where ${engine} can prepare '${name}' for the job`,
      });
    }
    await ensureSif(ctx, env, createRuntime(engine, ctx.runner, { path }));
  }
  const jobs = join(env.dir, "jobs");
  const rand = crypto.randomUUID().slice(0, 6);
  result.scriptPath = join(jobs, `${scheduler}-${stamp(ctx.now?.() ?? new Date())}-${rand}.sh`);
  await writeFileAtomic(result.scriptPath, scriptText);
  ctx.note(`wrote ${result.scriptPath}`);
  if (!adapter.tested) {
    ctx.note(`${scheduler} scripts are untested against a real ${scheduler} scheduler`);
  }
  const call = adapter.submitCall({ path: result.scriptPath, text: scriptText }, {
    wait: !!opts.wait,
  });
  if (!opts.wait) {
    const res = await ctx.runner.run({ cmd: call.cmd, input: call.input, cwd: ctx.cwd });
    if (res.code !== 0) throw new ProcessError(call.cmd, res, { what: adapter.program });
    result.jobId = requireJobId(adapter, res.stdout);
    return result;
  }
  const { jobId, code } = await submitAndWait(ctx.runner, adapter, call, ctx.cwd, (id) => {
    result.jobId = id;
    hooks.onSubmitted?.(id);
  });
  result.jobId = jobId;
  result.exitCode = code;
  if (job.array && adapter.highestExitCode) {
    result.exitCode = (await adapter.highestExitCode(ctx.runner, jobId)) ?? code;
  }
  return result;
}

function requireJobId(adapter: SchedulerAdapter, output: string): string {
  const id = adapter.parseJobId(output);
  if (!id) {
    throw new VenvoyError(`${adapter.program} did not print a job id`, {
      hint: `its output was: ${output.trim() || "(nothing)"}`,
    });
  }
  return id;
}

/**
 * Runs the blocking submit (sbatch --wait, qsub -W block=true, bsub -K): the job id is
 * read from its output as soon as it is printed, then its exit code is the job's.
 */
async function submitAndWait(
  runner: ProcessRunner,
  adapter: SchedulerAdapter,
  call: { cmd: string[]; input?: string },
  cwd: string,
  onId: (id: string) => void,
): Promise<{ jobId: string; code: number }> {
  const child = runner.spawn({
    cmd: call.cmd,
    cwd,
    stdin: call.input !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "inherit",
    forwardSignals: true,
  });
  if (call.input !== undefined && child.stdin) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(call.input)).catch(() => {});
    await w.close().catch(() => {});
  }
  let output = "";
  let jobId: string | null = null;
  if (child.stdout) {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      output += decoder.decode(chunk, { stream: true });
      if (!jobId) {
        // Whole lines only: "12" may be the start of "123".
        jobId = adapter.parseJobId(output.slice(0, output.lastIndexOf("\n") + 1));
        if (jobId) onId(jobId);
      }
    }
  }
  const status = await child.status;
  if (!jobId) {
    jobId = adapter.parseJobId(output);
    if (jobId) onId(jobId);
  }
  if (!jobId) {
    throw new VenvoyError(`${adapter.program} did not submit the job (exit ${status.code})`, {
      hint: `its output was: ${output.trim() || "(nothing; see the messages above)"}`,
    });
  }
  return { jobId, code: status.code };
}
