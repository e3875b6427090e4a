/** Python environments: the base's Python, pip and uv; requirements installed by pip. */
import {
  type BuildSpec,
  commonFinalEnv,
  commonSetup,
  commonSupport,
  LOCK_FILE,
  OFFLINE_PIP,
  PERSIST,
  pipRequirementsStep,
  type Plan,
} from "./plan.ts";

export const DEFAULT_UV_VERSION = "0.13.9";

/** Variables every Python session needs (also passed by `venvoy run`). */
export function pythonEnv(): [string, string][] {
  return [
    ["PYTHONNOUSERSITE", "1"],
    ["PIP_DISABLE_PIP_VERSION_CHECK", "1"],
    ["PIP_CACHE_DIR", `${PERSIST}/cache/pip`],
    ["UV_CACHE_DIR", `${PERSIST}/cache/uv`],
    ["VENVOY_PYTHON", "python3"],
  ];
}

/**
 * `--as-of`: the variables every session gets, so `uv pip install` (UV_EXCLUDE_NEWER) and
 * pip 26.0 or later (PIP_UPLOADED_PRIOR_TO; older pip ignores it) resolve as the index was
 * at 00:00 UTC that day. Set after the build's own installs (see asOfRequirementsStep).
 */
export function asOfEnv(asOf: string | undefined): [string, string][] {
  if (!asOf) return [];
  const ts = `${asOf}T00:00:00Z`;
  return [["UV_EXCLUDE_NEWER", ts], ["PIP_UPLOADED_PRIOR_TO", ts]];
}

/**
 * requirements.txt and requirements-dev.txt installed by uv with --exclude-newer: pip
 * before 26.0 (Debian's, most bases') has no such option, uv always does. `asOf` is
 * validated (YYYY-MM-DD) before it reaches this line.
 */
export function asOfRequirementsStep(asOf: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new Error(`internal: unvalidated as-of '${asOf}'`);
  const flags = [
    "--system",
    "--no-cache",
    "--exclude-newer",
    `${asOf}T00:00:00Z`,
    "--find-links",
    "/opt/venvoy/vendor",
  ].join(" ");
  return [
    "for f in /opt/venvoy/build/requirements.txt /opt/venvoy/build/requirements-dev.txt; do",
    `  if grep -qvE '^[[:space:]]*(#|$)' "$f"; then`,
    `    . /opt/venvoy/lib/build_env.sh && uv pip install ${flags} -r "$f";`,
    "  fi;",
    "done",
  ].join(" \\\n    ");
}

/**
 * Offline (after `venvoy freeze`): every package of the frozen state from vendor/ with its
 * hash (uv included), then a check that requirements.txt is met from vendor/ alone.
 */
export function offlinePackageSteps(): string[] {
  return [
    `${OFFLINE_PIP} --require-hashes --no-deps -r /opt/venvoy/build/${LOCK_FILE}`,
    [
      `if grep -qvE '^[[:space:]]*(#|$)' /opt/venvoy/build/requirements.txt; then`,
      `  ${OFFLINE_PIP} -r /opt/venvoy/build/requirements.txt;`,
      "fi",
    ].join(" \\\n    "),
  ];
}

export function pythonPlan(spec: BuildSpec): Plan {
  const support = commonSupport();
  return {
    kind: "python",
    env: [...pythonEnv(), ["LANG", "C.UTF-8"]],
    setup: [
      ...commonSetup(),
      "python3 -m pip --version >/dev/null 2>&1 || python3 -m ensurepip",
      // Offline, uv comes from vendor/ with the other frozen packages.
      ...(spec.offline ? [] : [
        `. /opt/venvoy/lib/build_env.sh && python3 -m pip install --no-cache-dir --disable-pip-version-check "uv==${
          spec.uvVersion ?? DEFAULT_UV_VERSION
        }"`,
      ]),
    ],
    support: support.copies,
    supportSetup: [
      ...support.steps,
      // The .pth puts the persistent site-packages first even for a Python run outside
      // the session's virtual environment (a #!/usr/bin/python3 script).
      `cp /opt/venvoy/lib/persist.pth "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/00-venvoy-persist.pth"`,
    ],
    packageFiles: [
      { src: "requirements.txt", dest: "/opt/venvoy/build/requirements.txt" },
      { src: "requirements-dev.txt", dest: "/opt/venvoy/build/requirements-dev.txt" },
      ...(spec.offline ? [{ src: LOCK_FILE, dest: `/opt/venvoy/build/${LOCK_FILE}` }] : []),
      { src: "vendor/", dest: "/opt/venvoy/vendor/" },
    ],
    packageSteps: spec.offline ? offlinePackageSteps() : [
      spec.asOf
        ? asOfRequirementsStep(spec.asOf)
        : pipRequirementsStep(["--disable-pip-version-check"]),
    ],
    finalEnv: [
      ...commonFinalEnv(spec),
      ...asOfEnv(spec.asOf),
      ["VIRTUAL_ENV", `${PERSIST}/python`],
      ["PATH", `${PERSIST}/python/bin:/opt/venvoy/bin:$PATH`],
    ],
  };
}
