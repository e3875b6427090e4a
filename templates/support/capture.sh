#!/bin/sh
# Lists what an image contains, as tab-separated sections venvoy turns into
# base-packages.json. Runs once after each build, with no persistent folder mounted.
echo "@@versions"
for py in python3 python; do
  if command -v "$py" >/dev/null 2>&1; then
    "$py" -c 'import sys; print("python\t%d.%d.%d" % sys.version_info[:3])'
    break
  fi
done
if command -v Rscript >/dev/null 2>&1; then
  Rscript -e 'cat("r\t", R.version$major, ".", R.version$minor, "\n", sep = "")'
fi
if command -v "${py:-python3}" >/dev/null 2>&1; then
  echo "@@python"
  "$py" -c '
import importlib.metadata as m
seen = set()
for d in m.distributions():
    n = d.metadata["Name"]
    if n and n.lower() not in seen:
        seen.add(n.lower())
        print("%s\t%s" % (n, d.version))
'
fi
if command -v Rscript >/dev/null 2>&1; then
  echo "@@r"
  Rscript -e 'ip <- installed.packages(fields = c("Repository", "RemoteType")); for (i in seq_len(nrow(ip))) { p <- ip[i, ]; src <- if (!is.na(p[["Priority"]]) && p[["Priority"]] == "base") "Base" else if (!is.na(p[["RemoteType"]])) p[["RemoteType"]] else "Repository"; repo <- if (is.na(p[["Repository"]])) "" else p[["Repository"]]; cat(p[["Package"]], p[["Version"]], src, repo, sep = "\t"); cat("\n") }'
fi
if command -v micromamba >/dev/null 2>&1; then
  echo "@@conda"
  micromamba list -n base 2>/dev/null | awk 'NF >= 3 && $1 !~ /^(List|Name|─|Environment)/ {print $1 "\t" $2 "\t" $4}'
fi
if command -v dpkg-query >/dev/null 2>&1; then
  echo "@@os"
  dpkg-query -W -f '${Package}\t${Version}\n'
elif command -v apk >/dev/null 2>&1; then
  echo "@@os"
  apk info -v 2>/dev/null | sed 's/-\([0-9][^-]*-r[0-9]*\)$/\t\1/'
fi
