/** R environments: the base's R (rocker/r-ver pins CRAN to a dated snapshot). */
import {
  type BuildSpec,
  commonFinalEnv,
  commonSetup,
  commonSupport,
  PERSIST,
  type Plan,
} from "./plan.ts";

/** Installs vendor/R/*.tar.gz with no repository, retrying until dependencies settle. */
export const OFFLINE_R = [
  `Rscript -e 'f <- Sys.glob("/opt/venvoy/vendor/R/*.tar.gz"); options(repos = NULL);`,
  "for (i in seq_len(3)) { if (!length(f)) break;",
  'ok <- vapply(f, function(x) !inherits(try(install.packages(x, repos = NULL, type = "source")), "try-error"), logical(1));',
  'p <- sub("_.*$", "", basename(f)); f <- f[!vapply(p, requireNamespace, logical(1), quietly = TRUE)] };',
  `if (length(f)) stop("could not install from vendor/R: ", paste(basename(f), collapse = " "))'`,
].join(" ");

export function rEnv(): [string, string][] {
  return [
    ["R_LIBS_USER", `${PERSIST}/R/library`],
    ["R_USER_CACHE_DIR", `${PERSIST}/cache/R`],
  ];
}

/**
 * `--cran-url`: R's CRAN repository for the build and every session, from VENVOY_CRAN_URL
 * (read by R, never spliced into code), set last in Rprofile.site so it wins over the
 * base's own (rocker's dated snapshot).
 */
export const CRAN_URL_HOOK =
  `echo 'local({ u <- Sys.getenv("VENVOY_CRAN_URL"); if (nzchar(u)) options(repos = c(CRAN = u)) })' >>"$(R RHOME)/etc/Rprofile.site"`;

export function rPlan(spec: BuildSpec): Plan {
  const support = commonSupport();
  return {
    kind: "r",
    env: [
      ...rEnv(),
      ...(spec.cranUrl ? [["VENVOY_CRAN_URL", spec.cranUrl] as [string, string]] : []),
      ["LANG", "C.UTF-8"],
    ],
    setup: [...commonSetup(), ...(spec.cranUrl ? [CRAN_URL_HOOK] : [])],
    support: support.copies,
    supportSetup: [
      ...support.steps,
      ". /opt/venvoy/lib/build_env.sh && Rscript /opt/venvoy/lib/r_tools.R",
    ],
    packageFiles: [
      { src: "packages.txt", dest: "/opt/venvoy/build/packages.txt" },
      ...(spec.offline ? [{ src: "vendor/", dest: "/opt/venvoy/vendor/" }] : []),
    ],
    packageSteps: [
      // Offline: the source packages `venvoy freeze` kept in vendor/R, then packages.txt,
      // which must then be met without a repository.
      ...(spec.offline ? [OFFLINE_R] : []),
      ". /opt/venvoy/lib/build_env.sh && Rscript /opt/venvoy/lib/install_packages.R /opt/venvoy/build/packages.txt",
    ],
    finalEnv: [
      ...commonFinalEnv(spec),
      ["PATH", `/opt/venvoy/bin:$PATH`],
    ],
  };
}
