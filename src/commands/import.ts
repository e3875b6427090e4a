import type { Command } from "@commander-js/extra-typings";
import { IMPORT_ACCEPTS } from "../archive/formats.ts";

const SHARED_HELP = `
Nothing in an archive is trusted before every member has been checked against its
manifest (sha256 of each file; no absolute paths, '..', links leading outside, devices or
duplicates). Of the archive's env/, only what venvoy export writes there is taken (the spec
files, vendor/, persist/'s packages); anything else (a config cache, a SIF, a stamp, new
files) is left out and named. An environment of the same name is refused unless --force;
with --force it is replaced and its snapshot history is kept. The image goes into the engine
in use (--engine, VENVOY_ENGINE, or the one detected): docker or podman load it, apptainer
and singularity build a SIF from it. The environment then runs offline with \`venvoy run\`.`;

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("import")
    .description("create an environment from a file made by `venvoy export`")
    .argument(
      "<file>",
      "an environment.yml, a venvoy Dockerfile, tarball or archive, told apart by content",
    )
    .option("-n, --name <new>", "the new environment's name (default: the name in the file)")
    .option("--force", "replace an existing environment of that name (history is kept)")
    .option("--json", "print the result as JSON, for scripts")
    .addHelpText(
      "after",
      `
Accepted today: ${IMPORT_ACCEPTS}. The kind is recognised by content, not by name.

  archive  the image is loaded as it was exported: the same image ID, no network needed.
  yaml     the environment is built again (venvoy init) from the pinned base image, the
           Python version and the pip pins in the file (R: the packages in the renv.lock
           beside it, <file stem>.renv.lock or renv.lock). This needs the base image
           and the package index; pins that could not be met are reported.
  Dockerfile
           one written by \`venvoy export --format dockerfile\` (its org.venvoy.* labels
           say so) is rebuilt the same way, from its base pin and its pinned packages,
           into an environment with sessions and snapshots. Any other Dockerfile is
           refused: build it with docker build or podman build directly.
${SHARED_HELP}

Examples:
  venvoy import study-archive-20250301_101500.tar.gz
  venvoy import study-archive-20250301_101500.tar.gz --name study-2019
  venvoy import environment.yml --name study
  venvoy import study.Dockerfile --name study-rebuilt
  venvoy --engine apptainer import study-archive-20250301_101500.tar.gz   on a cluster
  venvoy import study.tar.gz --force --json | jq -r .name`,
    )
    .action(async (file, opts, cmd) => {
      const { makeContext, importCommand } = await import("./import_action.ts");
      await importCommand(makeContext(cmd.optsWithGlobals()), file, opts, { archiveOnly: false });
    });

  program
    .command("import-archive")
    .description("create an environment from an archive made by `venvoy export --format archive`")
    .argument("<file>", "the .tar.gz archive")
    .option("-n, --name <new>", "the new environment's name (default: the name in the archive)")
    .option("--force", "replace an existing environment of that name (history is kept)")
    .option("--json", "print the result as JSON, for scripts")
    .addHelpText(
      "after",
      `${SHARED_HELP}

Examples:
  venvoy import-archive study-archive-20250301_101500.tar.gz
  venvoy import-archive study.tar.gz --name study-copy
  venvoy --engine docker import-archive study.tar.gz --force`,
    )
    .action(async (file, opts, cmd) => {
      const { makeContext, importCommand } = await import("./import_action.ts");
      await importCommand(makeContext(cmd.optsWithGlobals()), file, opts, { archiveOnly: true });
    });
}
