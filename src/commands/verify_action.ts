/** The work of `venvoy verify`, loaded once by its action (src/commands/verify.ts). */
import type { VerifyCommandOptions } from "./verify.ts";
import type { CommandContext } from "./context.ts";
import { CommandExit } from "../ui/errors.ts";
import { renderReport, verifyArchive } from "../archive/verify.ts";
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
    { record: opts.record, keep: opts.keep },
  );
  if (opts.json) printJson(report);
  else out(renderReport(report));
  if (report.verdict !== "same") throw new CommandExit(1);
}
