#!/usr/bin/env bats
# install.sh, venvoy update and venvoy uninstall end to end: real bash, temporary homes,
# release folders built and signed (with a test key) by `deno task release:local`, and
# served on 127.0.0.1. The attacks on a mirror are performed here, on both install.sh and
# the installed venvoy's update.

load install_helpers

setup_file() {
  release_setup_file
}

teardown_file() {
  release_teardown_file
}

setup() {
  new_home
}

@test "shellcheck install.sh is clean" {
  run shellcheck "$REPO/install.sh"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "fresh install: binary, link, one rc block; venvoy and vup work in a new login shell" {
  run install_from new
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"Installed venvoy $NEW_VERSION at $H/.local/bin/venvoy"* ]]
  [[ $output == *"Signature verified ($KEY/public.pem)"* ]]
  [[ $output == *"trusting the release key in $KEY/public.pem (VENVOY_RELEASE_PUBKEY)"* ]]
  [[ $output == *"Added venvoy's block to $H/.bashrc"* ]]
  [[ $output == *"Runtime:"* ]] # runtime-info ran
  [ -x "$H/.local/bin/venvoy" ]
  [ "$(readlink "$LINKS/venvoy")" = "$H/.local/bin/venvoy" ]
  [ "$(grep -cxF '# >>> venvoy >>>' "$H/.bashrc")" -eq 1 ]
  # Only the block was added: the file is what it was, then "\n" and the block.
  head -c "$(wc -c <"$BATS_TEST_TMPDIR/before/.bashrc")" "$H/.bashrc" | cmp - "$BATS_TEST_TMPDIR/before/.bashrc"
  cmp "$H/.profile" "$BATS_TEST_TMPDIR/before/.profile"

  # A new interactive login shell, as a terminal opens one.
  run in_home bash -lic 'command -v venvoy; venvoy --version; type -t vup; vup help' </dev/null
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"$H/.local/bin/venvoy"* ]]
  [[ $output == *"$NEW_VERSION"* ]]
  [[ $output == *"function"* ]]
  [[ $output == *vup* ]]

  # The block adds the folder to PATH only when it is not there yet.
  run in_home bash -ic 'echo "$PATH"' </dev/null
  [ "$(printf '%s\n' "$output" | tail -n 1 | tr ':' '\n' | grep -cxF "$H/.local/bin")" -eq 1 ]
  run in_home PATH="/usr/bin:$H/.local/bin:/bin" bash -ic 'echo "$PATH"' </dev/null
  [ "$(printf '%s\n' "$output" | tail -n 1)" = "/usr/bin:$H/.local/bin:/bin" ]
}

@test "a second install changes nothing in the rc files" {
  install_from new
  mkdir "$BATS_TEST_TMPDIR/after-first"
  cp -a "$H/." "$BATS_TEST_TMPDIR/after-first/"
  run install_from new
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"venvoy $NEW_VERSION is already installed"* ]]
  [[ $output == *"$H/.bashrc already has venvoy's block"* ]]
  same_rc_files "$BATS_TEST_TMPDIR/after-first"
  [ "$(stat -c %Y "$H/.bashrc")" = "$(stat -c %Y "$BATS_TEST_TMPDIR/after-first/.bashrc")" ]
}

@test "a tampered binary is refused, and nothing is installed" {
  run install_from tampered
  [ "$status" -eq 1 ]
  [[ $output == *"checksum mismatch for $ASSET"* ]]
  [[ $output == *"nothing was installed"* ]]
  [ ! -e "$H/.local/bin/venvoy" ]
  [ ! -e "$LINKS/venvoy" ]
  same_rc_files "$BATS_TEST_TMPDIR/before"
}

@test "a mirror that replaced the binary and SHA256SUMS is refused: no, old or attacker's signature" {
  local sig
  for sig in none old attacker; do
    # The attack is consistent: only the signature can tell.
    (cd "$SRV/mirror-$sig" && sha256sum --quiet -c SHA256SUMS)
    run install_from "mirror-$sig"
    [ "$status" -eq 1 ] || { echo "$sig: $output"; false; }
    case $sig in
      none) [[ $output == *"the release at $SRV/mirror-none is not signed"* ]] ;;
      *) [[ $output == *"SHA256SUMS.sig is not a valid signature of SHA256SUMS by $KEY/public.pem"* ]] ;;
    esac
    [[ $output == *"nothing was installed"* ]]
    [ ! -e "$H/.local/bin/venvoy" ]
    [ ! -e "$LINKS/venvoy" ]
    same_rc_files "$BATS_TEST_TMPDIR/before"
  done

  # venvoy update, from the old release, to each mirror (which claims a newer version).
  install_from old >/dev/null
  local venvoy=$H/.local/bin/venvoy before
  before=$(sha256sum <"$venvoy")
  for sig in none old attacker; do
    run in_home VENVOY_RELEASE_URL="$SRV/mirror-$sig" "$venvoy" update
    [ "$status" -eq 1 ] || { echo "$sig: $output"; false; }
    [[ $output == *"venvoy: error: "*"SHA256SUMS.sig"* || $output == *"is not signed"* ]]
    [[ $output == *"hint: "*"nothing was changed"* ]]
    [ "$(sha256sum <"$venvoy")" = "$before" ]
    [ "$(ls -A "$H/.local/bin")" = venvoy ]
  done
}

@test "without VENVOY_RELEASE_PUBKEY the built-in key is used, and refuses the test key's release" {
  run install_from new VENVOY_RELEASE_PUBKEY=
  [ "$status" -eq 1 ]
  [[ $output == *"is not a valid signature of SHA256SUMS by the venvoy release key"* ]]
  [[ $output != *"trusting the release key"* ]]
  [ ! -e "$H/.local/bin/venvoy" ]
  install_from old >/dev/null
  run in_home VENVOY_RELEASE_PUBKEY= VENVOY_RELEASE_URL="$SRV/new" "$H/.local/bin/venvoy" update
  [ "$status" -eq 1 ]
  [[ $output == *"is not a valid signature by the built-in release key"* ]]
  [ "$(in_home "$H/.local/bin/venvoy" --version)" = "$OLD_VERSION" ]
}

@test "plain http:// is refused (exit 2) unless --insecure-http, which warns" {
  piped() { curl -fsSL "$URL/new/install.sh" | in_home "$@"; }
  run piped VENVOY_RELEASE_URL="$URL/new" bash
  [ "$status" -eq 2 ] || { echo "$output"; false; }
  [[ $output == *"refusing a plain http:// release URL: $URL/new"* ]]
  [[ $output == *"--insecure-http"* ]]
  [ ! -e "$H/.local" ]
  run piped bash -s -- --insecure-http --release-url "$URL/new"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"$URL/new is plain http"* ]]
  [[ $output == *"Signature verified"* ]] # still checked, over http
  [[ $output == *"Installed venvoy $NEW_VERSION"* ]]

  run in_home "$H/.local/bin/venvoy" update --check --release-url "$URL/new"
  [ "$status" -eq 2 ]
  [[ $output == *"refusing a plain http:// release URL"* ]]
  run in_home VENVOY_INSECURE_HTTP=1 "$H/.local/bin/venvoy" update --check --release-url "$URL/new"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"is plain http"* ]]
  [[ $output == *"venvoy $NEW_VERSION is up to date"* ]]
}

@test "with no OpenSSL 3, install.sh refuses; --no-verify-signature installs, warning loudly" {
  local min
  min=$(minimal_path no-openssl)
  run in_home PATH="$min" bash "$SRV/new/install.sh" --release-url "$SRV/new" --no-modify-rc
  [ "$status" -eq 1 ] || { echo "$output"; false; }
  [[ $output == *"no OpenSSL 3 here to check the release's signature with; nothing was installed"* ]]
  [[ $output == *"--no-verify-signature"* ]]
  [ ! -e "$H/.local" ]
  # An older OpenSSL, or LibreSSL, is no verifier either.
  printf '#!/bin/sh\necho "LibreSSL 3.3.6"\n' >"$min/openssl"
  chmod +x "$min/openssl"
  run in_home PATH="$min" bash "$SRV/new/install.sh" --release-url "$SRV/new" --no-modify-rc
  [ "$status" -eq 1 ]
  [[ $output == *"no OpenSSL 3 here"* ]]
  # Allowed, it installs, even an unsigned release, and says what it did not check.
  run in_home PATH="$min" VENVOY_ALLOW_UNSIGNED=1 bash "$SRV/mirror-none/install.sh" \
    --release-url "$SRV/mirror-none" --no-modify-rc
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"warning: NOT checking the release's signature"* ]]
  [[ $output == *"Installed venvoy $NEW_VERSION"* ]]
}

@test "a VERSION that does not match the signed SHA256SUMS is refused" {
  cp -R "$SRV/new" "$BATS_TEST_TMPDIR/relabelled"
  echo 9.9.9 >"$BATS_TEST_TMPDIR/relabelled/VERSION"
  run in_home bash "$SRV/new/install.sh" --release-url "$BATS_TEST_TMPDIR/relabelled" --no-modify-rc
  [ "$status" -eq 1 ]
  [[ $output == *"VERSION does not match its checksum in SHA256SUMS"* ]]
  [ ! -e "$H/.local" ]
}

@test "the installer is the updater: old, then new over it" {
  install_from old
  [ "$(in_home "$H/.local/bin/venvoy" --version)" = "$OLD_VERSION" ]
  run install_from new
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"Updated venvoy $OLD_VERSION -> $NEW_VERSION"* ]]
  [ "$(in_home "$H/.local/bin/venvoy" --version)" = "$NEW_VERSION" ]
  [ "$(grep -cxF '# >>> venvoy >>>' "$H/.bashrc")" -eq 1 ]
}

@test "venvoy update: --check reports, update replaces, environments are not touched" {
  install_from old
  local venvoy=$H/.local/bin/venvoy
  mkdir -p "$H/.venvoy/environments/demo"
  echo "name: demo" >"$H/.venvoy/environments/demo/config.yaml"
  local envs_before
  envs_before=$(tree_state "$H/.venvoy")

  run in_home VENVOY_RELEASE_URL="$SRV/new" "$venvoy" update --check
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"venvoy $NEW_VERSION is available (this is $OLD_VERSION)"* ]]
  [ "$(in_home "$venvoy" --version)" = "$OLD_VERSION" ]

  # A newer release whose binary fails its checksum: refused, this venvoy stays.
  run in_home VENVOY_RELEASE_URL="$SRV/tampered" "$venvoy" update
  [ "$status" -eq 1 ]
  [[ $output == *"checksum mismatch for $ASSET"* ]]
  [ "$(in_home "$venvoy" --version)" = "$OLD_VERSION" ]

  run in_home VENVOY_RELEASE_URL="$SRV/new" "$venvoy" update
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"Signature and checksum verified"* ]]
  [[ $output == *"Updated venvoy $OLD_VERSION -> $NEW_VERSION ($venvoy)"* ]]
  [ "$(in_home "$venvoy" --version)" = "$NEW_VERSION" ]
  [ "$(in_home "$LINKS/venvoy" --version)" = "$NEW_VERSION" ]
  cmp "$venvoy" "$SRV/new/$ASSET"
  [ "$(ls -A "$H/.local/bin")" = venvoy ]

  run in_home VENVOY_RELEASE_URL="$SRV/new" "$venvoy" update --check
  [[ $output == *"venvoy $NEW_VERSION is up to date"* ]]
  run in_home VENVOY_RELEASE_URL="$SRV/new" "$venvoy" upgrade
  [ "$status" -eq 0 ]
  [[ $output == *"is up to date"* ]]
  [ "$(tree_state "$H/.venvoy")" = "$envs_before" ]
}

@test "uninstall: --dry-run changes nothing, no terminal refuses, --force restores the rc files" {
  install_from new
  in_home VENVOY_SHELL=zsh bash -c "curl -fsSL '$URL/new/install.sh' | VENVOY_RELEASE_URL='$SRV/new' bash" >/dev/null
  [ -f "$H/.zshrc" ] # zsh's file did not exist before: the installer made it
  mkdir -p "$H/.venvoy/environments/demo" "$H/venvoy-projects/demo"
  echo sif >"$H/.venvoy/environments/demo/image.sif"
  # The image this home recorded (the fake podman's image has this ID and no owner key).
  printf 'name: demo\nengine: podman\nimage: localhost/venvoy/demo:1\nimage_id: sha256:%s\n' \
    "$(printf 'ab%.0s' $(seq 32))" >"$H/.venvoy/environments/demo/config.yaml"
  echo snap >"$H/venvoy-projects/demo/snapshot.yml"
  local fake state_before
  fake=$(fake_runtime_path)
  state_before=$(tree_state "$BATS_TEST_TMPDIR")

  run in_home PATH="$fake" "$H/.local/bin/venvoy" uninstall --dry-run
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"would remove (dry run, nothing changed)"* ]]
  [[ $output == *"podman container venvoy-run-1"* ]]
  [[ $output == *"podman image localhost/venvoy/demo:1"* ]]
  [[ $output == *"SIF file $H/.venvoy/environments/demo/image.sif"* ]]
  [[ $output == *"venvoy's block in $H/.bashrc"* ]]
  [[ $output == *"venvoy's block in $H/.zshrc"* ]]
  [[ $output == *"snapshots: $H/venvoy-projects"* ]]
  [[ $output == *"link $LINKS/venvoy"* ]]
  [[ $output == *"binary $H/.local/bin/venvoy"* ]]
  grep -v -e '^version' -e '^ps' -e '^images' -e '^image inspect' "$BATS_TEST_TMPDIR/podman.log" && false
  rm "$BATS_TEST_TMPDIR/podman.log"
  [ "$(tree_state "$BATS_TEST_TMPDIR")" = "$state_before" ]

  run in_home PATH="$fake" "$H/.local/bin/venvoy" uninstall </dev/null
  [ "$status" -eq 2 ]
  [[ $output == *"no terminal to ask on"* ]]
  [[ $output == *"--force"* ]]
  rm -f "$BATS_TEST_TMPDIR/podman.log"
  [ "$(tree_state "$BATS_TEST_TMPDIR")" = "$state_before" ]

  run in_home PATH="$fake" "$H/.local/bin/venvoy" uninstall --force </dev/null
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"venvoy was removed."* ]]
  same_rc_files "$BATS_TEST_TMPDIR/before"
  [ ! -e "$H/.zshrc" ]
  [ ! -e "$H/.local/bin/venvoy" ]
  [ ! -e "$LINKS/venvoy" ] && [ ! -L "$LINKS/venvoy" ]
  [ ! -e "$H/.venvoy" ]
  [ ! -e "$H/venvoy-projects" ]
  grep -qx 'rm -f c0ffee' "$BATS_TEST_TMPDIR/podman.log"
  grep -qx 'image rm localhost/venvoy/demo:1' "$BATS_TEST_TMPDIR/podman.log"
}

@test "rc files byte for byte: an empty one stays, CRLF is one block, other bytes survive" {
  : >"$H/.bashrc" # empty before the install
  printf '# caf\xe9 in Latin-1\n\xff\xfe\n' >"$H/.zshrc"
  cp "$H/.bashrc" "$H/.zshrc" "$BATS_TEST_TMPDIR/before/"
  install_from new >/dev/null
  in_home VENVOY_SHELL=zsh bash -c "curl -fsSL '$URL/new/install.sh' | VENVOY_RELEASE_URL='$SRV/new' bash" >/dev/null
  # An editor converts .bashrc to CRLF; installing again finds the block and adds no second.
  sed -i 's/$/\r/' "$H/.bashrc"
  install_from new >/dev/null
  [ "$(grep -c '^# >>> venvoy >>>' "$H/.bashrc")" -eq 1 ]
  run in_home PATH="$(fake_runtime_path)" "$H/.local/bin/venvoy" uninstall --force </dev/null
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ -f "$H/.bashrc" ] && [ ! -s "$H/.bashrc" ] # still there, still empty
  cmp "$BATS_TEST_TMPDIR/before/.zshrc" "$H/.zshrc"
}

@test "uninstall --keep-projects --keep-images keeps snapshots and SIFs, asks no runtime" {
  install_from new
  mkdir -p "$H/.venvoy/environments/demo" "$H/venvoy-projects/demo"
  echo sif >"$H/.venvoy/environments/demo/image.sif"
  echo cfg >"$H/.venvoy/environments/demo/config.yaml"
  echo snap >"$H/venvoy-projects/demo/snapshot.yml"
  local fake
  fake=$(fake_runtime_path)
  run in_home PATH="$fake" "$H/.local/bin/venvoy" uninstall --force --keep-projects --keep-images
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ ! -e "$BATS_TEST_TMPDIR/podman.log" ]
  [ -f "$H/.venvoy/environments/demo/image.sif" ]
  [ ! -e "$H/.venvoy/environments/demo/config.yaml" ]
  [ -f "$H/venvoy-projects/demo/snapshot.yml" ]
  same_rc_files "$BATS_TEST_TMPDIR/before"
}

@test "with wget only and no container runtime, the install works and says what to install" {
  command -v wget >/dev/null || skip "wget is not installed (apt-get install -y wget)"
  local min
  min=$(minimal_path)
  # Over http (allowed), so that wget downloads the release files.
  run bash -c "curl -fsSL '$URL/new/install.sh' | env -i HOME='$H' PATH='$min' DENO_DIR='$DENO_DIR' \
    SHELL=/bin/bash VENVOY_LINK_DIR='$LINKS' VENVOY_RELEASE_URL='$URL/new' VENVOY_INSECURE_HTTP=1 \
    VENVOY_RELEASE_PUBKEY='$KEY/public.pem' bash"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"Signature verified"* ]]
  [[ $output == *"Installed venvoy $NEW_VERSION"* ]]
  [[ $output == *"none of docker, podman, apptainer, singularity is on PATH"* ]]
  [[ $output == *"it needs a container runtime"* ]]
  [[ $output == *"venvoy runtime-info"* ]]
}

@test "--no-modify-rc prints the block and changes no startup file" {
  run bash -c "curl -fsSL '$URL/new/install.sh' | env -i HOME='$H' PATH=/usr/bin:/bin \
    DENO_DIR='$DENO_DIR' SHELL=/usr/bin/fish VENVOY_LINK_DIR= VENVOY_RELEASE_URL='$SRV/new' \
    VENVOY_RELEASE_PUBKEY='$KEY/public.pem' bash -s -- --no-modify-rc"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ $output == *"For venvoy and vup, add to $H/.config/fish/conf.d/venvoy.fish:"* ]]
  [[ $output == *"venvoy shell-init fish | source"* ]]
  same_rc_files "$BATS_TEST_TMPDIR/before"
  [ ! -e "$H/.config/fish" ]
  [ -x "$H/.local/bin/venvoy" ]
}

@test "the installer reads nothing from stdin and a partial download runs nothing" {
  # Half of the script, piped to bash: it must fail to parse, and create nothing.
  local half
  half=$(($(wc -c <"$SRV/new/install.sh") / 2))
  run bash -c "head -c $half '$SRV/new/install.sh' | env -i HOME='$H' PATH=/usr/bin:/bin \
    VENVOY_RELEASE_URL='$SRV/new' bash"
  [ "$status" -ne 0 ]
  [ ! -e "$H/.local" ]
  same_rc_files "$BATS_TEST_TMPDIR/before"
  # Truncated just before the last line: only functions were defined, nothing ran.
  run bash -c "sed '\$d' '$SRV/new/install.sh' | env -i HOME='$H' PATH=/usr/bin:/bin \
    VENVOY_RELEASE_URL='$SRV/new' bash"
  [ "$status" -eq 0 ]
  [ ! -e "$H/.local" ]
}
