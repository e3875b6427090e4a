import type { Command } from "@commander-js/extra-typings";

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
      const { makeContext, history } = await import("./history_action.ts");
      await history(makeContext(cmd.optsWithGlobals()), opts);
    });
}
