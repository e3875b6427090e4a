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
      const { withCompletion } = await import("./completions_action.ts");
      await withCompletion(rebuild(), [], ["completions", shell]);
    });
  program
    .command("complete", { hidden: true })
    .description("completion candidates for the words after --, one per line (used by scripts)")
    .argument("[words...]")
    .allowUnknownOption()
    .action(async (words) => {
      const { complete } = await import("./completions_action.ts");
      await complete(rebuild(), words);
    });
}
