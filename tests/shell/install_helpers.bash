# Helpers for install.bats: release folders served on 127.0.0.1, temporary homes, and
# running venvoy with nothing of the developer's environment.
#
# setup_file makes a test signing key (never the built-in one: installs trust it through
# VENVOY_RELEASE_PUBKEY, which in_home sets), builds two releases signed with it by
# `deno task release:local` (an older 0.0.9 and the current version), a tampered copy and
# three attacker's mirrors, then serves them all with python3's http.server on 127.0.0.1,
# bounded by `timeout`; teardown_file stops it. Most tests install from the folders as
# paths ($SRV/new); plain http is refused without VENVOY_INSECURE_HTTP=1.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OLD_VERSION=0.0.9
TARGET=x86_64-unknown-linux-gnu
case $(uname -m) in aarch64 | arm64) TARGET=aarch64-unknown-linux-gnu ;; esac
ASSET=venvoy-$TARGET
SERVER_SECONDS=${VENVOY_TEST_SERVER_SECONDS:-900}

release_setup_file() {
  export SRV=$BATS_FILE_TMPDIR/srv
  export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  export DENO_DIR=${DENO_DIR:-$HOME/.cache/deno}
  export KEY=$BATS_FILE_TMPDIR/key
  mkdir -p "$SRV"
  deno run -A "$REPO/scripts/release_keygen.ts" --out "$KEY" 2>/dev/null
  deno run -A "$REPO/scripts/release_local.ts" --version "$OLD_VERSION" --out "$SRV/old" \
    --signing-key "$KEY/private.pem" 2>/dev/null
  deno run -A "$REPO/scripts/release_local.ts" --out "$SRV/new" --signing-key "$KEY/private.pem" 2>/dev/null
  NEW_VERSION=$(cat "$SRV/new/VERSION")
  export NEW_VERSION
  # Tampered: the release with a binary that no longer matches its (signed) SHA256SUMS.
  cp -R "$SRV/new" "$SRV/tampered"
  printf '\nconsole.log("tampered");\n' >>"$SRV/tampered/$ASSET"
  attacker_mirror none
  attacker_mirror old
  deno run -A "$REPO/scripts/release_keygen.ts" --out "$BATS_FILE_TMPDIR/attacker-key" 2>/dev/null
  attacker_mirror attacker "$BATS_FILE_TMPDIR/attacker-key/private.pem"

  timeout "$SERVER_SECONDS" python3 -u -m http.server --bind 127.0.0.1 0 --directory "$SRV" \
    >"$BATS_FILE_TMPDIR/http.log" 2>&1 3>&- &
  echo $! >"$BATS_FILE_TMPDIR/http.pid"
  local port="" i
  for i in $(seq 1 100); do
    port=$(sed -n 's/.*Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$BATS_FILE_TMPDIR/http.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$BATS_FILE_TMPDIR/http.log" >&2; return 1; }
  export URL=http://127.0.0.1:$port
  curl -fsS "$URL/new/VERSION" >/dev/null
}

# attacker_mirror SIG [KEY]: $SRV/mirror-SIG, a copy of the new release whose binary the
# attacker replaced by one that still answers --version like the real one, with SHA256SUMS
# rewritten to match, so every checksum is consistent. SIG is what the signature is then:
# none (deleted), old (the release's own, over the old SHA256SUMS), attacker (made with
# the attacker's own KEY).
attacker_mirror() {
  local dir=$SRV/mirror-$1
  cp -R "$SRV/new" "$dir"
  printf '\n// the attacker was here\n' >>"$dir/$ASSET"
  (cd "$dir" && find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%P\n' | LC_ALL=C sort |
    xargs sha256sum >SHA256SUMS)
  case $1 in
    none) rm "$dir/SHA256SUMS.sig" ;;
    attacker)
      openssl pkeyutl -sign -inkey "$2" -rawin -in "$dir/SHA256SUMS" |
        openssl base64 -A >"$dir/SHA256SUMS.sig"
      ;;
  esac
}

release_teardown_file() {
  if [ -f "$BATS_FILE_TMPDIR/http.pid" ]; then
    kill "$(cat "$BATS_FILE_TMPDIR/http.pid")" 2>/dev/null || true
  fi
}

# A new home like a new Debian account's (/etc/skel), with copies of its startup files
# as they were before any install, and a stand-in for /usr/local/bin.
new_home() {
  H=$BATS_TEST_TMPDIR/home
  LINKS=$BATS_TEST_TMPDIR/usr-local-bin
  mkdir -p "$H" "$LINKS" "$BATS_TEST_TMPDIR/before"
  cp -a /etc/skel/. "$H/"
  cp -a "$H/." "$BATS_TEST_TMPDIR/before/"
}

# Runs a command with only HOME, a fixed PATH, the test key, and the variables given as
# NAME=VALUE first (VENVOY_RELEASE_PUBKEY= gives back the built-in key).
in_home() {
  env -i HOME="$H" PATH="${TEST_PATH:-/usr/local/bin:/usr/bin:/bin}" DENO_DIR="$DENO_DIR" \
    TERM=dumb NO_COLOR=1 SHELL=/bin/bash VENVOY_LINK_DIR="$LINKS" \
    VENVOY_RELEASE_PUBKEY="$KEY/public.pem" "$@"
}

# The one-liner, as a user runs it (the script fetched by curl), installing from release
# folder $1 (old, new, tampered, mirror-*) on disk.
install_from() {
  local rel=$1
  shift
  curl -fsSL "$URL/$rel/install.sh" | in_home VENVOY_RELEASE_URL="$SRV/$rel" "$@" bash
}

# Byte-compares every startup file in $H with the copy in $1 (a missing file must be
# missing in both).
same_rc_files() {
  local dir=$1 f
  for f in .bashrc .profile .bash_logout .bash_profile .zshrc .config/fish/conf.d/venvoy.fish; do
    if [ -e "$dir/$f" ] || [ -e "$H/$f" ]; then
      cmp "$dir/$f" "$H/$f" || return 1
    fi
  done
}

# A folder with deno and a fake podman, as the only PATH for uninstall: it must not
# reach the machine's real container stores. The fake logs every call to $1/podman.log.
fake_runtime_path() {
  local dir=$BATS_TEST_TMPDIR/fake-bin
  mkdir -p "$dir"
  ln -sf "$(command -v deno)" "$dir/deno"
  cat >"$dir/podman" <<EOF
#!/bin/bash
echo "\$*" >>"$BATS_TEST_TMPDIR/podman.log"
case "\$1" in
  version) echo '{"Client":{"Version":"4.3.1"}}' ;;
  ps) echo '[{"Id":"c0ffee","Names":["venvoy-run-1"],"Image":"localhost/venvoy/demo:1","State":"exited","Labels":{"org.venvoy.managed":"true","org.venvoy.env":"demo"}}]' ;;
  images) echo '[{"Id":"$(printf 'ab%.0s' $(seq 32))","Names":["localhost/venvoy/demo:1"]}]' ;;
  image) if [ "\$2" = inspect ]; then echo '[{"Id":"sha256:$(printf 'ab%.0s' $(seq 32))","Config":{"Labels":{"org.venvoy.managed":"true"}}}]'; fi ;;
esac
EOF
  chmod +x "$dir/podman"
  printf '%s\n' "$dir"
}

# A PATH holding only what install.sh needs, wget instead of curl, no container runtime,
# and openssl unless $1 is "no-openssl".
minimal_path() {
  local dir=$BATS_TEST_TMPDIR/min-bin${1:+-$1} tool tools=(openssl)
  [ "${1:-}" != no-openssl ] || tools=()
  mkdir -p "$dir"
  for tool in bash sh env deno wget sha256sum awk mktemp cat cp mv rm mkdir chmod grep head tail \
    tr cut cmp dirname basename readlink uname ldd ln sed wc "${tools[@]}"; do
    ln -sf "$(command -v "$tool")" "$dir/$tool"
  done
  printf '%s\n' "$dir"
}

# Every file under $1 with its checksum (links as their target), to compare trees.
tree_state() {
  (cd "$1" && find . -path ./.cache -prune -o -print | LC_ALL=C sort | while read -r p; do
    if [ -L "$p" ]; then
      printf '%s -> %s\n' "$p" "$(readlink "$p")"
    elif [ -f "$p" ]; then
      printf '%s %s\n' "$p" "$(sha256sum <"$p" | cut -c1-16)"
    else
      printf '%s/\n' "$p"
    fi
  done)
}
