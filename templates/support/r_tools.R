# pak or remotes where the base allows: installed from the configured CRAN repository if
# missing. An unreachable repository is not an error (air-gapped sites use install.packages).
options(timeout = 30)
if (!requireNamespace("remotes", quietly = TRUE) && !requireNamespace("pak", quietly = TRUE)) {
  try(suppressWarnings(install.packages("remotes")), silent = TRUE)
}
