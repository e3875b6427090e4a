import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("configure")
    .description("choose the editor `venvoy run` opens (for one environment or all)")
    .option("--name <name>", "configure this environment only")
    .option("--editor <editor>", "cursor, code or none")
    .addHelpText(
      "after",
      `
Examples:
  venvoy configure                        asks, on a terminal
  venvoy configure --editor code          default for every environment
  venvoy configure --name study --editor none

Without a terminal, give the choice as a flag: it never waits for input.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, configure } = await import("./configure_action.ts");
      await configure(makeContext(cmd.optsWithGlobals()), opts);
    });
}
