import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("delete")
    .description("remove an environment, its image and containers (snapshot history is kept)")
    .argument("<name>", "environment to remove")
    .option("--force", "do not ask")
    .option("--purge", "also remove its snapshot history in $VENVOY_PROJECTS")
    .addHelpText(
      "after",
      `
Examples:
  venvoy delete old-study
  venvoy delete old-study --force --purge`,
    )
    .action(async (name, opts, cmd) => {
      const { makeContext, deleteCommand } = await import("./delete_action.ts");
      await deleteCommand(makeContext(cmd.optsWithGlobals()), name, opts);
    });
}
