/** The work of `venvoy freeze`, loaded once by its action (src/commands/freeze.ts). */
import type { FreezeCommandOptions } from "./freeze.ts";
import type { CommandContext } from "./context.ts";
import { freezeEnv } from "../snapshot/freeze_run.ts";
import { info, isTty, out, warn } from "../ui/output.ts";
import { formatBytes } from "../ui/bytes.ts";
export { makeContext } from "./context.ts";

export async function freeze(ctx: CommandContext, opts: FreezeCommandOptions): Promise<void> {
  const res = await freezeEnv({
    runner: ctx.runner,
    paths: ctx.paths,
    engine: ctx.engine,
    note: (m) => info(m.startsWith("using ") ? `venvoy: ${m}` : m),
    tty: isTty("stderr"),
  }, opts);
  if (res.devSkipped.length) {
    info(
      `Left out ${res.devSkipped.length} dev package(s) (use --include-dev): ${
        res.devSkipped.map((p) => p.name).join(", ")
      }`,
    );
  }
  for (const d of res.direct) {
    const how = {
      copied: `copied from ${d.from}`,
      built: `built from ${d.from}`,
      reconstructed: `rebuilt from its installed files (${d.why ?? "no origin"})`,
    }[d.how];
    info(`${d.name}==${d.version} is not from the index: ${how}`);
  }
  if (res.r.unavailable.length) {
    warn(
      `R source packages the index does not have (an offline rebuild cannot reinstall them): ${
        res.r.unavailable.join(", ")
      }`,
    );
  }
  info(
    `Froze '${res.name}': ${res.python.length} Python wheel(s)${
      res.r.saved.length ? `, ${res.r.saved.length} R source package(s)` : ""
    }, vendor/ is ${
      formatBytes(res.vendorBytes)
    }. Offline rebuild: venvoy init --name ${res.name} --force --offline`,
  );
  out(res.lock);
}
