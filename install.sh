#!/usr/bin/env bash
# venvoy installer and updater for Linux, macOS and WSL.
#
#   curl -fsSL https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download/install.sh | bash
#
# Downloads SHA256SUMS and its signature SHA256SUMS.sig from the release folder and checks
# the signature with the venvoy release key written below, before it trusts any checksum.
# Then it downloads VERSION and venvoy-<target>, checks them against SHA256SUMS, installs
# the binary to ~/.local/bin, and adds one marked block to your shell's startup file so
# `venvoy` is on PATH and `vup` is defined. Running it again updates venvoy and leaves an
# up-to-date block alone. It never asks questions. docs/install.md has the rest.
#
# Options (after `bash -s --` when piped), or the environment variables beside them:
#   --release-url URL      VENVOY_RELEASE_URL       release folder (https://, file:// or a path)
#   --install-dir DIR      VENVOY_INSTALL_DIR       where the binary goes (default ~/.local/bin)
#   --shell NAME           VENVOY_SHELL             bash, zsh or fish (default: from $SHELL)
#   --no-modify-rc         VENVOY_NO_MODIFY_RC=1    print the startup lines, change no file
#   --no-link              VENVOY_LINK_DIR=         no link in /usr/local/bin
#   --insecure-http        VENVOY_INSECURE_HTTP=1   accept a plain http:// release folder
#   --no-verify-signature  VENVOY_ALLOW_UNSIGNED=1  install without checking the signature
#
# The signature is checked with OpenSSL 3 or later (`openssl` or `openssl3` on PATH, or
# Homebrew's openssl@3). Where there is none (macOS ships LibreSSL, which cannot check it),
# the installer REFUSES and says how to get one. --no-verify-signature installs anyway,
# with a warning: the SHA-256 is then checked against a SHA256SUMS from the same server as
# the binary, which catches a broken download but not a tampered mirror.
# VENVOY_RELEASE_PUBKEY=FILE trusts the Ed25519 public key in FILE instead of the built-in
# one (tests, sites that re-sign a mirror); it weakens the check to that key, and warns.
#
# Everything below is functions; the last line calls main. A partial download therefore
# fails to parse or defines functions only, and runs nothing.

if [ -z "${BASH_VERSION:-}" ]; then
  echo "venvoy-install: error: run this script with bash (curl -fsSL <url>/install.sh | bash)" >&2
  exit 1
fi

VENVOY_DEFAULT_RELEASE_URL="https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download"
# The venvoy release key (src/release/key.ts holds the same; docs/install.md, "Signing releases").
VENVOY_RELEASE_KEY_PEM='-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAtMYAqTdWnYHBRMd42Z3mWMpyIOuJ3F94NMMaWQHnEPw=
-----END PUBLIC KEY-----'
VENVOY_BLOCK_BEGIN="# >>> venvoy >>>"
VENVOY_BLOCK_END="# <<< venvoy <<<"
# The block's comment line; the second form says the installer created the file, so that
# uninstall deletes the file only then (an empty file someone had before stays).
# shellcheck disable=SC2016 # the backquotes are text in a comment line
VENVOY_BLOCK_NOTE='# Added by the venvoy installer; `venvoy uninstall` removes this block.'
# shellcheck disable=SC2016
VENVOY_BLOCK_NOTE_CREATED='# Added by the venvoy installer, which created this file; `venvoy uninstall` removes both.'

say() { printf '%s\n' "$*"; }
warn() { printf 'venvoy-install: warning: %s\n' "$*" >&2; }

error() {
  printf 'venvoy-install: error: %s\n' "$1" >&2
  if [ -n "${2:-}" ]; then printf 'hint: %s\n' "$2" >&2; fi
}
die() { error "$@"; exit 1; }
# Bad input (an option, a URL): exit 2, as venvoy's own usage errors.
usage_die() { error "$@"; exit 2; }

have() { command -v "$1" >/dev/null 2>&1; }

usage() {
  sed -n '2,29s/^# \{0,1\}//p' "${BASH_SOURCE[0]:-}" 2>/dev/null ||
    say "usage: install.sh [--release-url URL] [--install-dir DIR] [--shell NAME] [--no-modify-rc] [--no-link] [--insecure-http] [--no-verify-signature]"
}

# x86_64-unknown-linux-gnu, aarch64-apple-darwin, ...: the release target of this machine.
detect_target() {
  local os arch
  os=$(uname -s)
  arch=$(uname -m)
  case $arch in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no venvoy release for the $arch processor" "releases exist for x86_64 and aarch64" ;;
  esac
  case $os in
    Linux)
      if have ldd && ldd --version 2>&1 | grep -qi musl; then
        die "this Linux uses musl libc (Alpine?); venvoy's release builds need glibc" \
          "use a glibc distribution, or a container with one"
      fi
      printf '%s\n' "$arch-unknown-linux-gnu"
      ;;
    Darwin)
      # An x86_64 shell under Rosetta on Apple silicon: install the native build.
      if [ "$arch" = x86_64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
        arch=aarch64
      fi
      printf '%s\n' "$arch-apple-darwin"
      ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT)
      die "this is Windows; use install.ps1 in PowerShell, or run this script inside WSL" \
        "iwr -useb https://github.com/zaphodbeeblebrox3rd/venvoy/releases/latest/download/install.ps1 | iex"
      ;;
    *) die "no venvoy release for $os" "releases exist for Linux, macOS and Windows" ;;
  esac
}

# fetch URL FILE: http(s) with curl or wget; file:// URLs and plain paths are copied.
# curl follows no redirect from https to http (wget has no such switch).
fetch() {
  local proto='=https'
  case $1 in
    file://*) cp "${1#file://}" "$2" 2>/dev/null ;;
    /*) cp "$1" "$2" 2>/dev/null ;;
    *)
      case $1 in http://*) proto='=http,https' ;; esac
      if have curl; then
        curl -fsSL --retry 2 --connect-timeout 20 --proto "$proto" --proto-redir "$proto" -o "$2" "$1"
      elif have wget; then
        wget -q -O "$2" "$1"
      else
        die "neither curl nor wget is installed" "install one of them, then run this again"
      fi
      ;;
  esac
}

sha256_of() {
  if have sha256sum; then
    sha256sum <"$1" | awk '{ print tolower($1) }'
  elif have shasum; then
    shasum -a 256 <"$1" | awk '{ print tolower($1) }'
  elif have openssl; then
    openssl dgst -sha256 -r <"$1" | awk '{ print tolower($1) }'
  else
    die "no sha256sum, shasum or openssl to check the download with" "install coreutils or perl"
  fi
}

# expected_sum SHA256SUMS NAME: the checksum listed for NAME ("<hex>  NAME" or "<hex> *NAME").
expected_sum() {
  awk -v n="$2" '($2 == n || $2 == "*" n) && $1 ~ /^[0-9a-fA-F]+$/ && length($1) == 64 {
    print tolower($1); found = 1; exit
  } END { exit !found }' "$1"
}

# find_openssl: the path of an openssl that checks Ed25519 signatures (OpenSSL 3 or later;
# LibreSSL, macOS's openssl, cannot).
find_openssl() {
  local o
  for o in openssl openssl3 /opt/homebrew/opt/openssl@3/bin/openssl /usr/local/opt/openssl@3/bin/openssl; do
    if have "$o" && "$o" version 2>/dev/null | grep -Eq '^OpenSSL ([3-9]|[1-9][0-9])\.'; then
      command -v "$o"
      return 0
    fi
  done
  return 1
}

# verify_signature OPENSSL SUMS SIG KEY: succeeds when SIG (base64 of a raw 64-byte Ed25519
# signature, src/release/signature.ts) is KEY's signature of the bytes of SUMS.
verify_signature() {
  local raw=$3.bin
  "$1" base64 -d -A -in "$3" -out "$raw" 2>/dev/null || return 1
  [ "$(wc -c <"$raw" | tr -d ' ')" = 64 ] || return 1
  "$1" pkeyutl -verify -pubin -inkey "$4" -rawin -in "$2" -sigfile "$raw" >/dev/null 2>&1
}

# A folder as the startup block writes it: under $HOME as "$HOME/...", so dotfiles travel.
shell_path() {
  case $1 in
    *[\"\$\`\\]* | *"
"*) return 1 ;;
  esac
  local home=${HOME%/}
  if [ "$1" = "$home" ]; then
    printf '%s\n' "\$HOME"
  elif [ -n "$home" ] && [ "${1#"$home"/}" != "$1" ]; then
    printf '%s\n' "\$HOME/${1#"$home"/}"
  else
    printf '%s\n' "$1"
  fi
}

# rc_block SHELL DIR: the block, without its final newline (src/release/rc_block.ts).
rc_block() {
  local dir
  dir=$(shell_path "$2") || return 1
  printf '%s\n' "$VENVOY_BLOCK_BEGIN" "$VENVOY_BLOCK_NOTE"
  if [ "$1" = fish ]; then
    printf '%s\n' "if not contains -- \"$dir\" \$PATH" \
      "    set -gx PATH \"$dir\" \$PATH" \
      "end" \
      "if command -q venvoy" \
      "    venvoy shell-init fish | source" \
      "end"
  else
    printf '%s\n' "case \":\$PATH:\" in *\":$dir:\"*) ;; *) export PATH=\"$dir:\$PATH\" ;; esac"
    printf '%s\n' "if command -v venvoy >/dev/null 2>&1; then eval \"\$(venvoy shell-init $1)\"; fi"
  fi
  printf '%s' "$VENVOY_BLOCK_END"
}

# rc_file_for SHELL: the startup file the block goes in (rcFileFor in rc_block.ts).
rc_file_for() {
  case $1 in
    bash)
      # macOS terminals start login shells, which read ~/.bash_profile and not ~/.bashrc.
      if [ "$(uname -s)" = Darwin ]; then
        printf '%s\n' "$HOME/.bash_profile"
      else
        printf '%s\n' "$HOME/.bashrc"
      fi
      ;;
    zsh) printf '%s\n' "${ZDOTDIR:-$HOME}/.zshrc" ;;
    fish) printf '%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/fish/conf.d/venvoy.fish" ;;
    *) return 1 ;;
  esac
}

resolve_link() {
  local f=$1 l n=0
  while [ -L "$f" ] && [ "$n" -lt 40 ]; do
    l=$(readlink "$f")
    case $l in
      /*) f=$l ;;
      *) f=$(dirname "$f")/$l ;;
    esac
    n=$((n + 1))
  done
  printf '%s\n' "$f"
}

# upsert_block FILE BLOCK: adds the block ("\n" + block after existing text) or replaces
# the lines from marker to marker (ending in "\n" or "\r\n"); every other byte of FILE
# stays as it was. A file that did not exist gets the "created this file" note, and keeps
# it when updated. Prints "added", "updated" or "unchanged"; writes nothing when nothing
# changes.
upsert_block() {
  local file=$1 block=$2 new s e target tmpf result cr=$'\r'
  new=$(mktemp "${VENVOY_TMP:-/tmp}/rc.XXXXXX") || return 1
  if [ -f "$file" ] && grep -qxF -e "$VENVOY_BLOCK_BEGIN" -e "$VENVOY_BLOCK_BEGIN$cr" "$file"; then
    s=$(grep -nxF -e "$VENVOY_BLOCK_BEGIN" -e "$VENVOY_BLOCK_BEGIN$cr" "$file" | head -n 1 | cut -d: -f1)
    e=$(awk -v s="$s" -v m="$VENVOY_BLOCK_END" 'NR > s && ($0 == m || $0 == m "\r") { print NR; exit }' "$file")
    if [ -z "$e" ]; then
      rm -f "$new"
      warn "$file has the line '$VENVOY_BLOCK_BEGIN' but not '$VENVOY_BLOCK_END' after it; left alone"
      return 1
    fi
    if awk -v s="$s" -v e="$e" 'NR > s && NR < e' "$file" | tr -d '\r' | grep -qxF "$VENVOY_BLOCK_NOTE_CREATED"; then
      block=${block/"$VENVOY_BLOCK_NOTE"/"$VENVOY_BLOCK_NOTE_CREATED"}
    fi
    result=updated
    { awk -v s="$s" 'NR < s' "$file" && printf '%s\n' "$block" && tail -n +"$((e + 1))" "$file"; } >"$new"
  elif [ -s "$file" ]; then
    result=added
    { cat "$file" && printf '\n%s\n' "$block"; } >"$new"
  else
    result=added
    [ -e "$file" ] || block=${block/"$VENVOY_BLOCK_NOTE"/"$VENVOY_BLOCK_NOTE_CREATED"}
    printf '%s\n' "$block" >"$new"
  fi || { rm -f "$new"; return 1; }
  if [ -f "$file" ] && cmp -s "$file" "$new"; then
    result=unchanged
  else
    target=$(resolve_link "$file")
    if [ -f "$target" ]; then
      # Atomic: a copy beside it (keeping its mode), filled, then renamed over it.
      if ! tmpf=$(mktemp "$(dirname "$target")/.venvoy-rc.XXXXXX"); then
        rm -f "$new"
        return 1
      fi
      if ! { cp -p "$target" "$tmpf" && cat "$new" >"$tmpf" && mv -f "$tmpf" "$target"; }; then
        rm -f "$tmpf" "$new"
        return 1
      fi
    else
      { mkdir -p "$(dirname "$target")" && cat "$new" >"$target"; } || { rm -f "$new"; return 1; }
    fi
  fi
  rm -f "$new"
  printf '%s\n' "$result"
}

# The advice printed when no container runtime answers.
runtime_advice() {
  say ""
  say "venvoy is installed, but it needs a container runtime to build and run environments:"
  case $(uname -s) in
    Darwin) say "  macOS: install Docker Desktop (or Podman Desktop), start it, and open a new terminal." ;;
    *)
      if grep -qi microsoft /proc/version 2>/dev/null; then
        say "  WSL: install Docker Desktop on Windows and turn on WSL integration for this distribution,"
        say "       or install Podman inside WSL (sudo apt-get install podman)."
      else
        say "  Linux: install Podman or Docker Engine with your package manager (sudo apt-get install podman);"
        say "         on an HPC cluster, load Apptainer or Singularity (module load apptainer)."
      fi
      ;;
  esac
  say "Then check with: venvoy runtime-info"
}

cleanup() {
  if [ -n "${VENVOY_TMP:-}" ]; then rm -rf "$VENVOY_TMP"; fi
}

main() {
  set -u
  local release_url=${VENVOY_RELEASE_URL:-$VENVOY_DEFAULT_RELEASE_URL}
  local install_dir=${VENVOY_INSTALL_DIR:-}
  local link_dir=${VENVOY_LINK_DIR-/usr/local/bin}
  local shell_name=${VENVOY_SHELL:-}
  local modify_rc=1 insecure_http=0 check_signature=1
  case ${VENVOY_NO_MODIFY_RC:-} in 1 | true | yes) modify_rc=0 ;; esac
  case ${VENVOY_INSECURE_HTTP:-} in 1 | true | yes) insecure_http=1 ;; esac
  case ${VENVOY_ALLOW_UNSIGNED:-} in 1 | true | yes) check_signature=0 ;; esac

  while [ $# -gt 0 ]; do
    case $1 in
      --release-url) release_url=${2:?--release-url needs a URL}; shift ;;
      --release-url=*) release_url=${1#*=} ;;
      --install-dir) install_dir=${2:?--install-dir needs a folder}; shift ;;
      --install-dir=*) install_dir=${1#*=} ;;
      --shell) shell_name=${2:?--shell needs bash, zsh or fish}; shift ;;
      --shell=*) shell_name=${1#*=} ;;
      --no-modify-rc) modify_rc=0 ;;
      --no-link) link_dir= ;;
      --insecure-http) insecure_http=1 ;;
      --no-verify-signature) check_signature=0 ;;
      -h | --help) usage; return 0 ;;
      *) usage_die "unknown option '$1'" "see: bash install.sh --help" ;;
    esac
    shift
  done

  [ -n "${HOME:-}" ] || die "HOME is not set"
  [ -n "$install_dir" ] || install_dir=$HOME/.local/bin
  case $install_dir in
    /*) ;;
    *) die "the install folder must be an absolute path: $install_dir" ;;
  esac
  install_dir=${install_dir%/}
  release_url=${release_url%/}
  case $release_url in
    https://* | file://* | /*) ;;
    http://*)
      [ "$insecure_http" = 1 ] ||
        usage_die "refusing a plain http:// release URL: $release_url" \
          "use https://, a file:// URL or a path; or, on a network you trust, add --insecure-http (VENVOY_INSECURE_HTTP=1)"
      warn "$release_url is plain http: anyone on the network sees what is fetched and can hold back updates (the signature still guards the binary)"
      ;;
    *) usage_die "the release URL is not https://, file:// or an absolute path: $release_url" \
      "use https://host/folder, file:///folder or /folder (the folder holds VERSION)" ;;
  esac
  if [ -z "$shell_name" ]; then shell_name=$(basename "${SHELL:-bash}"); fi

  local target asset dest version expected actual staged printed old="" openssl_bin="" key key_name
  if [ "$check_signature" = 1 ]; then
    openssl_bin=$(find_openssl) ||
      die "no OpenSSL 3 here to check the release's signature with; nothing was installed" \
        "install OpenSSL 3 (apt-get install openssl, dnf install openssl, brew install openssl@3) and run this again; or, accepting a tampered mirror, add --no-verify-signature (VENVOY_ALLOW_UNSIGNED=1)"
  fi
  target=$(detect_target) || exit 1
  asset=venvoy-$target
  dest=$install_dir/venvoy

  VENVOY_TMP=$(mktemp -d 2>/dev/null || mktemp -d -t venvoy) || die "cannot create a temporary folder"
  trap cleanup EXIT

  say "venvoy: installing from $release_url"
  fetch "$release_url/SHA256SUMS" "$VENVOY_TMP/SHA256SUMS" ||
    die "could not download $release_url/SHA256SUMS" "check the network, or set VENVOY_RELEASE_URL to a mirror"
  if [ "$check_signature" = 1 ]; then
    key=$VENVOY_TMP/release.pub.pem
    key_name="the venvoy release key"
    if [ -n "${VENVOY_RELEASE_PUBKEY:-}" ]; then
      key=$VENVOY_RELEASE_PUBKEY
      key_name=$key
      if [ ! -f "$key" ] || [ ! -r "$key" ]; then
        usage_die "VENVOY_RELEASE_PUBKEY names $key, which cannot be read" "unset it to use the built-in release key"
      fi
      warn "trusting the release key in $key (VENVOY_RELEASE_PUBKEY) instead of the built-in one: whoever holds its private key can ship you a binary"
    else
      printf '%s\n' "$VENVOY_RELEASE_KEY_PEM" >"$key"
    fi
    fetch "$release_url/SHA256SUMS.sig" "$VENVOY_TMP/SHA256SUMS.sig" ||
      die "the release at $release_url is not signed (no SHA256SUMS.sig could be downloaded); nothing was installed" \
        "a release from before signing, or a mirror that was tampered with; use the project's release"
    verify_signature "$openssl_bin" "$VENVOY_TMP/SHA256SUMS" "$VENVOY_TMP/SHA256SUMS.sig" "$key" ||
      die "SHA256SUMS.sig is not a valid signature of SHA256SUMS by $key_name; nothing was installed" \
        "the release was tampered with, or was not signed by the venvoy project; use the project's release or a faithful mirror"
    say "Signature verified ($key_name)"
  else
    warn "NOT checking the release's signature (--no-verify-signature): the checksums come from the same server as the binary, so a tampered mirror would go unnoticed"
  fi
  fetch "$release_url/VERSION" "$VENVOY_TMP/VERSION" ||
    die "could not download $release_url/VERSION" "check the network, or set VENVOY_RELEASE_URL to a mirror"
  version=$(head -n 1 "$VENVOY_TMP/VERSION" | tr -d '[:space:]')
  case $version in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) die "$release_url/VERSION does not hold a version" "is VENVOY_RELEASE_URL a venvoy release folder?" ;;
  esac
  expected=$(expected_sum "$VENVOY_TMP/SHA256SUMS" VERSION) || expected=none
  if [ "$(sha256_of "$VENVOY_TMP/VERSION")" != "$expected" ]; then
    die "$release_url/VERSION does not match its checksum in SHA256SUMS; nothing was installed" \
      "the release folder is incomplete or was tampered with"
  fi
  expected=$(expected_sum "$VENVOY_TMP/SHA256SUMS" "$asset") ||
    die "release $version has no $asset in its SHA256SUMS" "this platform may not be supported by that release"

  if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$expected" ]; then
    say "venvoy $version is already installed at $dest"
  else
    say "Downloading $asset ($version)"
    fetch "$release_url/$asset" "$VENVOY_TMP/$asset" || die "could not download $release_url/$asset"
    actual=$(sha256_of "$VENVOY_TMP/$asset")
    if [ "$actual" != "$expected" ]; then
      die "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing was installed" \
        "the download was corrupted or tampered with; try again, or report it"
    fi
    mkdir -p "$install_dir" || die "cannot create $install_dir" "choose another folder with VENVOY_INSTALL_DIR"
    staged=$install_dir/.venvoy.new.$$
    if ! { cp "$VENVOY_TMP/$asset" "$staged" && chmod 755 "$staged"; }; then
      rm -f "$staged"
      die "cannot write to $install_dir" "choose another folder with VENVOY_INSTALL_DIR"
    fi
    # The new binary must run here before it replaces anything.
    printed=$("$staged" --version </dev/null 2>&1 | tail -n 1)
    if [ "${printed##* }" != "$version" ]; then
      rm -f "$staged"
      if head -c 2 "$VENVOY_TMP/$asset" | grep -q '#!' && ! have deno; then
        die "this release is a development build (a script run by deno), and deno is not installed" \
          "install a published release, or put deno on PATH"
      fi
      die "the downloaded venvoy does not run here (it said: ${printed:-nothing}); nothing was installed"
    fi
    if [ -x "$dest" ]; then old=$("$dest" --version </dev/null 2>/dev/null | tail -n 1); fi
    mv -f "$staged" "$dest" || { rm -f "$staged"; die "cannot replace $dest"; }
    if [ -n "$old" ] && [ "$old" != "$version" ]; then
      say "Updated venvoy $old -> $version at $dest"
    else
      say "Installed venvoy $version at $dest"
    fi
  fi

  # A link in /usr/local/bin when it is writable, so venvoy works before PATH changes.
  if [ -n "$link_dir" ] && [ "$link_dir" != "$install_dir" ] && [ -d "$link_dir" ] && [ -w "$link_dir" ]; then
    if [ -e "$link_dir/venvoy" ] && [ ! -L "$link_dir/venvoy" ]; then
      warn "$link_dir/venvoy exists and is not a link; left alone"
    elif [ "$(readlink "$link_dir/venvoy" 2>/dev/null)" != "$dest" ]; then
      ln -sfn "$dest" "$link_dir/venvoy" && say "Linked $link_dir/venvoy -> $dest"
    fi
  fi

  local rc block result sourced=""
  if rc=$(rc_file_for "$shell_name") && block=$(rc_block "$shell_name" "$install_dir"); then
    if [ "$modify_rc" = 1 ]; then
      if result=$(upsert_block "$rc" "$block"); then
        sourced=$rc
        case $result in
          added) say "Added venvoy's block to $rc" ;;
          updated) say "Updated venvoy's block in $rc" ;;
          *) say "$rc already has venvoy's block" ;;
        esac
      else
        warn "could not change $rc; add these lines to it yourself:"
        printf '%s\n' "$block" >&2
      fi
    else
      say "No startup file changed (--no-modify-rc). For venvoy and vup, add to $rc:"
      printf '%s\n' "$block"
    fi
  else
    warn "no startup file changed: '$shell_name' is not bash, zsh or fish (set VENVOY_SHELL to choose)"
    say "Add $install_dir to your PATH to run venvoy; vup needs bash, zsh or fish."
  fi

  say ""
  local rc_status=0
  "$dest" runtime-info </dev/null || rc_status=$?
  if [ "$rc_status" = 3 ]; then
    runtime_advice
  elif [ "$rc_status" != 0 ]; then
    warn "venvoy runtime-info failed (exit $rc_status)"
  fi

  say ""
  case ":${PATH:-}:" in
    *":$install_dir:"*) say "Done. Open a new terminal to use vup." ;;
    *) say "Done. Open a new terminal to use venvoy and vup${sourced:+ (or: source $sourced)}." ;;
  esac
}

# Sourced (as the tests do), it only defines the functions above.
if ! (return 0 2>/dev/null); then main "$@"; fi
