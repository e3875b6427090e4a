#!/bin/sh
# restore.sh: bring back the environment saved in this venvoy archive, WITHOUT venvoy.
#
#   ./restore.sh                      the first engine found: podman, docker, apptainer, singularity
#   ./restore.sh podman | docker      load the saved image into that engine
#   ./restore.sh apptainer [OUT.sif]  build a SIF from the saved image (or copy the included SIF)
#   ./restore.sh singularity [OUT.sif]
#
# Run it in the folder where the archive was extracted:  tar xzf ARCHIVE.tar.gz
# It checks every file against SHA256SUMS first and stops if anything differs.
# With venvoy installed, `venvoy import ARCHIVE.tar.gz` does all of this and more.
set -eu

ENV_NAME={{ENV_NAME}}
IMAGE_TAG={{IMAGE_TAG}}
IMAGE_ID={{IMAGE_ID}}
DOCKER_ARCHIVE={{DOCKER_ARCHIVE}}
SIF_MEMBER={{SIF_MEMBER}}

here=$(cd "$(dirname "$0")" && pwd)

say() { printf 'restore.sh: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

verify() {
  cd "$here" || return 1
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum -c --quiet SHA256SUMS
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 -c --quiet SHA256SUMS
  else
    say "warning: neither sha256sum nor shasum found: checksums NOT verified"
  fi
}

engine=${1:-}
if [ -z "$engine" ]; then
  for candidate in podman docker apptainer singularity; do
    if command -v "$candidate" >/dev/null 2>&1; then
      engine=$candidate
      break
    fi
  done
fi
[ -n "$engine" ] || die "no container engine found: install podman, docker or apptainer"
command -v "$engine" >/dev/null 2>&1 || die "'$engine' is not installed"

say "verifying checksums"
(verify) || die "checksum verification failed: the extracted files were altered or damaged"

case "$engine" in
  podman | docker)
    [ -n "$DOCKER_ARCHIVE" ] || die "this archive holds only a SIF image: use apptainer or singularity"
    say "loading $DOCKER_ARCHIVE into $engine"
    "$engine" load -i "$here/$DOCKER_ARCHIVE" >&2
    loaded=$("$engine" image inspect --format '{{.Id}}' "$IMAGE_TAG")
    case "$loaded" in
      sha256:*) ;;
      *) loaded="sha256:$loaded" ;;
    esac
    if [ -n "$IMAGE_ID" ] && [ "$loaded" != "$IMAGE_ID" ]; then
      die "the loaded image has ID $loaded, but the archive recorded $IMAGE_ID"
    fi
    say "restored $IMAGE_TAG ($loaded)"
    say "run it with:  $engine run --rm -it -v \"$here/env/persist:/opt/venvoy/persist\" $IMAGE_TAG"
    printf '%s\n' "$IMAGE_TAG"
    ;;
  apptainer | singularity)
    out=${2:-$ENV_NAME.sif}
    if [ -n "$SIF_MEMBER" ]; then
      say "copying $SIF_MEMBER to $out"
      cp "$here/$SIF_MEMBER" "$out"
    else
      say "building $out from $DOCKER_ARCHIVE"
      "$engine" build "$out" "docker-archive:$here/$DOCKER_ARCHIVE" >&2
    fi
    say "run it with:  $engine exec --bind \"$here/env/persist:/opt/venvoy/persist\" $out bash"
    printf '%s\n' "$out"
    ;;
  *)
    die "unknown engine '$engine' (use podman, docker, apptainer or singularity)"
    ;;
esac
