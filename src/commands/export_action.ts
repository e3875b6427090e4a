/** The work of `venvoy export`, loaded once by its action (src/commands/export.ts). */
import type { CommandContext } from "./context.ts";
import type { ExportOptions } from "../archive/export_env.ts";
import { VERSION } from "../version.ts";
import { exportEnv } from "../archive/export_env.ts";
import { info, out, printJson, warn } from "../ui/output.ts";
import { formatBytes } from "../ui/bytes.ts";
export { makeContext } from "./context.ts";

export async function exportCommand(ctx: CommandContext, opts: ExportOptions): Promise<void> {
  const res = await exportEnv(ctx, opts, {
    note: (m) => info(`venvoy: ${m}`),
    warn,
    cwd: Deno.cwd(),
    venvoyVersion: VERSION,
  });
  if (opts.json) return printJson(res);
  for (const f of res.files) out(`${f.sha256}  ${f.path}`);
  if (res.included) info(`Included: ${res.included.join(", ")}`);
  if (res.left_out?.length) {
    info(
      `Left out (personal, or not part of the environment): ${res.left_out.map(shown).join(", ")}`,
    );
  }
  const size = formatBytes(res.files.reduce((n, f) => n + f.size, 0));
  info(`Exported '${res.name}' (${res.format}, ${size}). Import it with: venvoy import FILE`);
  if (res.records?.count) {
    const r = res.records;
    info(
      `With ${r.count} run record(s)` +
        (opts.withInputs
          ? ` and their inputs: ${r.input_files} file(s), ${formatBytes(r.input_bytes)}`
          : "") +
        `. Check them with: venvoy verify FILE`,
    );
  }
}

/** A path for the terminal: control characters escaped (JSON-quoted) rather than sent raw. */
function shown(path: string): string {
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u001f\u007f]/.test(path) ? JSON.stringify(path) : path;
}
