/** The work of `venvoy record`, loaded once by its action (src/commands/record.ts). */
import type { CommandContext } from "./context.ts";
import type { RecordOptions } from "../proof/record.ts";
import { CommandExit, VenvoyError } from "../ui/errors.ts";
import { VERSION } from "../version.ts";
import { recordRun } from "../proof/record.ts";
import { info, out } from "../ui/output.ts";
import { sessionContext } from "./run_action.ts";
export { makeContext } from "./context.ts";

export async function record(ctx: CommandContext, opts: RecordOptions): Promise<void> {
  const { record, path } = await recordRun({
    ...sessionContext(ctx, { stdinData: false }),
    venvoyVersion: VERSION,
  }, opts);
  out(path);
  info(
    `venvoy: recorded ${record.id}: exit ${record.exit_code}, ${record.inputs.length} input ` +
      `file(s), ${record.outputs.length} output file(s), snapshot ${record.snapshot ?? "none"}`,
  );
  if (record.exit_code !== 0) {
    if (record.missing_outputs.length) {
      info(`venvoy: output(s) missing after the run: ${record.missing_outputs.join(", ")}`);
    }
    throw new CommandExit(record.exit_code);
  }
  if (record.missing_outputs.length) {
    throw new VenvoyError(
      `output(s) missing after the run: ${
        record.missing_outputs.join(", ")
      } (the record ${path} says so)`,
      {
        hint:
          "check the command writes them (paths are relative to this folder), then record again",
      },
    );
  }
}
