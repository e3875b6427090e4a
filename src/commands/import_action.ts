/** The work of `venvoy import`, loaded once by its action (src/commands/import.ts). */
import type { CommandContext } from "./context.ts";
import type { ImportOptions, ImportOutcome } from "../archive/import_env.ts";
import { VERSION } from "../version.ts";
import { importEnv } from "../archive/import_env.ts";
import { info, out, printJson, warn } from "../ui/output.ts";
import { printable } from "../ui/errors.ts";
export { makeContext } from "./context.ts";

/** The --json shape (snake_case, like every --json; docs/json.md). */
export function importJson(res: ImportOutcome) {
  return {
    format: res.format,
    name: res.name,
    env_dir: res.envDir,
    engine: res.engine,
    image: res.image,
    image_id: res.imageId,
    ...(res.from ? { from: res.from } : {}),
    snapshots: res.snapshots,
    unmet: res.unmet,
    ...(res.dropped ? { dropped: res.dropped } : {}),
  };
}

export async function importCommand(
  ctx: CommandContext,
  file: string,
  opts: ImportOptions,
  mode: { archiveOnly: boolean },
): Promise<void> {
  const res = await importEnv(ctx, file, opts, {
    archiveOnly: mode.archiveOnly,
    note: (m) => info(`venvoy: ${m}`),
    warn,
    venvoyVersion: VERSION,
  });
  if (opts.json) return printJson(importJson(res));
  out(printable(res.envDir));
  // The origin is the archive's word (manifest.json): escaped, like every string from it.
  const p = (s: string) => printable(String(s), 200);
  const origin = res.from
    ? ` (exported ${p(res.from.created)} from ${p(res.from.engine)} by venvoy ${
      p(res.from.venvoy_version)
    })`
    : "";
  info(`Imported '${p(res.name)}'${origin} into ${res.engine}: ${p(res.image)}`);
  info(`Next: venvoy run ${res.name}`);
}
