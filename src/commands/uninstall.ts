import type { Command } from "@commander-js/extra-typings";

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
      const { makeContext, uninstall } = await import("./uninstall_action.ts");
      await uninstall(makeContext(cmd.optsWithGlobals()), opts);
    });
}
