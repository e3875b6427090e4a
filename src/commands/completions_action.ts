/** The work of `venvoy completions` and `venvoy complete`, loaded once by their actions. */
import type { Command } from "@commander-js/extra-typings";
import tab from "@bomb.sh/tab/commander";
import { statePaths } from "../env/paths.ts";
import { listEnvNames } from "../env/store.ts";

/** Options whose value is an existing environment's name (import's --name is a new one). */
const ENV_NAME_OPTION = "name";
/** Commands whose `name` argument or `--name` option names an existing environment. */
const ENV_NAME_COMMANDS = [
  "configure",
  "delete",
  "export",
  "freeze",
  "history",
  "package-managers",
  "record",
  "restore",
  "run",
  "sbom",
  "submit",
];

/** `venvoy complete -- <words>`: candidates, with the existing environments' names. */
export async function complete(tree: Command, words: string[]): Promise<void> {
  let names: string[] = [];
  try {
    names = await listEnvNames(statePaths());
  } catch {
    // No readable state folder: complete without environment names.
  }
  await withCompletion(tree, names, ["complete", "--", ...words]);
}

export async function withCompletion(
  tree: Command,
  envNames: string[],
  argv: string[],
): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const root = tab(tree as any, { completionCommandName: "completions" });
  const offer = (complete: (value: string, description: string) => void) => {
    for (const n of envNames) complete(n, "environment");
  };
  for (const name of ENV_NAME_COMMANDS) {
    const cmd = root.commands.get(name);
    if (!cmd) continue;
    const arg = cmd.arguments.get("name");
    if (arg) arg.handler = offer;
    const opt = cmd.options.get(ENV_NAME_OPTION);
    if (opt) opt.handler = offer;
  }
  await tree.parseAsync(argv, { from: "user" });
}
