/** The work of `venvoy init`, loaded once by its action (src/commands/init.ts). */
import type { CommandContext } from "./context.ts";
import type { InitOptions } from "../env/init.ts";
import { initEnv } from "../env/init.ts";
import { info, out } from "../ui/output.ts";
import { VERSION } from "../version.ts";
import { captureEnvSnapshot } from "../snapshot/env_hooks.ts";
export { makeContext } from "./context.ts";

export async function init(ctx: CommandContext, opts: InitOptions): Promise<void> {
  const started = performance.now();
  const res = await initEnv({
    runner: ctx.runner,
    paths: ctx.paths,
    engine: ctx.engine,
    venvoyVersion: VERSION,
    note: info,
    recordSnapshot: (env, projects) => captureEnvSnapshot(env, projects),
  }, opts);
  const c = res.config;
  const version = c.runtime === "python" ? `Python ${c.python_version}` : `R ${c.r_version}`;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  info(
    `${
      res.unchanged ? "Unchanged (build cache)" : "Built"
    } in ${secs} s: ${c.name} (${version}, ${c.engine}, base ${c.base_image_pinned})`,
  );
  out(res.dir);
  info(`Next: venvoy run ${c.name}`);
}
