import type { Command } from "@commander-js/extra-typings";
import { VERSION } from "../version.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("update")
    .alias("upgrade")
    .description("update venvoy to the latest release (environments are not touched)")
    .option("--check", "only say whether a newer release exists; change nothing")
    .option("--json", "print the result as JSON, for scripts")
    .option("--release-url <url>", "the release folder (https://, file:// or a path)")
    .option("--insecure-http", "accept a plain http:// release folder (prints a warning)")
    .addHelpText(
      "after",
      `
Examples:
  venvoy update              install the latest release in place of this venvoy
  venvoy upgrade             the same
  venvoy update --check      only report whether a newer release exists
  venvoy update --check --json | jq .update_available
  VENVOY_RELEASE_URL=https://mirror.example.org/venvoy venvoy update

Releases come from --release-url, VENVOY_RELEASE_URL, or else the project's latest GitHub
release; plain http:// only with --insecure-http (or VENVOY_INSECURE_HTTP=1). The
release's SHA256SUMS must carry a valid signature by the venvoy release key built into
this binary, the new binary must match SHA256SUMS, and it must answer --version before it
replaces this one; if anything fails, this venvoy stays as it was. Re-running the
install one-liner updates venvoy too.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, update } = await import("./update_action.ts");
      await update(makeContext(cmd.optsWithGlobals()), opts, { current: VERSION });
    });
}
