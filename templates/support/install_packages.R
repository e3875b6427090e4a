# Installs the R packages listed one per line in the file given as the first argument
# (blank lines and # comments ignored). Fails the build if any is missing afterwards.
args <- commandArgs(trailingOnly = TRUE)
lines <- trimws(sub("#.*$", "", readLines(args[[1]], warn = FALSE)))
pkgs <- unique(lines[nzchar(lines)])
missing <- pkgs[!vapply(pkgs, requireNamespace, logical(1), quietly = TRUE)]
if (length(missing) > 0) {
  message("venvoy: installing R packages: ", paste(missing, collapse = " "))
  install.packages(missing, Ncpus = max(1L, parallel::detectCores()))
  still <- missing[!vapply(missing, requireNamespace, logical(1), quietly = TRUE)]
  if (length(still) > 0) stop("could not install: ", paste(still, collapse = " "))
}
