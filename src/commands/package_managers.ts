import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("package-managers")
    .description("what pip, uv, mamba and R are for, and which an environment has")
    .option("--name <name>", "show which managers this environment has")
    .option("--json", "print the same as JSON, for scripts")
    .addHelpText(
      "after",
      `
Examples:
  venvoy package-managers
  venvoy package-managers --name study
  venvoy package-managers --name study --json | jq -r '.managers[] | select(.present) | .name'`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, packageManagersCommand } = await import("./package_managers_action.ts");
      await packageManagersCommand(makeContext(cmd.optsWithGlobals()), opts);
    });
}
