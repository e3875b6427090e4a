/**
 * The one process vup-core starts: `python3 -m venv <path>` for `vup new`.
 *
 * Exception to the rule that only src/process spawns processes: vup-core is the instant path
 * and must not load the rest of venvoy (the ProcessRunner seam pulls in node:path), so it
 * keeps this tiny helper of its own. Python's own output goes to stderr; stdout carries only
 * vup-core's result.
 */
import type { MakeVenv } from "./core.ts";

export const makeVenvWithPython: MakeVenv = async (path) => {
  let res: Deno.CommandOutput;
  try {
    res = await new Deno.Command("python3", {
      args: ["-m", "venv", path],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return "python3 was not found on PATH; install Python 3 with its venv module";
    }
    return `cannot run python3: ${(e as Error).message}`;
  }
  if (res.stdout.length) Deno.stderr.writeSync(res.stdout);
  return res.success ? null : `python3 -m venv exited with status ${res.code}`;
};
