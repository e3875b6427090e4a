/** $VENVOY_HOME/config.yaml: global defaults written by `setup` and `configure`. */
import { parse, stringify } from "yaml";
import { writeFileAtomic } from "../util/atomic.ts";
import type { StatePaths } from "./paths.ts";

export type Editor = "cursor" | "code" | "none";
export const EDITORS: readonly Editor[] = ["cursor", "code", "none"];

export interface GlobalConfig {
  /** Default editor for `venvoy run` without --command. */
  editor?: Editor;
  /** Default engine for new environments (VENVOY_ENGINE and --engine win). */
  engine?: string;
  /** Per-environment editor choices (configure --name). */
  environments?: Record<string, { editor?: Editor }>;
  setup_done?: string;
}

export async function readGlobalConfig(paths: StatePaths): Promise<GlobalConfig> {
  try {
    const data = parse(await Deno.readTextFile(paths.globalConfig));
    return data && typeof data === "object" ? data as GlobalConfig : {};
  } catch {
    return {};
  }
}

export async function writeGlobalConfig(paths: StatePaths, cfg: GlobalConfig): Promise<void> {
  await writeFileAtomic(
    paths.globalConfig,
    "# venvoy global settings; written by `venvoy setup` and `venvoy configure`\n" +
      stringify(cfg, { lineWidth: 0 }),
  );
}

export function editorFor(cfg: GlobalConfig, name: string): Editor {
  return cfg.environments?.[name]?.editor ?? cfg.editor ?? "none";
}
