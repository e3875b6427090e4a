/** R environments: the base's R (rocker/r-ver pins CRAN to a dated snapshot). */
import {
  type BuildSpec,
  commonFinalEnv,
  commonSetup,
  commonSupport,
  PERSIST,
  type Plan,
} from "./plan.ts";

export function rEnv(): [string, string][] {
  return [
    ["R_LIBS_USER", `${PERSIST}/R/library`],
    ["R_USER_CACHE_DIR", `${PERSIST}/cache/R`],
  ];
}

export function rPlan(spec: BuildSpec): Plan {
  const support = commonSupport();
  return {
    kind: "r",
    env: [...rEnv(), ["LANG", "C.UTF-8"]],
    setup: [...commonSetup()],
    support: support.copies,
    supportSetup: [
      ...support.steps,
      ". /opt/venvoy/lib/build_env.sh && Rscript /opt/venvoy/lib/r_tools.R",
    ],
    packageFiles: [{ src: "packages.txt", dest: "/opt/venvoy/build/packages.txt" }],
    packageSteps: [
      ". /opt/venvoy/lib/build_env.sh && Rscript /opt/venvoy/lib/install_packages.R /opt/venvoy/build/packages.txt",
    ],
    finalEnv: [
      ...commonFinalEnv(spec),
      ["PATH", `/opt/venvoy/bin:$PATH`],
    ],
  };
}
