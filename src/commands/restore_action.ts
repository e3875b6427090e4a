/** The work of `venvoy restore`, loaded once by its action (src/commands/restore.ts). */
import type { RestoreCommandOptions } from "./restore.ts";
import type { CommandContext } from "./context.ts";
import { VenvoyError } from "../ui/errors.ts";
import { resolveEnvironmentName } from "../snapshot/history.ts";
import { restoreEnv } from "../snapshot/restore_run.ts";
import { renderDeviations, renderMismatches } from "../snapshot/restore.ts";
import { info, out, warn } from "../ui/output.ts";
import { canAsk, select } from "../ui/prompt.ts";
export { makeContext } from "./context.ts";

export async function restore(ctx: CommandContext, opts: RestoreCommandOptions): Promise<void> {
  const { name, note } = await resolveEnvironmentName(ctx.paths, opts.name);
  if (note) info(`venvoy: ${note}`);
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
