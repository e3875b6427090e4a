/**
 * `venvoy shell-init bash|zsh|fish`: prints shell code to eval from the shell's rc file.
 *
 * bash gets the `vup` function and its completion (shell/vup.bash, embedded in the binary so
 * dist/venvoy needs no source tree). vup is bash-only for now: zsh and fish get a comment
 * saying so and no code, so eval'ing their output is harmless.
 */
import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../ui/errors.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("shell-init")
    .description("print shell code for your rc file: the vup venv function (bash)")
    .argument("<shell>", `bash, zsh or fish`)
    .addHelpText(
      "after",
      `
Examples:
  echo 'eval "$(venvoy shell-init bash)"' >> ~/.bashrc

vup is bash-only for now: for zsh and fish this prints a comment and no code.`,
    )
    .action(async (shell) => {
      const { isShellName, shellInit } = await import("./shell_init_action.ts");
      if (!isShellName(shell)) {
        throw new UsageError(`unsupported shell '${shell}'`, { hint: "use bash, zsh or fish" });
      }
      const enc = new TextEncoder();
      Deno.stdout.writeSync(enc.encode(shellInit(shell)));
    });
}
