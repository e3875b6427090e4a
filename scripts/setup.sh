#!/usr/bin/env bash
# One-command set-up from a clone: Deno (pinned, from npm), the container lab when run as
# root on Debian 12 (podman, the docker CLI on podman's socket, apptainer, local base
# images), dist/venvoy, a `venvoy` link in ~/.local/bin, `venvoy runtime-info`, and a first
# environment, `venvoy-demo`, built and run once.
#   bash scripts/setup.sh                       # everything
#   VENVOY_SKIP_LAB=1 bash scripts/setup.sh     # keep the runtimes you already have
#   VENVOY_SKIP_DEMO=1 bash scripts/setup.sh    # no demo environment
set -euo pipefail
cd "$(dirname "$0")/.."
# Behind a TLS-intercepting proxy containers must trust the host's CA bundle; venvoy takes it
# from PIP_CERT, SSL_CERT_FILE or REQUESTS_CA_BUNDLE (docs/environments.md). Name the
# system bundle when none is set, so builds that reach PyPI work the same everywhere.
if [[ -z "${PIP_CERT:-}${SSL_CERT_FILE:-}${REQUESTS_CA_BUNDLE:-}" && -f /etc/ssl/certs/ca-certificates.crt ]]; then
  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
fi

DENO_VERSION=2.9.6

if ! deno --version 2>/dev/null | head -1 | grep -qx "deno $DENO_VERSION.*"; then
  echo "setup: installing deno $DENO_VERSION from the npm registry" >&2
  npm install -g --silent "deno@$DENO_VERSION"
fi
deno install --frozen --quiet

if [[ ${VENVOY_SKIP_LAB:-0} != 1 ]]; then
  if [[ $(id -u) == 0 ]] && grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    echo "setup: preparing the container lab (tests/lab/setup.sh)" >&2
    VENVOY_LAB_R=1 VENVOY_LAB_APPTAINER=1 bash tests/lab/setup.sh
  else
    echo "setup: not root on Debian 12: using the container runtimes already installed" >&2
  fi
fi

deno task bundle
bin_dir=${VENVOY_INSTALL_DIR:-$HOME/.local/bin}
mkdir -p "$bin_dir"
ln -sfn "$PWD/dist/venvoy" "$bin_dir/venvoy"
echo "setup: linked $bin_dir/venvoy -> $PWD/dist/venvoy" >&2
case ":$PATH:" in *":$bin_dir:"*) ;; *) echo "setup: add $bin_dir to your PATH" >&2 ;; esac
export PATH="$bin_dir:$PATH"
venvoy runtime-info

if [[ ${VENVOY_SKIP_DEMO:-0} != 1 ]]; then
  # The lab has no registry: use its local Python image when it is there.
  base=()
  if podman image exists localhost/venvoy-lab/python:3.11 2>/dev/null; then
    base=(--base-image localhost/venvoy-lab/python:3.11)
  fi
  echo "setup: building the demo environment: venvoy init --name venvoy-demo --force ${base[*]}" >&2
  venvoy init --name venvoy-demo --force "${base[@]}"
  venvoy run venvoy-demo --command 'python --version && pip --version && uv --version'
  echo "setup: done. Try: venvoy run venvoy-demo    (an interactive shell in the environment)" >&2
fi
