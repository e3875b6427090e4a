/** The work of `venvoy shell-init`, loaded once by its action (src/commands/shell_init.ts). */
import vupBash from "../../shell/vup.bash" with { type: "text" };
import type { ShellName as Shell } from "../release/rc_block.ts";
export { isShellName } from "../release/rc_block.ts";

export function shellInit(shell: Shell): string {
  if (shell === "bash") return vupBash.endsWith("\n") ? vupBash : vupBash + "\n";
  return [
    `# venvoy shell-init ${shell}: vup (the venv function) is bash-only for now.`,
    `# Nothing is defined for ${shell}; in bash use: eval "$(venvoy shell-init bash)"`,
    "",
  ].join("\n");
}
