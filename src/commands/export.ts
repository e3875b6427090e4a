import { type Command, Option } from "@commander-js/extra-typings";
import type { ExportOptions } from "../archive/export_env.ts";
import { EXPORT_FORMATS } from "../archive/formats.ts";

export type { ExportOptions };

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("export")
    .description("write an environment to one file, to share or archive it")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .addOption(
      new Option(
        "--format <format>",
        "yaml: the package list (environment.yml, plus renv.lock for R); " +
          "dockerfile: a standalone Dockerfile; tarball: Dockerfile + wheels, builds offline; " +
          "archive: everything, image included, restorable offline",
      ).choices(EXPORT_FORMATS).makeOptionMandatory(),
    )
    .option(
      "-o, --output <path>",
      "the file to write, or a folder for it (default: <name>-<format>-YYYYMMDD_HHMMSS.<ext> here)",
    )
    .option("--force", "replace an existing output file")
    .option("--with-sif", "archive: add an Apptainer SIF as well (needs apptainer or singularity)")
    .option("--with-inputs", "archive: add the input files of the run records (venvoy record)")
    .option("--json", "print the result as JSON, for scripts")
    .addHelpText(
      "after",
      `
Formats:
  yaml     the latest snapshot as environment.yml (conda's format; pip pins under pip:),
           and for R environments a renv.lock beside it (<file stem>.renv.lock). The
           environment's current packages are snapshotted first if that is new.
  dockerfile  a standalone Dockerfile: the pinned base and every package at its pinned
           version; plain \`docker build\` or \`podman build\` builds it, no venvoy needed.
           --build-arg PIP_INDEX_URL=URL / PIP_CERT=PATH for a mirror or a proxy's CA.
           Its org.venvoy.* labels let \`venvoy import\` rebuild it as an environment.
  tarball  one .tar.gz: that Dockerfile using vendor/ wheels (venvoy freeze runs first if
           needed), requirements.lock with hashes, environment.yml, the environment's
           config (env/), a README and manifest.json. Extracted, it builds with
           \`podman build --network none .\`; \`venvoy import\` verifies and rebuilds it.
  archive  one .tar.gz: the image as a docker-archive (docker load, podman load, or
           apptainer build), environment.yml and renv.lock, the environment folder,
           manifest.json with every package and checksum, SHA256SUMS, restore.sh (restores
           without venvoy) and a README. See docs/archives.md.

The file is written under a hidden temporary name and renamed when complete. stdout gets
one line per file written, in \`sha256sum\` form (<sha256>  <path>); progress goes to stderr.

Examples:
  venvoy export --format archive                       the only environment, to ./
  venvoy export --name study --format archive -o /archive/
  venvoy export --name study --format yaml -o study.yml --force
  venvoy export --name study --format dockerfile -o Dockerfile
  venvoy export --name study --format tarball        builds offline once extracted
  venvoy export --name study --format archive > SUMS && sha256sum -c SUMS
  venvoy export --name study --format archive --json | jq -r .files[0].path
  venvoy export --name study --format archive --with-sif   also a SIF for HPC clusters

Bring it back with: venvoy import FILE [--name NEW]`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, exportCommand } = await import("./export_action.ts");
      await exportCommand(makeContext(cmd.optsWithGlobals()), opts);
    });
}
