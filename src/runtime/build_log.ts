/** Run a long build with its output kept in a log file; a failure shows the tail and path. */
import { dirname } from "../util/path.ts";
import type { ProcessRunner, RunRequest } from "../process/mod.ts";
import { lastLines, VenvoyError } from "../ui/errors.ts";

export class BuildError extends VenvoyError {}

export async function runLogged(
  runner: ProcessRunner,
  req: RunRequest,
  options: { what: string; logPath?: string },
): Promise<void> {
  const res = await runner.run({ ...req, stdout: "piped", stderr: "piped" });
  const log = res.stdout + (res.stderr ? `\n${res.stderr}` : "");
  if (options.logPath) {
    await Deno.mkdir(dirname(options.logPath), { recursive: true });
    await Deno.writeTextFile(options.logPath, log);
  }
  if (res.code !== 0) {
    const tail = lastLines(log, 15);
    throw new BuildError(`${options.what} failed (exit ${res.code}):\n${tail}`, {
      hint: options.logPath
        ? `the full build log is at ${options.logPath}`
        : "re-run with --debug for more detail",
    });
  }
}
