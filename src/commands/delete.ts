import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("delete")
    .description("remove an environment, its image and containers (snapshot history is kept)")
    .argument("<name>", "environment to remove")
    .option("--force", "do not ask")
    .option("--purge", "also remove its snapshot history in $VENVOY_PROJECTS")
    .addHelpText(
      "after",
      `
Examples:
  venvoy delete old-study
  venvoy delete old-study --force --purge`,
    )
    .action(async (name, opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await deleteCommand(makeContext(cmd.optsWithGlobals()), name, opts);
    });
}

export async function deleteCommand(
  ctx: CommandContext,
  name: string,
  opts: { force?: boolean; purge?: boolean },
): Promise<void> {
  const { deleteEnv } = await import("../env/manage.ts");
  const { loadEnv } = await import("../env/store.ts");
  const { info } = await import("../ui/output.ts");
  const env = await loadEnv(ctx.paths, name);
  if (!opts.force) {
    const { canAsk, confirm } = await import("../ui/prompt.ts");
    if (!canAsk()) {
      throw new UsageError(`not deleting '${name}' without confirmation (no terminal to ask on)`, {
        hint: `venvoy delete ${name} --force`,
      });
    }
    const what = opts.purge ? "its image, folder and snapshot history" : "its image and folder";
    const ok = await confirm(`Delete '${name}' (${env.dir}), ${what}?`);
    if (!ok) {
      throw new VenvoyError("nothing deleted", { hint: "pass --force to skip the question" });
    }
  }
  const res = await deleteEnv(ctx.runner, ctx.paths, name, { purge: opts.purge });
  for (const r of res.removed) info(`removed ${r}`);
  for (const k of res.kept) info(`kept ${k}`);
  if (!opts.purge) {
    info(`kept the snapshot history in ${ctx.paths.projects}/${name} (--purge removes it)`);
  }
}
