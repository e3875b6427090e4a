import type { Command } from "@commander-js/extra-typings";

export interface FreezeCommandOptions {
  name?: string;
  includeDev?: boolean;
}

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("freeze")
    .description("vendor every package as wheels and lock their hashes, for offline rebuilds")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .option("--include-dev", "also vendor the packages of requirements-dev.txt")
    .addHelpText(
      "after",
      `
Downloads every Python package of the environment's current state into its vendor/
folder as wheels (a package with only a source distribution is built into a wheel inside
the environment's image, so it fits its platform), and writes requirements.lock with
their sha256 hashes (pip's --require-hashes format). Packages not installed from the
index (a local wheel or sdist, a git checkout, an editable project: PEP 610
direct_url.json) get their wheel from their origin: a local wheel is copied, anything
else is built in the image; where the origin is gone, the wheel is rebuilt from the
installed files (an editable project needs its folder). R source packages are kept in
vendor/R where the index has them. Afterwards the environment rebuilds with no network:

  venvoy init --name NAME --force --offline      (builds with networking disabled)

Examples:
  venvoy freeze                                  the only environment
  venvoy freeze --name study --include-dev
  venvoy freeze --name study && venvoy init --name study --force --offline`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, freeze } = await import("./freeze_action.ts");
      await freeze(makeContext(cmd.optsWithGlobals()), opts);
    });
}
