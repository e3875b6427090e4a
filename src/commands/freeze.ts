import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";

export interface FreezeCommandOptions {
  name?: string;
  includeDev?: boolean;
}

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("freeze")
    .description("vendor every package as wheels and lock their hashes, for offline rebuilds")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .option("--include-dev", "also vendor the packages of requirements-dev.txt")
    .addHelpText(
      "after",
      `
Downloads every Python package of the environment's current state into its vendor/
folder as wheels (a package with only a source distribution is built into a wheel inside
the environment's image, so it fits its platform), and writes requirements.lock with
their sha256 hashes (pip's --require-hashes format). Packages not installed from the
index (a local wheel or sdist, a git checkout, an editable project: PEP 610
direct_url.json) get their wheel from their origin: a local wheel is copied, anything
else is built in the image; where the origin is gone, the wheel is rebuilt from the
installed files (an editable project needs its folder). R source packages are kept in
vendor/R where the index has them. Afterwards the environment rebuilds with no network:

  venvoy init --name NAME --force --offline      (builds with networking disabled)

Examples:
  venvoy freeze                                  the only environment
  venvoy freeze --name study --include-dev
  venvoy freeze --name study && venvoy init --name study --force --offline`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await freeze(makeContext(cmd.optsWithGlobals()), opts);
    });
}

export async function freeze(ctx: CommandContext, opts: FreezeCommandOptions): Promise<void> {
  const { freezeEnv } = await import("../snapshot/freeze_run.ts");
  const { info, isTty, out, warn } = await import("../ui/output.ts");
  const { formatBytes } = await import("../ui/bytes.ts");
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
