#!/usr/bin/env bash
# One-command set-up from a clone: Deno (pinned, from npm), the container lab when run as
# root on Debian 12 (podman, the docker CLI on podman's socket, apptainer, local base
# images), dist/venvoy, a `venvoy` link in ~/.local/bin, then `venvoy runtime-info`.
#   bash scripts/setup.sh            # everything
#   VENVOY_SKIP_LAB=1 bash scripts/setup.sh   # keep the runtimes you already have
set -euo pipefail
cd "$(dirname "$0")/.."
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
