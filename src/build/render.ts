/**
 * The one renderer: it owns the layer order (base, setup, venvoy's files, the user's
 * packages, session settings), so unchanged layers stay cached when requirements change.
 */
import dockerfileTemplate from "../../templates/Dockerfile.tmpl" with { type: "text" };
import definitionTemplate from "../../templates/venvoy.def.tmpl" with { type: "text" };
import { type BuildSpec, ENTRY, type Plan, USER } from "./plan.ts";

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (m, key: string) => {
    if (!(key in values)) throw new Error(`template placeholder ${m} has no value`);
    return values[key];
  });
}

/** Docker/Podman ENV value: double-quoted, with $PATH-style references kept. */
function envValue(v: string): string {
  return /^[A-Za-z0-9_./:=$-]+$/.test(v)
    ? v
    : `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function envLine(vars: [string, string][]): string {
  return vars.length === 0
    ? ""
    : `ENV ${vars.map(([k, v]) => `${k}=${envValue(v)}`).join(" \\\n    ")}`;
}

function run(steps: string[]): string {
  return steps.length === 0 ? "" : `RUN set -eu; \\\n    ${steps.join(" && \\\n    ")}`;
}

export function renderDockerfile(spec: BuildSpec, plan: Plan): string {
  const setup = [
    "USER root",
    envLine(plan.env),
    ...plan.support.map((c) => `COPY ${c.src} ${c.dest}`),
    run(plan.setup),
    run(plan.supportSetup),
  ].filter(Boolean).join("\n");
  const packages = [
    ...plan.packageFiles.map((c) => `COPY ${c.src} ${c.dest}`),
    run(plan.packageSteps),
  ].filter(Boolean).join("\n");
  const final = [
    envLine(plan.finalEnv),
    `USER ${USER}`,
    "WORKDIR /workspace",
    `CMD ["${ENTRY}"]`,
  ].join("\n");
  return fill(dockerfileTemplate, {
    VENVOY_VERSION: spec.venvoyVersion,
    NAME: spec.name,
    KIND: plan.kind,
    FROM: spec.from,
    SETUP: setup,
    PACKAGES: packages,
    FINAL: final,
  });
}

function shellQuoteDouble(v: string): string {
  // %environment is sourced by sh: keep $VAR references, escape the rest.
  return `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("`", "\\`")}"`;
}

export function renderDefinition(spec: BuildSpec, plan: Plan): string {
  const allEnv = [...plan.env, ...plan.finalEnv];
  const exports = allEnv.map(([k, v]) => `    export ${k}=${shellQuoteDouble(v)}`);
  // %files copies everything before %post runs; directories copy as a whole.
  const files = [...plan.support, ...plan.packageFiles].map((c) =>
    `    ${c.src.replace(/\/$/, "")} ${c.dest.replace(/\/$/, "")}`
  );
  const post = [
    "    set -eu",
    ...plan.env.map(([k, v]) => `    export ${k}=${shellQuoteDouble(v)}`),
    "    mkdir -p /opt/venvoy/build",
    ...[...plan.setup, ...plan.supportSetup, ...plan.packageSteps].map((s) => `    ${s}`),
  ];
  const labels = Object.entries(spec.labels).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `    ${k} ${v}`);
  return fill(definitionTemplate, {
    VENVOY_VERSION: spec.venvoyVersion,
    NAME: spec.name,
    KIND: plan.kind,
    BOOTSTRAP: spec.bootstrap ?? "docker",
    FROM: spec.from,
    LABELS: labels.join("\n"),
    FILES: files.join("\n"),
    ENVIRONMENT: exports.join("\n"),
    POST: post.join("\n"),
  });
}
