/**
 * `venvoy run` as batch jobs and array tasks call it, thousands of times: main.ts's fast
 * path for plain `run` arguments (parseRunArgs), which skips the command framework.
 *
 * It formats its own errors, so the single-file build can bundle this module whole, as one
 * file with everything it may load (scripts/bundle.ts): a session then loads one module
 * instead of the ~30 chunks its code is otherwise split into (~8 ms of CPU per session), and
 * an error is judged by the same module copy that threw it.
 */
import { parseRunArgs } from "./run.ts";
import { makeContext, run } from "./run_action.ts";
import { EXIT_BROKEN_PIPE, isBrokenPipe } from "../ui/errors.ts";
import { formatError, info } from "../ui/output.ts";

/** `venvoy run ARGS`'s exit code; null when ARGS need the command framework (nothing ran). */
export async function runFast(args: string[], debug: boolean): Promise<number | null> {
  const opts = parseRunArgs(args);
  if (!opts) return null;
  try {
    await run(makeContext({}), opts);
    return 0;
  } catch (err) {
    if (isBrokenPipe(err)) return EXIT_BROKEN_PIPE;
    const { text, exitCode } = formatError(err, debug);
    if (text) info(text);
    return exitCode;
  }
}
