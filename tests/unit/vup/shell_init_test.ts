import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { shellInit } from "../../../src/commands/shell_init_action.ts";

const vupBash = fileURLToPath(new URL("../../../shell/vup.bash", import.meta.url));

Deno.test("shell-init bash prints shell/vup.bash, embedded", async () => {
  assertEquals(shellInit("bash"), await Deno.readTextFile(vupBash));
  assert(shellInit("bash").includes("\nvup() {"));
  assert(shellInit("bash").includes("complete -F _vup_complete vup"));
});

Deno.test("shell-init zsh and fish say vup is bash-only and define nothing", () => {
  for (const sh of ["zsh", "fish"] as const) {
    const text = shellInit(sh);
    assert(text.includes("bash-only"), text);
    for (const line of text.split("\n")) assert(line === "" || line.startsWith("#"), line);
  }
});

Deno.test("eval of shell-init bash defines vup and spawns nothing", async () => {
  // PATH is emptied: any command the file ran at source time would fail.
  const script =
    `PATH=/nonexistent; set -u; eval "$1"; declare -F vup _vup_core >/dev/null && complete -p vup`;
  const res = await new Deno.Command("bash", {
    args: ["--noprofile", "--norc", "-c", script, "bash", shellInit("bash")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(res.stderr);
  assertEquals(err, "");
  assert(res.success);
  assertEquals(new TextDecoder().decode(res.stdout), "complete -F _vup_complete vup\n");
});
