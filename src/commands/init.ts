import type { Command } from "@commander-js/extra-typings";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("init")
    .description("create (or with --force rebuild) a named Python or R environment")
    .option("--name <name>", "environment name (default venvoy-env)")
    .option("--runtime <runtime>", "python or r (default python)")
    .option("--python-version <version>", "Python 3.9 to 3.13 (default 3.11)")
    .option("--r-version <version>", "R 4.2 to 4.5 (default 4.4; with --base-image, the R it has)")
    .option(
      "--base-image <image>",
      "base image (default python:<ver>-slim, or rocker/r-ver:<ver> for R); pinned on first use",
    )
    .option("--requirements <file>", "install these packages (requirements.txt; R: one per line)")
    .option("--force", "rebuild an existing environment (keeps its history, vendor/ and persist/)")
    .option(
      "--offline",
      "with --force: rebuild from vendor/ (venvoy freeze) with networking disabled",
    )
    .option(
      "--as-of <date>",
      "resolve Python packages as the index was on YYYY-MM-DD (00:00 UTC); 'none' drops it",
    )
    .option(
      "--cran-url <url>",
      "R: CRAN repository; {date} becomes the --as-of date (e.g. https://packagemanager.posit.co/cran/{date})",
    )
    .addHelpText(
      "after",
      `
Examples:
  venvoy init                                    Python 3.11 environment 'venvoy-env'
  venvoy init --name paper --as-of 2024-06-30 --requirements requirements.txt
                                                 packages as PyPI was on that day
  venvoy init --runtime r --name biostat --as-of 2024-06-30 \\
    --cran-url https://packagemanager.posit.co/cran/{date}
  venvoy init --name study --python-version 3.12 --requirements requirements.txt
  venvoy init --runtime r --r-version 4.4 --name biostat
  venvoy init --name lab --base-image registry.example.org/mirror/python:3.11-slim
  venvoy init --name study --force               rebuild after editing requirements.txt
  venvoy freeze --name study && venvoy init --name study --force --offline
                                                 rebuild with no network at all

The environment folder is $VENVOY_HOME/environments/<name>/ (config.yaml, Dockerfile,
requirements.txt, requirements-dev.txt, vendor/, persist/). Packages you add to
requirements.txt are installed by the next \`venvoy init --force\`.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, init } = await import("./init_action.ts");
      await init(makeContext(cmd.optsWithGlobals()), opts);
    });
}
