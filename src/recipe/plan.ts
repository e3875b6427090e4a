/**
 * A build plan: what an environment's image needs, independent of the file format.
 * One module per kind of spec (python.ts, r.ts, conda.ts) fills the hooks; render.ts owns
 * the layer order and writes a Dockerfile or an Apptainer definition from it.
 */

export type Kind = "python" | "r" | "conda";

/** Everything a spec module needs to know; nothing here reads the disk or the clock. */
export interface BuildSpec {
  name: string;
  kind: Kind;
  /** "3.11" for Python (and conda's Python), "4.2" for R. */
  version: string;
  /** The pinned base for FROM: a 64-hex image ID, or repo@sha256:… for registry images. */
  from: string;
  /** For definition files: how Apptainer bootstraps the base. */
  bootstrap?: "docker" | "docker-daemon" | "localimage";
  venvoyVersion: string;
  labels: Record<string, string>;
  /** Pinned uv version installed with pip into Python images. */
  uvVersion?: string;
  /**
   * Rebuild from vendor/ alone (after `venvoy freeze`): no index is asked for anything;
   * Python packages come from requirements.lock with their hashes, R sources from vendor/R.
   */
  offline?: boolean;
  /**
   * `--as-of YYYY-MM-DD` (validated): Python requirements resolve as the index was at
   * 00:00 UTC that day (uv's exclude-newer at build time; UV_EXCLUDE_NEWER and
   * PIP_UPLOADED_PRIOR_TO in every session).
   */
  asOf?: string;
  /** The CRAN repository for R installs, {date} already replaced (validated URL). */
  cranUrl?: string;
}

export interface CopyStep {
  /** Relative to the build context (the environment folder). */
  src: string;
  dest: string;
}

export interface Plan {
  kind: Kind;
  /** Variables set for the build and for every session (static: cache friendly). */
  env: [string, string][];
  /** venvoy's support files, copied first (they change only with venvoy itself). */
  support: CopyStep[];
  /** Root shell steps that depend only on the base and venvoy: cached across edits. */
  setup: string[];
  /** More such steps, in a layer of their own. */
  supportSetup: string[];
  /** The user's package files, then the steps that install them. */
  packageFiles: CopyStep[];
  packageSteps: string[];
  /** Variables that mention the environment's name or paths only sessions have. */
  finalEnv: [string, string][];
}

/** Where an environment's persist/ folder (PERSIST_DIR) is mounted in every session. */
export const PERSIST = "/opt/venvoy/persist";
/** The folder in an environment's directory that holds the packages added in sessions. */
export const PERSIST_DIR = "persist";
export const ENTRY = "/opt/venvoy/bin/venvoy-entry";
export const SUPPORT_DIR = ".venvoy";
export const USER = "venvoy";
export const VENDOR = "/opt/venvoy/vendor";
export const LOCK_FILE = "requirements.lock";

/** The offline install: only vendor/, every hash checked, no dependency resolution. */
export const OFFLINE_PIP =
  `python3 -m pip install --no-cache-dir --disable-pip-version-check --no-index --find-links ${VENDOR}`;

/**
 * Shared by every kind: the non-root user, venvoy's folders, the session entry, and the
 * build's CA settings (each later step in the same RUN sees them).
 */
export function commonSetup(): string[] {
  return [
    [
      `if ! id -u ${USER} >/dev/null 2>&1; then`,
      `  if command -v useradd >/dev/null 2>&1; then useradd -m -s /bin/sh -u 1000 ${USER} 2>/dev/null || useradd -m -s /bin/sh ${USER};`,
      `  elif command -v adduser >/dev/null 2>&1; then adduser -D ${USER};`,
      `  else echo "${USER}:x:1000:1000::/home/${USER}:/bin/sh" >>/etc/passwd && mkdir -p /home/${USER};`,
      "  fi;",
      "fi",
    ].join(" \\\n    "),
    `mkdir -p /opt/venvoy/bin /opt/venvoy/lib ${PERSIST} /workspace && chmod 1777 /workspace ${PERSIST}`,
    `install -m 0755 /opt/venvoy/lib/entry.sh ${ENTRY} && chmod 0755 /opt/venvoy/lib/capture.sh`,
    ". /opt/venvoy/lib/build_env.sh",
  ];
}

export function commonSupport(): { copies: CopyStep[]; steps: string[] } {
  return {
    copies: [{ src: `${SUPPORT_DIR}/`, dest: "/opt/venvoy/lib/" }],
    steps: [],
  };
}

/** Installs requirements.txt and requirements-dev.txt (when not empty), vendored wheels first. */
export function pipRequirementsStep(pipFlags: string[] = []): string {
  const flags = ["--no-cache-dir", ...pipFlags, "--find-links", "/opt/venvoy/vendor"].join(" ");
  return [
    "for f in /opt/venvoy/build/requirements.txt /opt/venvoy/build/requirements-dev.txt; do",
    `  if grep -qvE '^[[:space:]]*(#|$)' "$f"; then`,
    `    . /opt/venvoy/lib/build_env.sh && python3 -m pip install ${flags} -r "$f";`,
    "  fi;",
    "done",
  ].join(" \\\n    ");
}

export function commonFinalEnv(spec: BuildSpec): [string, string][] {
  return [
    ["VENVOY_ENV", spec.name],
    ["VENVOY_PERSIST", PERSIST],
  ];
}
