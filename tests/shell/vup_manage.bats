#!/usr/bin/env bats
# vup init, new and rm in real bash with real venvs (`vup new` runs python3 -m venv).

bats_require_minimum_version 1.5.0

load vup_helpers

setup_file() { vup_setup_file; }
setup() { vup_setup; }

# --------------------------------------------------------------------------- init

@test "init creates .venv in the cwd within ~ and prints nothing" {
    mkdir -p "$H/proj"
    run --separate-stderr vsh 'cd proj && vup init'
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ -z "$stderr" ]
    [ -d "$H/proj/.venv" ]
}

@test "init where .venv exists: error that suggests vup new <name>" {
    mkdir -p "$H/.venv"
    run --separate-stderr vsh 'vup init'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: ~/.venv already exists" ]
    [ "${stderr_lines[1]}" = "hint: create a venv in it with: vup new <name>" ]
    : >"$H/x.venv-file"
    mkdir -p "$H/f" && : >"$H/f/.venv"
    run --separate-stderr vsh 'cd f && vup init'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: ~/f/.venv already exists" ]
}

@test "init outside ~ creates ~/.venv if it is missing" {
    run --separate-stderr vsh 'cd "$OUT" && vup init'
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ -d "$H/.venv" ]
    [ ! -e "$OUT/.venv" ]
    run --separate-stderr vsh 'cd "$OUT" && vup init'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: ~/.venv already exists" ]
}

# --------------------------------------------------------------------------- new

@test "new within ~ without .venv/: error suggesting vup init" {
    mkdir -p "$H/proj"
    run --separate-stderr vsh 'cd proj && vup new main'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: there is no .venv/ in ~/proj" ]
    [ "${stderr_lines[1]}" = "hint: create one with: vup init" ]
    [ ! -e "$H/proj/.venv" ]
}

@test "new creates with python3 -m venv, prints the full path, then activates" {
    mkdir -p "$H/proj/foo"
    run --separate-stderr vsh '
        cd ~/proj/foo && vup init && PS1="> "
        vup new main || exit 1
        printf "%s\n" "${PS1@P}" "$VIRTUAL_ENV" "$(command -v python)"
        python -c "import sys; print(sys.prefix)"
        vup ls'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "Created $H/proj/foo/.venv/main"
    assert_line_eq 1 "Activated main from ~/proj/foo/.venv/"
    assert_line_eq 2 "(foo/main) > "
    assert_line_eq 3 "$H/proj/foo/.venv/main"
    assert_line_eq 4 "$H/proj/foo/.venv/main/bin/python"
    assert_line_eq 5 "$H/proj/foo/.venv/main"
    assert_line_eq 6 "* main  ~/proj/foo"
    [ -f "$H/proj/foo/.venv/main/pyvenv.cfg" ]
}

@test "new: the vup-core contract prints the created path on stdout" {
    mkdir -p "$H/.venv"
    cd "$H"
    run --separate-stderr env HOME="$H" PWD="$H" PATH="$T/pybin:$PATH" deno run -A "$VUP_BIN" vup-core new data
    [ "$status" -eq 0 ]
    [ "$output" = "$H/.venv/data" ]
    [ -f "$H/.venv/data/bin/activate" ]
}

@test "new with an existing name is an error and changes nothing" {
    mkvenv "$H/.venv/main"
    before=$(ls -la "$H/.venv/main")
    run --separate-stderr vsh 'vup new main'
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "${stderr_lines[0]}" = "vup: error: a venv named 'main' already exists in ~/.venv/" ]
    [ "$(ls -la "$H/.venv/main")" = "$before" ]
}

@test "new outside ~ creates ~/.venv/ first, then ~/.venv/<name>, and activates it" {
    run --separate-stderr vsh 'cd "$OUT" && PS1="> " && vup new main && printf "%s\n" "${PS1@P}"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "Created $H/.venv/main"
    assert_line_eq 1 "Activated main from ~/.venv/"
    assert_line_eq 2 "(~/main) > "
    [ ! -e "$OUT/.venv" ]
}

@test "new switching from an active venv does not stack prefixes" {
    mkvenv "$H/.venv/main"
    mkdir -p "$H/p/.venv"
    run vsh 'PS1="> "; vup main >/dev/null; cd p; vup new other >/dev/null; printf "%s\n" "${PS1@P}"; vup off; printf "[%s]\n" "$PS1"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "(p/other) > "
    assert_line_eq 1 "[> ]"
}

@test "new when python3 fails leaves nothing behind" {
    mkdir -p "$H/.venv" "$T/badpy"
    printf '#!/bin/sh\nmkdir -p "$3/lib"\necho "no venv module" >&2\nexit 1\n' >"$T/badpy/python3"
    chmod +x "$T/badpy/python3"
    run --separate-stderr vsh 'PATH="$T/badpy:$PATH" vup new main'
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"no venv module"* ]]
    [[ "$stderr" == *"vup: error: could not create ~/.venv/main: python3 -m venv exited with status 1"* ]]
    [ ! -e "$H/.venv/main" ]
}

# --------------------------------------------------------------------------- rm

@test "rm outside ~: must be removed from the branch directory" {
    mkvenv "$H/.venv/main"
    run --separate-stderr vsh 'cd "$OUT" && vup rm main <<<main'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: venvs must be removed from their branch directory." ]
    [ -d "$H/.venv/main" ]
}

@test "rm with no .venv/ in the cwd: must be removed from the branch directory" {
    mkvenv "$H/.venv/main"
    mkdir -p "$H/proj"
    run --separate-stderr vsh 'cd proj && vup rm main <<<main'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: venvs must be removed from their branch directory." ]
    [ -d "$H/.venv/main" ]
}

@test "rm of a name not in this .venv/ is an error" {
    mkvenv "$H/.venv/main"
    mkdir -p "$H/proj/.venv"
    run --separate-stderr vsh 'cd proj && vup rm main <<<main'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: 'main' is not in this directory's .venv/ (~/proj/.venv/)" ]
    [ -d "$H/.venv/main" ]
}

@test "rm of something that is not a valid venv is an error, and nothing is deleted" {
    mkdir -p "$H/proj/.venv/junk/lib"
    : >"$H/proj/.venv/file"
    run --separate-stderr vsh 'cd proj && vup rm junk <<<junk'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: ~/proj/.venv/junk has no bin/activate, so it is not a venv; nothing was removed" ]
    [ -d "$H/proj/.venv/junk/lib" ]
    run --separate-stderr vsh 'cd proj && vup rm file <<<file'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: error: ~/proj/.venv/file is not a directory; nothing was removed" ]
    [ -f "$H/proj/.venv/file" ]
}

@test "rm asks for the exact name, removes, and confirms (no home warning outside ~ itself)" {
    mkvenv "$H/proj/.venv/main" "$H/proj/.venv/keep"
    run --separate-stderr vsh 'cd proj && vup rm main <<<main'
    [ "$status" -eq 0 ]
    [ "$output" = "Removed main from ~/proj/.venv/" ]
    # (bats trims the prompt's trailing space)
    [ "${stderr_lines[0]}" = "Type 'main' to confirm removal:" ]
    [[ "$stderr" != *Warning* ]]
    [ ! -e "$H/proj/.venv/main" ]
    [ -d "$H/proj/.venv/keep" ]
}

@test "rm cancels on anything but the exact, case-sensitive name" {
    mkvenv "$H/proj/.venv/main"
    for answer in Main "main " no ""; do
        run --separate-stderr vsh "cd proj && vup rm main <<<'$answer'"
        [ "$status" -eq 1 ]
        [ -z "$output" ]
        [ "${stderr_lines[-1]}" = "Removal cancelled: main was not removed." ]
        [ -d "$H/proj/.venv/main" ]
    done
    # end of input cancels too, also under set -e
    run --separate-stderr vsh 'cd proj && set -e && { vup rm main </dev/null || echo "status $?"; }'
    [ "$output" = "status 1" ]
    [ -d "$H/proj/.venv/main" ]
}

@test "rm in ~ itself warns about the home venv before asking" {
    mkvenv "$H/.venv/data"
    run --separate-stderr vsh 'vup rm data <<<data'
    [ "$status" -eq 0 ]
    [ "${stderr_lines[0]}" = "Warning: This will permanently remove the 'data' venv from your home directory (~/.venv/)." ]
    [ "${stderr_lines[1]}" = "Type 'data' to confirm removal:" ]
    [ "$output" = "Removed data from ~/.venv/" ]
    [ ! -e "$H/.venv/data" ]
}

@test "rm of the active venv deactivates it after confirmation, before deletion" {
    mkvenv "$H/proj/.venv/main"
    run vsh '
        cd proj; PS1="> "
        vup main >/dev/null
        vup rm main <<<nope 2>/dev/null
        echo "after cancel: $VIRTUAL_ENV ${PS1@P}"
        # deactivate is wrapped to show the venv still exists when it runs
        eval "orig_$(declare -f deactivate)"
        deactivate() { [ -d "$VIRTUAL_ENV" ] && echo "deactivated while present"; orig_deactivate "$@"; }
        vup rm main <<<main 2>/dev/null
        echo "after rm: ${VIRTUAL_ENV-unset} [$PS1]"
        echo "$PATH" | grep -c "/.venv/"'
    assert_line_eq 0 "after cancel: $H/proj/.venv/main (proj/main) > "
    assert_line_eq 1 "deactivated while present"
    assert_line_eq 2 "Removed main from ~/proj/.venv/"
    assert_line_eq 3 "after rm: unset [> ]"
    assert_line_eq 4 "0"
    [ ! -e "$H/proj/.venv/main" ]
}

@test "rm of another venv keeps the active one" {
    mkvenv "$H/proj/.venv/main" "$H/proj/.venv/old"
    run vsh 'cd proj; vup main >/dev/null; vup rm old <<<old 2>/dev/null; echo "$VIRTUAL_ENV"'
    assert_line_eq 0 "Removed old from ~/proj/.venv/"
    assert_line_eq 1 "$H/proj/.venv/main"
}

@test "rm in a path with spaces" {
    mkvenv "$H/my proj/.venv/the env"
    run --separate-stderr vsh 'cd ~/"my proj" && vup rm "the env" <<<"the env"'
    [ "$status" -eq 0 ]
    [ "$output" = "Removed the env from ~/my proj/.venv/" ]
    [ ! -e "$H/my proj/.venv/the env" ]
    [ -d "$H/my proj/.venv" ]
}

@test "rm argument errors come from vup-core" {
    run --separate-stderr vsh 'vup rm'
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "vup: error: missing venv name" ]
    mkdir -p "$H/.venv"
    run --separate-stderr vsh 'vup rm ../x <<<../x'
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "vup: error: a venv name cannot contain '/': '../x'" ]
}
