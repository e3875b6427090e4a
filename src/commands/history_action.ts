/** The work of `venvoy history`, loaded once by its action (src/commands/history.ts). */
import type { HistoryOptions } from "./history.ts";
import type { CommandContext } from "./context.ts";
import { printableDeep, UsageError } from "../ui/errors.ts";
import { info, out, printJson, table, warn } from "../ui/output.ts";
import { envExists, loadEnv } from "../env/store.ts";
import { renderDiff } from "../snapshot/diff.ts";
import { listRecords, recordSummary, renderRecords } from "../proof/record.ts";
import * as h from "../snapshot/history.ts";
export { makeContext } from "./context.ts";

export async function history(ctx: CommandContext, opts: HistoryOptions): Promise<void> {
  if (opts.diff && opts.diff.length !== 2) {
    throw new UsageError(`--diff takes two snapshots, got ${opts.diff.length}`, {
      hint: "e.g. venvoy history --diff 20250301_100000 latest",
    });
  }
  const { name, note } = await h.resolveEnvironmentName(ctx.paths, opts.name);
  if (note) info(`venvoy: ${note}`);
  // Reading it records what changed since the last snapshot (commands/context.ts); the
  // history of a deleted environment is still shown.
  if (await envExists(ctx.paths, name)) await loadEnv(ctx.paths, name);
  if (opts.diff) {
    const r = await h.diffByIds(ctx.paths, [opts.diff[0], opts.diff[1]], { name });
    if (opts.json) return printJson(h.diffResultJson(r));
    out(`Changes in '${name}' from ${r.from.id} to ${r.to.id}:`);
    out(renderDiff(printableDeep(r.diff)));
    return;
  }
  const { dir, history } = await h.historyOf(ctx.paths, name);
  const records = await listRecords(dir);
  if (opts.json) {
    return printJson({
      ...h.historyJson(name, dir, history),
      records: records.map((r) =>
        r.record ? recordSummary(r.record) : { id: r.id, file: r.file, error: r.error }
      ),
    });
  }
  // Snapshots and records may come from an archive (import places them): every string
  // from them is escaped on the terminal, so none can fake a line or hide one; --json
  // above keeps them exact.
  out(h.renderHistory(name, dir, printableDeep(history), table));
  if (records.length) out(`\n${renderRecords(name, printableDeep(records), table)}`);
  const bad = history.filter((x) => x.error).length;
  if (bad) {
    warn(`${bad} snapshot file(s) could not be read; see 'unreadable' above`);
  }
}
