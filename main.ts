/**
 * venvoy's entry point, and the only place that exits.
 *
 * `venvoy vup-core …` (or the binary invoked as `vup-core`) takes a fast path that never
 * loads the command framework: vup runs on every venv activation. So does a plain
 * `venvoy run` (src/commands/run.ts parseRunArgs), which batch jobs call thousands of times.
 */
import { vupCoreArgs } from "./src/vup/route.ts";

const args = Deno.args;

/**
 * The reader of stdout went away (`venvoy list | head -1`). Deno ignores SIGPIPE, so a write
 * fails with EPIPE instead; end quietly with the status a shell reports for SIGPIPE (128+13),
 * as coreutils do. (vup-core has its own: src/vup imports nothing from outside src/vup.)
 */
const EXIT_BROKEN_PIPE = 141;
function brokenPipe(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Deno.errors.BrokenPipe || (e as { code?: unknown }).code === "EPIPE") {
      return true;
    }
  }
  return false;
}

async function main(): Promise<number> {
  const vupArgs = vupCoreArgs(args);
  if (vupArgs) {
    const { vupCoreMain } = await import("./src/vup/mod.ts");
    return await vupCoreMain(vupArgs);
  }
  const debug = args.includes("--debug");
  // Node-style streams (the command framework's help) report EPIPE asynchronously.
  addEventListener("error", (e) => {
    if (brokenPipe(e.error)) {
      e.preventDefault();
      Deno.exit(EXIT_BROKEN_PIPE);
    }
  });
  addEventListener("unhandledrejection", (e) => {
    if (brokenPipe(e.reason)) {
      e.preventDefault();
      Deno.exit(EXIT_BROKEN_PIPE);
    }
  });
  try {
    if (args[0] === "run") {
      // The hot path of batch jobs: plain `run` arguments skip the command framework.
      const { parseRunArgs } = await import("./src/commands/run.ts");
      const opts = parseRunArgs(args.slice(1));
      if (opts) {
        const { makeContext, run } = await import("./src/commands/run_action.ts");
        await run(makeContext({}), opts);
        return 0;
      }
    }
    const { runCli } = await import("./src/cli.ts");
    await runCli(args);
    return 0;
  } catch (err) {
    if (brokenPipe(err)) return EXIT_BROKEN_PIPE;
    const { formatError, info } = await import("./src/ui/output.ts");
    const { text, exitCode } = formatError(err, debug);
    if (text) info(text);
    return exitCode;
  }
}

Deno.exit(await main());
