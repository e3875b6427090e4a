import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("setup")
    .description("first-run check: runtime, editors, state folders; stores global defaults")
    .option("--yes", "do not ask; take the detected defaults")
    .option("--editor <editor>", "default editor: cursor, code or none")
    .addHelpText(
      "after",
      `
Examples:
  venvoy setup
  venvoy setup --yes                  non-interactive (CI, install scripts)
  venvoy setup --yes --editor none

Writes $VENVOY_HOME/config.yaml. Never edits your editor's own settings.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, setup } = await import("./setup_action.ts");
      await setup(makeContext(cmd.optsWithGlobals()), opts);
    });
}
