/** The work of `venvoy sbom`, loaded once by its action (src/commands/sbom.ts). */
import type { SbomCommandOptions } from "./sbom.ts";
import type { CommandContext } from "./context.ts";
import { VERSION } from "../version.ts";
import { sbomOfEnv } from "../sbom/env.ts";
import { info, out } from "../ui/output.ts";
export { makeContext } from "./context.ts";

export async function sbomCommand(
  ctx: CommandContext,
  opts: SbomCommandOptions & { positional?: string; venvoyVersion?: string },
): Promise<void> {
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
