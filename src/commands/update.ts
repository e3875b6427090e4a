import type { Command } from "@commander-js/extra-typings";
import { VERSION } from "../version.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("update")
    .alias("upgrade")
    .description("update venvoy to the latest release (environments are not touched)")
    .option("--check", "only say whether a newer release exists; change nothing")
    .option("--json", "print the result as JSON, for scripts")
    .addHelpText(
      "after",
      `
Examples:
  venvoy update              install the latest release in place of this venvoy
  venvoy upgrade             the same
  venvoy update --check      only report whether a newer release exists
  venvoy update --check --json | jq .update_available
  VENVOY_RELEASE_URL=https://mirror.example.org/venvoy venvoy update

Releases come from VENVOY_RELEASE_URL, or else the project's latest GitHub release. The
new binary must match the release's SHA256SUMS and answer --version before it replaces
this one; if anything fails, this venvoy stays as it was. Re-running the install
one-liner updates venvoy too.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, update } = await import("./update_action.ts");
      await update(makeContext(cmd.optsWithGlobals()), opts, { current: VERSION });
    });
}
