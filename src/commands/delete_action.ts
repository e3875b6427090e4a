/** The work of `venvoy delete`, loaded once by its action (src/commands/delete.ts). */
import type { CommandContext } from "./context.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { deleteEnv } from "../env/manage.ts";
import { loadEnv } from "../env/store.ts";
import { info } from "../ui/output.ts";
import { canAsk, confirm } from "../ui/prompt.ts";
export { makeContext } from "./context.ts";

export async function deleteCommand(
  ctx: CommandContext,
  name: string,
  opts: { force?: boolean; purge?: boolean },
): Promise<void> {
  const env = await loadEnv(ctx.paths, name);
  if (!opts.force) {
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
