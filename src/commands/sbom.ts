import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";

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
  const { loadEnv, pickEnvName } = await import("../env/store.ts");
  const { imageFor, runtimeFor } = await import("../session/mod.ts");
  const { hostUser } = await import("../env/host.ts");
  const { writeFileAtomic } = await import("../env/config.ts");
  const { generateSbom } = await import("../sbom/mod.ts");
  const { info, out } = await import("../ui/output.ts");
  const { resolve } = await import("node:path");
  const venvoyVersion = opts.venvoyVersion ?? (await import("../version.ts")).VERSION;
  const name = await pickEnvName(
    ctx.paths,
    { positional: opts.positional, flag: opts.name },
    (m) => info(`venvoy: ${m}`),
  );
  const env = await loadEnv(ctx.paths, name);
  const runtime = await runtimeFor(ctx, env);
  const image = imageFor(runtime, env);
  const res = await generateSbom({
    runtime,
    envDir: env.dir,
    config: env.config,
    image,
    venvoyVersion,
    user: hostUser(),
  });
  const c = res.counts;
  const summary =
    `${c.total} components: ${c.os} OS, ${c.python} Python, ${c.r} R, ${c.conda} conda`;
  if (opts.output) {
    const path = resolve(opts.output);
    await writeFileAtomic(path, res.text);
    info(`Wrote ${path} (CycloneDX 1.5, ${summary})`);
  } else {
    out(res.text.replace(/\n$/, ""));
    info(`CycloneDX 1.5 SBOM of '${name}': ${summary}`);
  }
}
