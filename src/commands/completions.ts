/**
 * `venvoy completions bash|zsh|fish|powershell` prints a completion script; the script calls
 * the hidden `venvoy complete -- <words>` on every Tab. Both are declared in the command tree
 * (so `completions` shows in --help and `complete` is always known); their actions load the
 * completion library (@bomb.sh/tab) lazily, on a second tree that carries the library's own
 * commands, so no other command pays for it.
 */
import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../ui/errors.ts";

export const COMPLETION_SHELLS = ["bash", "zsh", "fish", "powershell"] as const;

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

export function register(
  program: Command<[], { engine?: string; debug?: true }>,
  // A fresh tree without these two commands, for the library to complete from.
  rebuild: () => Command,
) {
  program
    .command("completions")
    .description("print a shell completion script (bash, zsh, fish or powershell)")
    .argument("<shell>", COMPLETION_SHELLS.join(", "))
    .addHelpText(
      "after",
      `
Examples:
  venvoy completions bash > ~/.local/share/bash-completion/completions/venvoy
  venvoy completions zsh > "\${fpath[1]}/_venvoy"
  venvoy completions fish > ~/.config/fish/completions/venvoy.fish`,
    )
    .action(async (shell) => {
      if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
        throw new UsageError(`unsupported shell '${shell}'`, {
          hint: `use one of ${COMPLETION_SHELLS.join(", ")}`,
        });
      }
      await withCompletion(rebuild(), [], ["completions", shell]);
    });
  program
    .command("complete", { hidden: true })
    .description("completion candidates for the words after --, one per line (used by scripts)")
    .argument("[words...]")
    .allowUnknownOption()
    .action(async (words) => {
      const { statePaths } = await import("../env/paths.ts");
      const { listEnvNames } = await import("../env/store.ts");
      let names: string[] = [];
      try {
        names = await listEnvNames(statePaths());
      } catch {
        // No readable state folder: complete without environment names.
      }
      await withCompletion(rebuild(), names, ["complete", "--", ...words]);
    });
}

async function withCompletion(tree: Command, envNames: string[], argv: string[]): Promise<void> {
  const { default: tab } = await import("@bomb.sh/tab/commander");
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
