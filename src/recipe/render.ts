/**
 * The one renderer: it owns the layer order (base, setup, venvoy's files, the user's
 * packages, session settings), so unchanged layers stay cached when requirements change.
 */
import dockerfileTemplate from "../../templates/Dockerfile.tmpl" with { type: "text" };
import definitionTemplate from "../../templates/venvoy.def.tmpl" with { type: "text" };
import { type BuildSpec, ENTRY, type Plan, USER } from "./plan.ts";
import { validateName } from "../util/names.ts";
import { fill } from "../util/template.ts";
import {
  checkBuildPath,
  checkImageRef,
  checkLabelKey,
  checkLine,
  checkPythonPackage,
  checkRuntimeVersion,
  checkVariableName,
  checkVenvoyVersion,
} from "../util/grammar.ts";

/**
 * Every value the spec and the plan bring is checked against its grammar before a line is
 * written: a newline in any of them would start a new instruction (Dockerfile) or a new
 * section (`%setup` in a definition runs on the host).
 */
export function checkBuildInputs(spec: BuildSpec, plan: Plan, format: "dockerfile" | "def") {
  validateName(spec.name);
  checkRuntimeVersion("runtime version", spec.version);
  checkVenvoyVersion(spec.venvoyVersion);
  if (spec.uvVersion !== undefined) checkPythonPackage("uv", spec.uvVersion);
  checkImageRef(spec.from, {
    what: "base image",
    sif: format === "def" && spec.bootstrap === "localimage",
  });
  if (spec.bootstrap && !["docker", "docker-daemon", "localimage"].includes(spec.bootstrap)) {
    checkLine("bootstrap", spec.bootstrap);
    throw new Error(`unknown bootstrap '${spec.bootstrap}'`);
  }
  for (const [k, v] of Object.entries(spec.labels)) {
    checkLabelKey(k);
    checkLine(`label ${k}`, v);
  }
  for (const [k, v] of [...plan.env, ...plan.finalEnv]) {
    checkVariableName(k);
    checkLine(`variable ${k}`, v);
  }
  for (const c of [...plan.support, ...plan.packageFiles]) {
    checkBuildPath("build file", c.src);
    checkBuildPath("build destination", c.dest);
  }
  for (const s of [...plan.setup, ...plan.supportSetup, ...plan.packageSteps]) {
    // Steps are venvoy's own text; line continuations are the only line breaks allowed.
    checkLine("build step", s.replaceAll(" \\\n", " "));
  }
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
  checkBuildInputs(spec, plan, "dockerfile");
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
  checkBuildInputs(spec, plan, "def");
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
