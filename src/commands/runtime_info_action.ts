/** The work of `venvoy runtime_info`, loaded once by its action (src/commands/runtime_info.ts). */
import type { Detection } from "../runtime/detect.ts";
import type { CommandContext } from "./context.ts";
import { detect } from "../runtime/detect.ts";
import { noRuntimeError, parseEngine } from "../runtime/mod.ts";
import { out, printJson, table } from "../ui/output.ts";
export { makeContext } from "./context.ts";

export async function runtimeInfo(ctx: CommandContext, opts: { json?: boolean }): Promise<void> {
  const engine = parseEngine(ctx.engine, "--engine") ??
    parseEngine(ctx.runner.env("VENVOY_ENGINE"), "VENVOY_ENGINE");
  const d = await detect(ctx.runner, { engine });
  if (opts.json) printJson(toJson(d));
  else out(renderText(d, table));
  if (!d.chosen) throw noRuntimeError(d);
}

/** The --json shape (snake_case, like every --json; docs/json.md). */
export function toJson(d: Detection) {
  return {
    runtime: d.runtime,
    configuration: d.chosen?.configuration ?? null,
    reason: d.reason,
    hint: d.hint ?? null,
    forced: d.forced,
    path: d.chosen?.path ?? null,
    version: d.chosen?.version ?? null,
    hpc: {
      detected: d.hpc.hpc,
      scheduler: d.hpc.scheduler,
      in_job: d.hpc.inJob,
      evidence: d.hpc.evidence,
      weak_signals: d.hpc.weakSignals,
    },
    runtimes: d.runtimes.map((r) => ({
      name: r.name,
      path: r.path,
      version: r.version,
      usable: r.usable,
      reason: r.reason,
      backend: r.backend ?? null,
      alias_of: r.aliasOf ?? null,
      configuration: r.configuration ?? null,
      rootless: r.rootless ?? null,
      hint: r.hint ?? null,
    })),
    platform: d.platform,
  };
}

export function renderText(d: Detection, table: (rows: string[][]) => string): string {
  const lines: string[] = [];
  lines.push(
    d.chosen
      ? `Runtime:  ${d.chosen.name} ${d.chosen.version ?? ""} (${d.chosen.path})`.replace(
        "  (",
        " (",
      )
      : "Runtime:  none usable",
  );
  if (d.chosen?.configuration) lines.push(`Engine:   ${d.chosen.configuration}`);
  lines.push(`Why:      ${d.reason}`);
  if (d.hpc.hpc) {
    const job = d.hpc.inJob ? ", inside a job" : "";
    lines.push(`HPC:      yes, scheduler ${d.hpc.scheduler ?? "unknown"}${job}`);
    for (const e of d.hpc.evidence) lines.push(`          evidence: ${e}`);
  } else {
    lines.push("HPC:      no (no scheduler or job variables found)");
  }
  for (const w of d.hpc.weakSignals) lines.push(`          note: ${w}`);
  lines.push(`Platform: ${d.platform.os}/${d.platform.arch}`);
  lines.push("");
  if (d.runtimes.length === 0) {
    lines.push("Runtimes found: none of docker, podman, apptainer, singularity is on PATH");
  } else {
    lines.push("Runtimes found:");
    const rows = [["  NAME", "VERSION", "USABLE", "ENGINE", "PATH", "NOTE"]];
    for (const r of d.runtimes) {
      const usable = r.usable ? "yes" : "no";
      rows.push([
        `  ${r.name}`,
        r.version ?? "?",
        usable,
        r.configuration ?? "",
        r.path,
        r.reason ?? "",
      ]);
    }
    lines.push(table(rows).split("\n").map((l) => l.trimEnd()).join("\n"));
    for (const r of d.runtimes.filter((x) => !x.usable && x.hint)) {
      lines.push(`  hint (${r.name}): ${r.hint}`);
    }
  }
  return lines.join("\n");
}
