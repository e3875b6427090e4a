/** The work of `venvoy uninstall`, loaded once by its action (src/commands/uninstall.ts). */
import type { PlanDeps, UninstallOptions } from "../release/uninstall.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import type { CommandContext } from "./context.ts";
import { describePlan, executeUninstall, planUninstall } from "../release/uninstall.ts";
import { info, out, warn } from "../ui/output.ts";
import { canAsk, confirm } from "../ui/prompt.ts";
export { makeContext } from "./context.ts";

export type { UninstallOptions };

export interface UninstallDeps extends PlanDeps {
  /** Asks a yes/no question on the terminal. Default: a line read from stdin. */
  ask?: (question: string) => Promise<boolean>;
  /** Whether there is a terminal to ask on. Default: stdin and stderr are terminals. */
  interactive?: boolean;
}

export async function uninstall(
  ctx: CommandContext,
  opts: UninstallOptions,
  deps: UninstallDeps = {},
): Promise<void> {
  const plan = await planUninstall(ctx, opts, deps);
  const lines = describePlan(plan, opts);

  if (!lines.length) {
    for (const n of plan.notes) info(`note: ${n}`);
    out(`Nothing of venvoy's was found; nothing ${opts.dryRun ? "would be" : "was"} removed.`);
    return;
  }
  if (opts.dryRun) {
    out("venvoy uninstall would remove (dry run, nothing changed):");
    for (const l of lines) out(l);
    for (const n of plan.notes) out(`note: ${n}`);
    return;
  }
  if (!opts.force) {
    if (!(deps.interactive ?? canAsk())) {
      throw new UsageError(
        "venvoy uninstall asks before it removes anything, and there is no terminal to ask on",
        { hint: "see the list with 'venvoy uninstall --dry-run', then run it with --force" },
      );
    }
    info("venvoy uninstall will remove:");
    for (const l of lines) info(l);
    const yes = await (deps.ask ?? confirm)("Remove all of this?");
    if (!yes) {
      out("Nothing was removed.");
      return;
    }
  }

  const failures = await executeUninstall(plan);
  for (const f of failures) warn(f);
  for (const n of plan.notes) info(`note: ${n}`);
  out(
    failures.length ? "venvoy was partly removed (see the warnings above)." : "venvoy was removed.",
  );
  if (plan.rcFiles.length) {
    out("Open a new terminal: shells already open still have vup defined.");
  }
  if (failures.length) {
    throw new VenvoyError(`${failures.length} item(s) could not be removed`);
  }
}
