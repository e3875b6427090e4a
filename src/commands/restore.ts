import type { Command } from "@commander-js/extra-typings";

export interface RestoreCommandOptions {
  name?: string;
  snapshot?: string;
  allowNearest?: boolean;
}

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("restore")
    .description("make an environment's packages equal one of its snapshots (undoable)")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .option(
      "--snapshot <timestamp>",
      "YYYYMMDD_HHMMSS from 'venvoy history', or latest (asked on a terminal)",
    )
    .option("--allow-nearest", "take the nearest available version of one that is gone")
    .addHelpText(
      "after",
      `
The packages installed in sessions (persist/) are replaced by exactly the snapshot's
versions, installed inside the environment's image, then checked against a fresh listing;
every difference is reported. The state before the restore is kept as a snapshot first,
so 'venvoy restore --snapshot <that one>' undoes it. If the index no longer has a version,
restore fails and lists each such package (nothing changes), unless --allow-nearest.

Examples:
  venvoy restore                                    ask which snapshot (on a terminal)
  venvoy restore --name demo --snapshot 20250301_100000
  venvoy restore --name demo --snapshot latest
  venvoy restore --name demo --snapshot 20240105_090000 --allow-nearest`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, restore } = await import("./restore_action.ts");
      await restore(makeContext(cmd.optsWithGlobals()), opts);
    });
}
