import type { Command } from "@commander-js/extra-typings";
import type { CommandContext } from "./context.ts";

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("package-managers")
    .description("what pip, uv, mamba and R are for, and which an environment has")
    .option("--name <name>", "show which managers this environment has")
    .addHelpText(
      "after",
      `
Examples:
  venvoy package-managers
  venvoy package-managers --name study`,
    )
    .action(async (opts, cmd) => {
      const { makeContext } = await import("./context.ts");
      await packageManagersCommand(makeContext(cmd.optsWithGlobals()), opts);
    });
}

export async function packageManagersCommand(
  ctx: CommandContext,
  opts: { name?: string },
): Promise<void> {
  const { packageManagers } = await import("../env/manage.ts");
  const { loadEnv } = await import("../env/store.ts");
  const { out } = await import("../ui/output.ts");
  const env = opts.name ? await loadEnv(ctx.paths, opts.name) : null;
  const managers = await packageManagers(env);
  const lines: string[] = [];
  for (const m of managers) {
    const mark = m.present === null
      ? ""
      : m.present
      ? `  [in ${env!.name}]`
      : `  [not in ${env!.name}]`;
    lines.push(`${m.name}${mark}`, `  ${m.for}`, ...m.examples.map((e) => `    $ ${e}`), "");
  }
  lines.push(
    "Installed in a session, packages are kept in the environment's persist/ folder and",
    "are there next time; add them to requirements.txt and `venvoy init --force` to bake",
    "them into the image.",
  );
  out(lines.join("\n"));
}
