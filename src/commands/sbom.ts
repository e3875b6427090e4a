import type { Command } from "@commander-js/extra-typings";

export interface SbomCommandOptions {
  name?: string;
  output?: string;
}

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("sbom")
    .description("a CycloneDX 1.5 JSON bill of materials of an environment")
    .argument("[name]", "the environment (default: the only one there is)")
    .option("-n, --name <name>", "the environment (same as the argument)")
    .option("-o, --output <file>", "write it to FILE instead of stdout")
    .addHelpText(
      "after",
      `
Lists every component: the OS packages (dpkg, rpm or apk, asked of the image), every
Python distribution in the image and in persist/ (pkg:pypi, with the wheel hashes of
requirements.lock after \`venvoy freeze\`), R packages (pkg:cran), conda packages
(pkg:conda), the base image (pkg:oci with its digest), and venvoy as the tool. The same
environment gives the same bytes: no timestamp, and a serialNumber derived from the
content. Every \`venvoy export --format archive\` or \`tarball\` carries it as sbom.cdx.json.

Examples:
  venvoy sbom --name study > study.cdx.json
  venvoy sbom study --output study.cdx.json`,
    )
    .action(async (name, opts, cmd) => {
      const { makeContext, sbomCommand } = await import("./sbom_action.ts");
      await sbomCommand(makeContext(cmd.optsWithGlobals()), { ...opts, positional: name });
    });
}
