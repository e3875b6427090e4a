import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("list")
    .description("list environments: version, engine, built, size, created, last snapshot, running")
    .option("--json", "print JSON, for scripts")
    .addHelpText(
      "after",
      `
Examples:
  venvoy list
  venvoy list --json | jq -r '.[].name'`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await list(makeContext(cmd.optsWithGlobals()), opts);
    });
}

export async function list(ctx: CommandContext, opts: { json?: boolean }): Promise<void> {
  const { listEnvs, listTable } = await import("../env/manage.ts");
  const { info, out, printJson, table } = await import("../ui/output.ts");
  const rows = await listEnvs(ctx.runner, ctx.paths);
  if (opts.json) return printJson(rows);
  if (rows.length === 0) {
    info("No environments yet. Create one with: venvoy init --name my-project");
    return;
  }
  out(table(listTable(rows)));
}
