/** The work of `venvoy setup`, loaded once by its action (src/commands/setup.ts). */
import type { CommandContext } from "./context.ts";
import { detect } from "../runtime/detect.ts";
import { parseEditor, writableFolder } from "./configure_action.ts";
import { readGlobalConfig, writeGlobalConfig } from "../env/global.ts";
import { out } from "../ui/output.ts";
import { noRuntimeError, parseEngine } from "../runtime/mod.ts";
import { canAsk, select } from "../ui/prompt.ts";
export { makeContext } from "./context.ts";

export async function setup(
  ctx: CommandContext,
  opts: { yes?: boolean; editor?: string },
): Promise<void> {
  const d = await detect(ctx.runner, { engine: parseEngine(ctx.engine, "--engine") });
  const editors = (["cursor", "code"] as const).filter((e) => ctx.runner.which(e));
  const folders = [
    ["VENVOY_HOME", ctx.paths.venvoyHome],
    ["environments", ctx.paths.environments],
    ["VENVOY_PROJECTS", ctx.paths.projects],
  ];
  const lines = [
    `Runtime:  ${
      d.chosen ? `${d.chosen.name} ${d.chosen.version ?? ""}`.trim() : "none usable"
    } (${d.reason})`,
    `Editors:  ${editors.length ? editors.join(", ") : "none found (cursor, code)"}`,
  ];
  for (const [label, dir] of folders) {
    const err = await writableFolder(dir);
    lines.push(`${label.padEnd(16)} ${dir}: ${err ? `NOT writable (${err})` : "writable"}`);
  }
  const cfg = await readGlobalConfig(ctx.paths);
  let editor = opts.editor ? parseEditor(opts.editor) : cfg.editor ?? (editors[0] ?? "none");
  if (!opts.yes && !opts.editor && canAsk()) {
    editor = await select("Open which editor on `venvoy run`?", {
      default: editor,
      choices: [
        {
          value: "cursor" as const,
          name: `Cursor${editors.includes("cursor") ? "" : " (not found)"}`,
        },
        {
          value: "code" as const,
          name: `VS Code${editors.includes("code") ? "" : " (not found)"}`,
        },
        { value: "none" as const, name: "none: an interactive shell" },
      ],
    });
  }
  cfg.editor = editor;
  if (d.chosen) cfg.engine = d.chosen.name;
  cfg.setup_done = new Date().toISOString();
  await writeGlobalConfig(ctx.paths, cfg);
  lines.push(`Editor:   ${editor}`, `Saved:    ${ctx.paths.globalConfig}`);
  out(lines.join("\n"));
  if (!d.chosen) {
    throw noRuntimeError(d);
  }
}
