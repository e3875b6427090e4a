import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";
import { VenvoyError } from "../ui/errors.ts";

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
      const { makeContext } = await import("./context.ts");
      await restore(makeContext(cmd.optsWithGlobals()), opts);
    });
}

export async function restore(ctx: CommandContext, opts: RestoreCommandOptions): Promise<void> {
  const { resolveEnvironmentName } = await import("../snapshot/history.ts");
  const { restoreEnv } = await import("../snapshot/restore_run.ts");
  const { renderDeviations, renderMismatches } = await import("../snapshot/restore.ts");
  const { info, out, warn } = await import("../ui/output.ts");
  const { name, note } = await resolveEnvironmentName(ctx.paths, opts.name);
  if (note) info(`venvoy: ${note}`);
  const { canAsk } = await import("../ui/prompt.ts");
  const interactive = canAsk();
  const res = await restoreEnv({
    runner: ctx.runner,
    paths: ctx.paths,
    engine: ctx.engine,
    note: info,
  }, {
    name,
    snapshot: opts.snapshot,
    allowNearest: opts.allowNearest,
    ask: interactive
      ? async (entries) => {
        const { select } = await import("../ui/prompt.ts");
        return await select(`Restore '${name}' to which snapshot? (times are UTC)`, {
          choices: entries.map((e, i) => ({
            value: e,
            name: `${e.id}${i === 0 ? "  (latest)" : ""}`,
          })),
        });
      }
      : undefined,
  });
  if (res.deviations.some((d) => d.chosen)) {
    warn(`nearest versions taken (--allow-nearest):\n${renderDeviations(res.deviations)}`);
  }
  if (res.needsRebuild.length) {
    warn(
      `the image has ${res.needsRebuild.length} package(s) the snapshot does not; only an image rebuild removes them:\n` +
        res.needsRebuild.map((n) => `  ${n.ecosystem} ${n.pkg.name} ${n.pkg.version}`).join("\n"),
    );
  }
  if (res.mismatches.length) {
    throw new VenvoyError(
      `'${name}' does not match snapshot ${res.restored.id} after the restore:\n${
        renderMismatches(res.mismatches)
      }`,
      { hint: `undo with: venvoy restore --name ${name} --snapshot ${res.undo.id}` },
    );
  }
  const exact = res.deviations.length === 0 && res.needsRebuild.length === 0;
  out(
    `Restored '${name}' to ${res.restored.id}: ${
      exact ? "the installed packages match it exactly" : "matches, except as reported above"
    } (now snapshot ${res.after.id}; undo: venvoy restore --name ${name} --snapshot ${res.undo.id})`,
  );
}
