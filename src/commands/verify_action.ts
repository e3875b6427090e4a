/** The work of `venvoy verify`, loaded once by its action (src/commands/verify.ts). */
import type { VerifyCommandOptions } from "./verify.ts";
import type { CommandContext } from "./context.ts";
import { CommandExit, printable, UsageError } from "../ui/errors.ts";
import { parseTimeout, renderReport, verifyArchive } from "../archive/verify.ts";
import { info, out, printJson } from "../ui/output.ts";
export { makeContext } from "./context.ts";

export async function verify(
  ctx: CommandContext,
  archive: string,
  opts: VerifyCommandOptions,
): Promise<void> {
  const report = await verifyArchive(
    { runner: ctx.runner, engine: ctx.engine, note: (m) => info(`venvoy: ${m}`) },
    archive,
    {
      record: opts.record,
      keep: opts.keep,
      network: opts.network,
      memory: opts.memory,
      pids: opts.pids === undefined ? undefined : pidsOption(opts.pids),
      timeoutMs: opts.timeout === undefined ? undefined : parseTimeout(opts.timeout),
    },
  );
  if (opts.json) printJson(report);
  else out(renderReport(report));
  if (report.verdict !== "same") throw new CommandExit(1);
}

function pidsOption(value: string): number {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n > 0)) {
    throw new UsageError(`invalid --pids '${printable(value)}'`, {
      hint: "a whole number: --pids 1024",
    });
  }
  return n;
}
