import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";
import { VERSION } from "../version.ts";

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
content. Every \`venvoy export --format archive\` carries it as sbom.cdx.json.

Examples:
  venvoy sbom --name study > study.cdx.json
  venvoy sbom study --output study.cdx.json`,
    )
    .action(async (name, opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await sbomCommand(makeContext(cmd.optsWithGlobals()), { ...opts, positional: name });
    });
}

export async function sbomCommand(
  ctx: CommandContext,
  opts: SbomCommandOptions & { positional?: string; venvoyVersion?: string },
): Promise<void> {
  const { sbomOfEnv } = await import("../sbom/env.ts");
  const { info, out } = await import("../ui/output.ts");
  const res = await sbomOfEnv(ctx, {
    positional: opts.positional,
    name: opts.name,
    output: opts.output,
    venvoyVersion: opts.venvoyVersion ?? VERSION,
    note: (m) => info(`venvoy: ${m}`),
  });
  const c = res.counts;
  const summary =
    `${c.total} components: ${c.os} OS, ${c.python} Python, ${c.r} R, ${c.conda} conda`;
  if (res.path) {
    info(`Wrote ${res.path} (CycloneDX 1.5, ${summary})`);
  } else {
    out(res.text.replace(/\n$/, ""));
    info(`CycloneDX 1.5 SBOM of '${res.name}': ${summary}`);
  }
}
