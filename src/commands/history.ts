import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";
import { UsageError } from "../ui/errors.ts";

export interface HistoryOptions {
  name?: string;
  json?: boolean;
  diff?: string[];
}

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("history")
    .description("list an environment's snapshots (newest first) or compare two of them")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .option("--diff <snapshots...>", "show every change from snapshot A to snapshot B")
    .option("--json", "print the same as JSON, for scripts")
    .addHelpText(
      "after",
      `
Snapshots are saved while 'venvoy run' is open, whenever packages change, and when it
ends, in $VENVOY_PROJECTS/<name>/ (environment_YYYYMMDD_HHMMSS.yml, UTC). Each entry shows
the package counts (Python, R, conda) and what changed since the one before:
+added, -removed, ~version.

Examples:
  venvoy history                                  the only environment's snapshots
  venvoy history --name demo
  venvoy history --name demo --diff 20250301_100000 latest
  venvoy history --name demo --json | jq -r '.snapshots[0].timestamp'`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await history(makeContext(cmd.optsWithGlobals()), opts);
    });
}

export async function history(ctx: CommandContext, opts: HistoryOptions): Promise<void> {
  const h = await import("../snapshot/history.ts");
  const { info, out, printJson, table } = await import("../ui/output.ts");
  if (opts.diff && opts.diff.length !== 2) {
    throw new UsageError(`--diff takes two snapshots, got ${opts.diff.length}`, {
      hint: "e.g. venvoy history --diff 20250301_100000 latest",
    });
  }
  const { name, note } = await h.resolveEnvironmentName(ctx.paths, opts.name);
  if (note) info(`venvoy: ${note}`);
  // Reading it records what changed since the last snapshot (commands/context.ts); the
  // history of a deleted environment is still shown.
  const { envExists, loadEnv } = await import("../env/store.ts");
  if (await envExists(ctx.paths, name)) await loadEnv(ctx.paths, name);
  if (opts.diff) {
    const r = await h.diffByIds(ctx.paths, [opts.diff[0], opts.diff[1]], { name });
    if (opts.json) return printJson(h.diffResultJson(r));
    const { renderDiff } = await import("../snapshot/diff.ts");
    out(`Changes in '${name}' from ${r.from.id} to ${r.to.id}:`);
    out(renderDiff(r.diff));
    return;
  }
  const { dir, history } = await h.historyOf(ctx.paths, name);
  const { listRecords, recordSummary, renderRecords } = await import("../proof/record.ts");
  const records = await listRecords(dir);
  if (opts.json) {
    return printJson({
      ...h.historyJson(name, dir, history),
      records: records.map((r) =>
        r.record ? recordSummary(r.record) : { id: r.id, file: r.file, error: r.error }
      ),
    });
  }
  out(h.renderHistory(name, dir, history, table));
  if (records.length) out(`\n${renderRecords(name, records, table)}`);
  const bad = history.filter((x) => x.error).length;
  if (bad) {
    const { warn } = await import("../ui/output.ts");
    warn(`${bad} snapshot file(s) could not be read; see 'unreadable' above`);
  }
}
