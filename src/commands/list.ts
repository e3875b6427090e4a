import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("list")
    .description("list environments: version, engine, built, size, created, last snapshot, running")
    .option("--json", "print JSON, for scripts")
    .addHelpText(
      "after",
      `
Examples:
  venvoy list
  venvoy list --json | jq -r '.[].name'`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, list } = await import("./list_action.ts");
      await list(makeContext(cmd.optsWithGlobals()), opts);
    });
}
