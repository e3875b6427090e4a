import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("setup")
    .description("first-run check: runtime, editors, state folders; stores global defaults")
    .option("--yes", "do not ask; take the detected defaults")
    .option("--editor <editor>", "default editor: cursor, code or none")
    .addHelpText(
      "after",
      `
Examples:
  venvoy setup
  venvoy setup --yes                  non-interactive (CI, install scripts)
  venvoy setup --yes --editor none

Writes $VENVOY_HOME/config.yaml. Never edits your editor's own settings.`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await setup(makeContext(cmd.optsWithGlobals()), opts);
    });
}

export async function setup(
  ctx: CommandContext,
  opts: { yes?: boolean; editor?: string },
): Promise<void> {
  const { detect } = await import("../runtime/detect.ts");
  const { parseEditor, writableFolder } = await import("./configure.ts");
  const { readGlobalConfig, writeGlobalConfig } = await import("../env/global.ts");
  const { out } = await import("../ui/output.ts");
  const { parseEngine } = await import("../runtime/mod.ts");
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
  const { canAsk, select } = await import("../ui/prompt.ts");
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
    const { noRuntimeError } = await import("../runtime/mod.ts");
    throw noRuntimeError(d);
  }
}
