/** The work of `venvoy submit`, loaded once by its action (src/commands/submit.ts). */
import type { CommandContext } from "./context.ts";
import type { SubmitOptions } from "../hpc/submit.ts";
import { CommandExit } from "../ui/errors.ts";
import { submitJob } from "../hpc/submit.ts";
import { info, out, printJson } from "../ui/output.ts";
export { makeContext } from "./context.ts";

export async function submit(
  ctx: CommandContext,
  opts: SubmitOptions & { json?: boolean },
): Promise<void> {
  const r = await submitJob(
    {
      runner: ctx.runner,
      paths: ctx.paths,
      engine: ctx.engine,
      cwd: Deno.cwd(),
      note: (m) => info(`venvoy: ${m}`),
      hostname: Deno.hostname(),
    },
    opts,
    {
      // With --wait the id is shown as soon as the job is in, not when it ends.
      onSubmitted: (id) => {
        if (!opts.json) out(id);
      },
    },
  );
  if (opts.json) {
    printJson({
      scheduler: r.scheduler,
      engine: r.engine,
      dry_run: !!opts.dryRun,
      job_id: r.jobId,
      script: r.scriptPath,
      ...(opts.dryRun ? { script_text: r.scriptText } : {}),
      ...(opts.wait ? { exit_code: r.exitCode } : {}),
    });
  } else if (opts.dryRun) {
    Deno.stdout.writeSync(new TextEncoder().encode(r.scriptText));
  } else if (!opts.wait) {
    out(r.jobId!);
  }
  if (opts.wait && r.exitCode) throw new CommandExit(r.exitCode);
}
