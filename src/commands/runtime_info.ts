import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("runtime-info")
    .description("show which container runtime venvoy will use, why, and every runtime found")
    .option("--json", "print the same as JSON, for scripts")
    .addHelpText(
      "after",
      `
Examples:
  venvoy runtime-info
  venvoy runtime-info --json | jq -r .runtime
  VENVOY_ENGINE=apptainer venvoy runtime-info

Exits 3, with install advice, when no runtime is usable.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, runtimeInfo } = await import("./runtime_info_action.ts");
      await runtimeInfo(makeContext(cmd.optsWithGlobals()), opts);
    });
}
