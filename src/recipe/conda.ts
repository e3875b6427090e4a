/**
 * conda/mamba environments on a micromamba base: Python from conda-forge into the base
 * prefix at build time; a persistent prefix at /opt/venvoy/persist/conda for sessions.
 * conda-forge is not reachable in the lab, so this path is covered by unit tests only.
 */
import {
  type BuildSpec,
  commonFinalEnv,
  commonSetup,
  commonSupport,
  PERSIST,
  pipRequirementsStep,
  type Plan,
} from "./plan.ts";
import { asOfEnv, asOfRequirementsStep, DEFAULT_UV_VERSION, pythonEnv } from "./python.ts";

/** A base image that brings micromamba/mamba/conda asks for a conda environment. */
export function detectConda(baseImage: string): boolean {
  const repo = baseImage.split("@")[0].split("/").pop() ?? "";
  return /^(micromamba|mambaforge|miniforge\d*|miniconda\d*|anaconda\d*|conda)(:|$)/.test(repo);
}

export function condaPlan(spec: BuildSpec): Plan {
  const support = commonSupport();
  return {
    kind: "conda",
    env: [
      ...pythonEnv(),
      ["MAMBA_ROOT_PREFIX", "/opt/conda"],
      ["CONDA_PKGS_DIRS", `${PERSIST}/cache/conda`],
      ["VENVOY_CONDA", "1"],
      ["LANG", "C.UTF-8"],
    ],
    setup: [
      ...commonSetup(),
      [
        `micromamba install -y -n base -c conda-forge "python=${spec.version}" pip`,
        `"uv=${spec.uvVersion ?? DEFAULT_UV_VERSION}"`,
        "&& micromamba clean -a -y",
      ].join(" "),
    ],
    support: support.copies,
    supportSetup: [
      ...support.steps,
      // `mamba install x` in a session installs into the persistent prefix.
      `printf '#!/bin/sh\\ncase "$1" in install|remove|update|uninstall) cmd=$1; shift; exec micromamba "$cmd" -y -p ${PERSIST}/conda -c conda-forge "$@";; esac\\nexec micromamba "$@"\\n' >/opt/venvoy/bin/mamba && chmod 0755 /opt/venvoy/bin/mamba`,
      `cp /opt/venvoy/lib/persist.pth "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/00-venvoy-persist.pth"`,
    ],
    packageFiles: [
      { src: "environment.yml", dest: "/opt/venvoy/build/environment.yml" },
      { src: "requirements.txt", dest: "/opt/venvoy/build/requirements.txt" },
      { src: "requirements-dev.txt", dest: "/opt/venvoy/build/requirements-dev.txt" },
      { src: "vendor/", dest: "/opt/venvoy/vendor/" },
    ],
    packageSteps: [
      "if grep -q 'dependencies' /opt/venvoy/build/environment.yml; then micromamba install -y -n base -f /opt/venvoy/build/environment.yml && micromamba clean -a -y; fi",
      spec.asOf ? asOfRequirementsStep(spec.asOf) : pipRequirementsStep(),
    ],
    finalEnv: [
      ...commonFinalEnv(spec),
      ...asOfEnv(spec.asOf),
      ["VIRTUAL_ENV", `${PERSIST}/python`],
      ["PATH", `${PERSIST}/python/bin:${PERSIST}/conda/bin:/opt/venvoy/bin:/opt/conda/bin:$PATH`],
    ],
  };
}
