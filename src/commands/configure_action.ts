/** The work of `venvoy configure`, loaded once by its action (src/commands/configure.ts). */
import type { CommandContext } from "./context.ts";
import type { Editor } from "../env/global.ts";
import { UsageError } from "../ui/errors.ts";
import { editorFor, readGlobalConfig, writeGlobalConfig } from "../env/global.ts";
import { loadEnv } from "../env/store.ts";
import { info, out } from "../ui/output.ts";
import { canAsk, select } from "../ui/prompt.ts";
export { makeContext } from "./context.ts";

export function parseEditor(value: string): Editor {
  if (value === "cursor" || value === "code" || value === "none") return value;
  throw new UsageError(`unknown editor '${value}'`, { hint: "use --editor cursor, code or none" });
}

/** null when the folder is (or can be made) writable, else why not. */
export async function writableFolder(dir: string): Promise<string | null> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.venvoy-write-test-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function configure(
  ctx: CommandContext,
  opts: { name?: string; editor?: string },
): Promise<void> {
  if (opts.name) await loadEnv(ctx.paths, opts.name);
  const cfg = await readGlobalConfig(ctx.paths);
  let editor: Editor;
  if (opts.editor) {
    editor = parseEditor(opts.editor);
  } else if (canAsk()) {
    editor = await select(
      `Open which editor on \`venvoy run${opts.name ? ` ${opts.name}` : ""}\`?`,
      {
        default: opts.name ? editorFor(cfg, opts.name) : cfg.editor ?? "none",
        choices: [
          { value: "cursor" as const, name: "Cursor" },
          { value: "code" as const, name: "VS Code" },
          { value: "none" as const, name: "none: an interactive shell" },
        ],
      },
    );
  } else {
    const current = opts.name ? editorFor(cfg, opts.name) : cfg.editor ?? "none";
    // Never wait for input that cannot come: show the setting and how to change it.
    out(`editor: ${current}${opts.name ? ` (for ${opts.name})` : ""}`);
    info("no terminal to ask on: change it with venvoy configure --editor cursor|code|none");
    return;
  }
  if (opts.name) {
    cfg.environments = { ...cfg.environments, [opts.name]: { editor } };
  } else {
    cfg.editor = editor;
  }
  await writeGlobalConfig(ctx.paths, cfg);
  out(`editor: ${editor}${opts.name ? ` (for ${opts.name})` : " (default)"}`);
}
