/**
 * venvoy's entry point, and the only place that exits.
 *
 * `venvoy vup-core …` (or the binary invoked as `vup-core`) takes a fast path that never
 * loads the command framework: vup runs on every venv activation.
 */
const args = Deno.args;

function invokedAsVupCore(): boolean {
  const names = [Deno.mainModule, Deno.execPath()].map((p) =>
    decodeURIComponent(p.split(/[\\/]/).pop() ?? "")
  );
  return names.some((n) => n === "vup-core" || n === "vup-core.exe");
}

async function main(): Promise<number> {
  if (args[0] === "vup-core" || invokedAsVupCore()) {
    const { vupCoreMain } = await import("./src/vup/mod.ts");
    return await vupCoreMain(args[0] === "vup-core" ? args.slice(1) : args);
  }
  const debug = args.includes("--debug");
  try {
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
