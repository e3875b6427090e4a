/**
 * venvoy's entry point, and the only place that exits.
 *
 * `venvoy vup-core …` (or the binary invoked as `vup-core`) takes a fast path that never
 * loads the command framework: vup runs on every venv activation. So does a plain
 * `venvoy run` (src/commands/run.ts parseRunArgs), which batch jobs call thousands of times.
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
  try {
    if (args[0] === "run") {
      // The hot path of batch jobs: plain `run` arguments skip the command framework.
      const { parseRunArgs, run } = await import("./src/commands/run.ts");
      const opts = parseRunArgs(args.slice(1));
      if (opts) {
        const { makeContext } = await import("./src/commands/context.ts");
        await run(makeContext({}), opts);
        return 0;
      }
    }
    const { runCli } = await import("./src/cli.ts");
    await runCli(args);
    return 0;
  } catch (err) {
    const { formatError, info } = await import("./src/ui/output.ts");
    const { text, exitCode } = formatError(err, debug);
    if (text) info(text);
    return exitCode;
  }
}

Deno.exit(await main());
