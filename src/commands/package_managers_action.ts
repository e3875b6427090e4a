/** The work of `venvoy package_managers`, loaded once by its action (src/commands/package_managers.ts). */
import type { CommandContext } from "./context.ts";
import type { ManagerInfo } from "../env/manage.ts";
import { packageManagers } from "../env/manage.ts";
import { loadEnv } from "../env/store.ts";
import { out, printJson } from "../ui/output.ts";
export { makeContext } from "./context.ts";

export async function packageManagersCommand(
  ctx: CommandContext,
  opts: { name?: string; json?: boolean },
): Promise<void> {
  const env = opts.name ? await loadEnv(ctx.paths, opts.name) : null;
  const managers = await packageManagers(env);
  if (opts.json) return printJson(packageManagersJson(env, managers));
  const lines: string[] = [];
  for (const m of managers) {
    const mark = m.present === null
      ? ""
      : m.present
      ? `  [in ${env!.name}]`
      : `  [not in ${env!.name}]`;
    lines.push(`${m.name}${mark}`, `  ${m.for}`, ...m.examples.map((e) => `    $ ${e}`), "");
  }
  lines.push(...asOfLines(env?.config.as_of ?? null, managers));
  lines.push(
    "Installed in a session, packages are kept in the environment's persist/ folder and",
    "are there next time; add them to requirements.txt and `venvoy init --force` to bake",
    "them into the image.",
  );
  out(lines.join("\n"));
}

/** The --json shape (snake_case, like every --json; docs/json.md). */
export function packageManagersJson(
  env: { name: string; config: { as_of?: string | null } } | null,
  managers: ManagerInfo[],
) {
  const asOf = env?.config.as_of ?? null;
  return {
    environment: env?.name ?? null,
    as_of: asOf,
    managers: managers.map((m) => ({
      name: m.name,
      for: m.for,
      examples: m.examples,
      present: m.present,
      version: m.version ?? null,
    })),
  };
}

/** pip 26.0 added --uploaded-prior-to (PIP_UPLOADED_PRIOR_TO); older pip ignores the date. */
export function pipHonoursDate(version: string | undefined): boolean {
  const m = /^(\d+)/.exec(version ?? "");
  return !!m && Number(m[1]) >= 26;
}

/** Which installer honours `venvoy init --as-of`, for this environment or in general. */
export function asOfLines(
  asOf: string | null,
  managers: { name: string; version?: string }[],
): string[] {
  const pip = managers.find((m) => m.name === "pip");
  const head = asOf
    ? `As of ${asOf} (venvoy init --as-of): packages resolve as the index was at 00:00 UTC that day.`
    : "With venvoy init --as-of YYYY-MM-DD, packages resolve as the index was on that date:";
  const pipLine = asOf && pip?.version
    ? pipHonoursDate(pip.version)
      ? `  pip ${pip.version} honours it too (PIP_UPLOADED_PRIOR_TO).`
      : `  pip ${pip.version} does NOT honour it (pip 26.0 or later does): use uv pip install.`
    : "  pip honours it from pip 26.0 (PIP_UPLOADED_PRIOR_TO); older pip ignores it.";
  return [
    head,
    "  uv honours it always (UV_EXCLUDE_NEWER); the build installs requirements with uv.",
    pipLine,
    "  mamba/conda and R do not; for R give a dated CRAN snapshot (--cran-url .../{date}).",
    "",
  ];
}
