/**
 * `venvoy export --format dockerfile` (and the Dockerfile inside `--format tarball`): one
 * standalone Dockerfile that builds the same environment with plain `docker build` or
 * `podman build`, anywhere, with no venvoy at build time. It starts from the pinned base
 * (overridable with --build-arg BASE=…) and installs the exact package versions of the
 * environment's current state with no dependency resolution.
 *
 *   online  (dockerfile): packages from PyPI / the R repository / conda-forge, pinned;
 *   offline (tarball):    Python wheels from vendor/ checked against requirements.lock's
 *                         hashes and R sources from vendor/R: builds with --network none.
 *
 * The file describes itself: `LABEL org.venvoy.*` (name, runtime, version, base and its pin,
 * online/offline) plus the pinned package list, which parseStandaloneDockerfile() reads back
 * for `venvoy import Dockerfile`. The online form declares `ARG PIP_INDEX_URL` and
 * `ARG PIP_CERT` (empty): set with --build-arg, pip uses a mirror or a proxy's CA bundle.
 */
import { LOCK_FILE, VENDOR } from "./plan.ts";
import { asOfEnv } from "./python.ts";
import { validateName } from "../util/names.ts";
import {
  checkCondaChannel,
  checkCondaPackage,
  checkImageRef,
  checkLine,
  checkPythonPackage,
  checkRPackage,
  checkRuntimeVersion,
  checkUrl,
  checkVenvoyVersion,
  GrammarError,
} from "../util/grammar.ts";

export interface StandalonePkg {
  name: string;
  version: string;
  repository?: string;
}

export interface StandaloneSpec {
  name: string;
  runtime: "python" | "r";
  /** "3.11" / "4.2". */
  version: string | null;
  /** What the environment was built from, as given (for people). */
  baseImage: string;
  /** The pin: a repository digest, or `sha256:<id>` for a local image. */
  basePinned: string;
  venvoyVersion: string;
  /** Python packages to install (pip/setuptools/wheel already left out). */
  python: StandalonePkg[];
  /** R packages the image does not bring at that version. */
  r: StandalonePkg[];
  /** conda packages (online only). */
  conda: StandalonePkg[];
  channels?: string[];
  repositories?: { name: string; url: string }[];
  offline: boolean;
  /** Written into the header comment. */
  created?: string;
  /**
   * `init --as-of`: a label (an import keeps the date), and the variables that make installs
   * in the built image resolve as of that day, set after the pinned installs.
   */
  asOf?: string | null;
}

/** What FROM takes for a pin: a bare image ID for local images, else the digest reference. */
export function fromForPin(pinned: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(pinned);
  return m ? m[1] : pinned;
}

const CRAN = "https://cloud.r-project.org";

function rLine(spec: StandaloneSpec): string | null {
  if (spec.r.length === 0) return null;
  // R code with double quotes only, inside one single-quoted shell word.
  const url = (p: StandalonePkg) =>
    (spec.repositories?.find((r) => r.name === p.repository)?.url ?? CRAN).replace(/\/+$/, "");
  const items = spec.r.map((p) => `c("${p.name}", "${p.version}", "${url(p)}")`).join(", ");
  const body = spec.offline
    ? [
      `f <- Sys.glob("${VENDOR}/R/*.tar.gz"); options(repos = NULL);`,
      "for (i in 1:3) { if (!length(f)) break;",
      'for (x in f) try(install.packages(x, repos = NULL, type = "source"));',
      'f <- f[!vapply(sub("_.*$", "", basename(f)), requireNamespace, logical(1), quietly = TRUE)] };',
      'if (length(f)) stop("could not install: ", paste(basename(f), collapse = " "))',
    ]
    : [
      `for (x in list(${items})) {`,
      'u <- c(sprintf("%s/src/contrib/%s_%s.tar.gz", x[3], x[1], x[2]),',
      'sprintf("%s/src/contrib/Archive/%s/%s_%s.tar.gz", x[3], x[1], x[1], x[2]));',
      'ok <- FALSE; for (v in u) if (!ok) ok <- !inherits(try(install.packages(v, repos = NULL, type = "source")), "try-error") && isTRUE(as.character(packageVersion(x[1])) == x[2]);',
      'if (!ok) stop("could not install ", x[1], " ", x[2]) }',
    ];
  return `Rscript -e '${body.join(" ")}'`;
}

/** A LABEL value, double-quoted. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The labels that make the file (and the image) self-describing, in this order. */
function labels(spec: StandaloneSpec): [string, string][] {
  const out: [string, string][] = [
    ["env", spec.name],
    ["runtime", spec.runtime],
  ];
  if (spec.version) out.push([spec.runtime === "r" ? "r_version" : "python_version", spec.version]);
  out.push(
    ["base", spec.basePinned],
    ["base_image", spec.baseImage],
    ["version", spec.venvoyVersion],
    ["standalone", spec.offline ? "offline" : "online"],
  );
  if (spec.asOf) out.push(["as_of", spec.asOf]);
  return out;
}

/**
 * Every value that reaches the file is checked against its grammar first (a GrammarError,
 * exit 2, otherwise): names and versions then hold no quote, `$`, backquote, backslash or
 * line break, so the double quotes around them in RUN lines and the single-quoted R code
 * are enough.
 */
export function checkStandaloneSpec(spec: StandaloneSpec): void {
  validateName(spec.name);
  if (spec.version !== null) checkRuntimeVersion("runtime version", spec.version);
  checkImageRef(spec.baseImage, { what: "base image", sif: true });
  checkImageRef(spec.basePinned, { what: "pinned base image" });
  if (spec.asOf && !/^\d{4}-\d{2}-\d{2}$/.test(spec.asOf)) {
    throw new GrammarError("as-of date", spec.asOf, "not a date YYYY-MM-DD");
  }
  checkVenvoyVersion(spec.venvoyVersion);
  if (spec.created !== undefined) checkLine("creation time", spec.created);
  for (const p of spec.python) checkPythonPackage(p.name, p.version);
  for (const p of spec.r) checkRPackage(p.name, p.version);
  for (const p of spec.conda) checkCondaPackage(p.name, p.version);
  for (const c of spec.channels ?? []) checkCondaChannel(c);
  for (const r of spec.repositories ?? []) {
    checkLine("repository name", r.name);
    checkUrl(`repository ${r.name}`, r.url);
  }
}

/** The Dockerfile text. Pure: same spec, same bytes. */
export function standaloneDockerfile(spec: StandaloneSpec): string {
  checkStandaloneSpec(spec);
  const from = fromForPin(spec.basePinned);
  const local = from !== spec.basePinned || !spec.basePinned.includes("@");
  const lines: string[] = [
    `# Standalone Dockerfile for the environment '${spec.name}' (${
      spec.runtime === "r" ? "R" : "Python"
    } ${spec.version ?? ""}), written by venvoy ${spec.venvoyVersion}${
      spec.created ? ` on ${spec.created}` : ""
    }.`,
    `# Build it with plain docker or podman; venvoy is not needed:`,
    ...(spec.offline
      ? [`#   podman build --network none -t ${spec.name} .     (everything comes from vendor/)`]
      : [
        `#   docker build -t ${spec.name} -f THIS_FILE .`,
        ...(spec.python.length
          ? [
            "# Behind a package mirror or a TLS-intercepting proxy, tell pip (both optional):",
            "#   --build-arg PIP_INDEX_URL=https://mirror.example/simple",
            "#   --build-arg PIP_CERT=/run/ca.crt -v /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro",
            "# (-v for RUN steps is podman build's; docker needs the bundle in the image or a secret).",
          ]
          : []),
        "# `venvoy import THIS_FILE` recreates it as a venvoy environment (the labels below).",
      ]),
    `# Base: ${spec.baseImage}, pinned as ${spec.basePinned}.`,
    ...(local
      ? [
        "# That pin is a local image ID: load the same base image first (docker load / podman",
        "# load), or pass another with --build-arg BASE=IMAGE (the versions below stay pinned).",
      ]
      : []),
    `ARG BASE=${from}`,
    "FROM ${BASE}",
    "USER root",
    [
      "ENV LANG=C.UTF-8",
      "PYTHONNOUSERSITE=1",
      "PIP_DISABLE_PIP_VERSION_CHECK=1",
      "PIP_NO_CACHE_DIR=1",
      "PIP_BREAK_SYSTEM_PACKAGES=1",
    ].join(" \\\n    "),
    `LABEL ${labels(spec).map(([k, v]) => `org.venvoy.${k}=${quoted(v)}`).join(" \\\n      ")}`,
  ];
  if (spec.offline) {
    lines.push(`COPY ${LOCK_FILE} /opt/venvoy/build/${LOCK_FILE}`, `COPY vendor/ ${VENDOR}/`);
  }
  const steps: string[] = [];
  if (spec.conda.length) {
    const ch = (spec.channels?.length ? spec.channels : ["conda-forge"])
      .map((c) => `-c ${c}`).join(" ");
    steps.push(
      `micromamba install -y -n base ${ch} ${
        spec.conda.map((p) => `"${p.name}=${p.version}"`).join(" ")
      } && micromamba clean -a -y`,
    );
  }
  if (spec.python.length && !spec.offline) {
    // Passed to pip (which reads PIP_* from the environment) only when given.
    lines.push("ARG PIP_INDEX_URL=", "ARG PIP_CERT=");
    steps.push(
      '[ -n "${PIP_INDEX_URL:-}" ] || unset PIP_INDEX_URL',
      '[ -n "${PIP_CERT:-}" ] || unset PIP_CERT',
    );
  }
  if (spec.python.length) {
    steps.push(
      spec.offline
        ? `python3 -m pip install --no-index --find-links ${VENDOR} --require-hashes --no-deps -r /opt/venvoy/build/${LOCK_FILE}`
        : [
          "python3 -m pip install --no-deps",
          ...spec.python.map((p) => `"${p.name}==${p.version}"`),
        ].join(" \\\n      "),
    );
  }
  const r = rLine(spec);
  if (r) steps.push(r);
  if (steps.length) lines.push(`RUN set -eu; \\\n    ${steps.join("; \\\n    ")}`);
  const asOf = asOfEnv(spec.asOf ?? undefined);
  if (asOf.length) lines.push(`ENV ${asOf.map(([k, v]) => `${k}=${v}`).join(" ")}`);
  lines.push("WORKDIR /workspace", "");
  return lines.join("\n");
}

/** What parseStandaloneDockerfile() reads back from a file standaloneDockerfile() wrote. */
export interface StandaloneDescription {
  name: string;
  runtime: "python" | "r";
  version: string | null;
  baseImage: string | null;
  basePinned: string | null;
  venvoyVersion: string | null;
  offline: boolean;
  python: StandalonePkg[];
  /** `repository` is the repository's URL here. */
  r: StandalonePkg[];
  conda: StandalonePkg[];
  /** The `init --as-of` date it was made with, or null. */
  asOf: string | null;
}

/**
 * Reads a standalone Dockerfile back: its `org.venvoy.*` labels and its pinned packages.
 * null for a Dockerfile venvoy did not write (no env and runtime labels).
 */
export function parseStandaloneDockerfile(text: string): StandaloneDescription | null {
  const joined = text.replace(/\\\r?\n/g, " ");
  const label = new Map<string, string>();
  const run: string[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^LABEL\s/i.test(line)) {
      for (const m of line.matchAll(/org\.venvoy\.([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
        label.set(m[1], m[2].replace(/\\(.)/g, "$1"));
      }
    } else if (/^RUN\s/i.test(line)) run.push(line);
  }
  const name = label.get("env");
  const runtime = label.get("runtime");
  if (!name || (runtime !== "python" && runtime !== "r")) return null;
  const steps = run.join("\n");
  return {
    name,
    runtime,
    version: label.get(runtime === "r" ? "r_version" : "python_version") ?? null,
    baseImage: label.get("base_image") ?? null,
    basePinned: label.get("base") ?? null,
    venvoyVersion: label.get("version") ?? null,
    offline: label.get("standalone") === "offline",
    asOf: /^\d{4}-\d{2}-\d{2}$/.test(label.get("as_of") ?? "") ? label.get("as_of")! : null,
    python: [...steps.matchAll(/"([A-Za-z0-9][A-Za-z0-9._-]*)==([^"\s]+)"/g)].map((m) => ({
      name: m[1],
      version: m[2],
    })),
    r: [...steps.matchAll(/c\("([^"]+)", "([^"]+)", "([^"]+)"\)/g)].map((m) => ({
      name: m[1],
      version: m[2],
      repository: m[3],
    })),
    conda: [...steps.matchAll(/"([A-Za-z0-9][A-Za-z0-9._-]*)=([^="\s]+)"/g)].map((m) => ({
      name: m[1],
      version: m[2],
    })),
  };
}
