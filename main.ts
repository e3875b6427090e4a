/**
 * venvoy's entry point, and the only place that exits.
 *
 * `venvoy vup-core …` (or the binary invoked as `vup-core`) takes a fast path that never
 * loads the command framework: vup runs on every venv activation. So does a plain
 * `venvoy run` (src/commands/run_main.ts), which batch jobs call thousands of times.
 */
import { vupCoreArgs } from "./src/vup/route.ts";

const args = Deno.args;

async function main(): Promise<number> {
  const vupArgs = vupCoreArgs(args);
  if (vupArgs) {
    const { vupCoreMain } = await import("./src/vup/mod.ts");
    return await vupCoreMain(vupArgs);
  }
  const debug = args.includes("--debug");
  // A closed pipe ends venvoy quietly with 141 (ui/errors.ts; not loaded before: vup-core
  // loads nothing from outside src/vup).
  const { EXIT_BROKEN_PIPE, isBrokenPipe: brokenPipe } = await import("./src/ui/errors.ts");
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
      const { runFast } = await import("./src/commands/run_main.ts");
      const code = await runFast(args.slice(1), debug);
      if (code !== null) return code;
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
