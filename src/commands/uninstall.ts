import type { Command } from "@commander-js/extra-typings";
import type { PlanDeps, UninstallOptions } from "../release/uninstall.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import type { CommandContext } from "./context.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("uninstall")
    .description("remove venvoy: its binary, shell setup, state, snapshots, images and SIFs")
    .option("--force", "remove without asking")
    .option("--keep-projects", "keep the snapshot history in $VENVOY_PROJECTS")
    .option("--keep-images", "keep venvoy's images, containers and SIF files")
    .option("--dry-run", "list everything that would be removed, and remove nothing")
    .addHelpText(
      "after",
      `
Examples:
  venvoy uninstall --dry-run                  see what would go, change nothing
  venvoy uninstall                            list it, ask, then remove it
  venvoy uninstall --force                    remove without asking (scripts)
  venvoy uninstall --keep-projects --keep-images

Removes the venvoy binary and its links, exactly the block the installer added to your
shell startup files (the rest of each file stays byte for byte), $VENVOY_HOME, the
snapshots in $VENVOY_PROJECTS, and the containers, images and SIF files of this
$VENVOY_HOME: the images its environments recorded or that carry its owner label
(org.venvoy.owner), never another user's or another $VENVOY_HOME's.
Without --force it asks first, and with no terminal to ask on it refuses.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await uninstall(makeContext(cmd.optsWithGlobals()), opts);
    });
}

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
  const { describePlan, executeUninstall, planUninstall } = await import("../release/uninstall.ts");
  const { out, info, warn } = await import("../ui/output.ts");
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
    const { canAsk, confirm } = await import("../ui/prompt.ts");
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
