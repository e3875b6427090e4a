/** The work of `venvoy list`, loaded once by its action (src/commands/list.ts). */
import type { CommandContext } from "./context.ts";
import { listEnvs, listTable } from "../env/manage.ts";
import { info, out, printJson, table } from "../ui/output.ts";
import { printable } from "../ui/errors.ts";
export { makeContext } from "./context.ts";

export async function list(ctx: CommandContext, opts: { json?: boolean }): Promise<void> {
  const rows = await listEnvs(ctx.runner, ctx.paths);
  if (opts.json) return printJson(rows);
  if (rows.length === 0) {
    info("No environments yet. Create one with: venvoy init --name my-project");
    return;
  }
  // config.yaml of an imported environment is an archive's word: escaped (--json: exact).
  out(table(listTable(rows).map((r) => r.map((c) => printable(c)))));
}
