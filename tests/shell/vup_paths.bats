#!/usr/bin/env bats
# vup and hostile or unusual paths, in real bash with real venvs: folder names with a
# newline (issue 11, item 4) and a home that is a symlink (issue 12, item 7).

bats_require_minimum_version 1.5.0

load vup_helpers

setup_file() { vup_setup_file; }
setup() { vup_setup; }

# --------------------------------------------------------------------------- newlines

# ~/<newline>x/.venv/main: split at the newline, the first "path" was ~/ itself.
newline_tree() {
    export NL="$H/"$'\n'"x"
    mkvenv "$NL/.venv/main"
    : >"$H/keep-me"
    # What a wrong split would source: ~/bin/activate.
    mkdir -p "$H/bin"
    printf ': >"%s/SOURCED"\n' "$T" >"$H/bin/activate"
}

@test "attack: vup rm in a folder whose name starts with a newline removes nothing" {
    newline_tree
    run --separate-stderr vsh 'cd "$NL" && vup rm main <<<main'
    [ "$status" -eq 1 ]
    [[ "${stderr_lines[0]}" == 'vup: error: ~/\nx/.venv/main contains a newline or another control character; vup will not use it' ]]
    [ -f "$H/keep-me" ]
    [ -f "$NL/.venv/main/bin/activate" ]
}

@test "attack: vup <name> there activates nothing and sources no other file" {
    newline_tree
    run --separate-stderr vsh 'cd "$NL" && vup main; echo "VIRTUAL_ENV=${VIRTUAL_ENV-}"'
    [ "$output" = "VIRTUAL_ENV=" ]
    [[ "$stderr" == *"contains a newline or another control character"* ]]
    [ ! -e "$T/SOURCED" ]
}

@test "the NUL protocol: a path with newlines from vup-core reaches rm and source whole" {
    # A backend that does not refuse such paths (the seam _vup_core replaced): the shell
    # still acts on exactly the path it was given, never on a piece of it.
    newline_tree
    run --separate-stderr vsh '
        _vup_core() {
            case $1 in
                rm-check) printf "%s\0" "$NL/.venv/main" "~/?x/.venv/" "" ;;
                find) printf "%s\0" "$NL/.venv/main" "x/main" "~/?x/.venv/" ;;
            esac
        }
        vup main && [[ "$VIRTUAL_ENV" == "$NL/.venv/main" ]] && echo "whole path" && vup off
        vup rm main <<<main; echo "rc=$?"'
    [ "$status" -eq 0 ]
    [[ "$output" == *"rc=0"* ]]
    [ ! -e "$T/SOURCED" ]
    [ -f "$H/keep-me" ]
    [ ! -e "$NL/.venv/main" ]
    [ -d "$NL/.venv" ]
    [[ "$output" == *"whole path"* ]]
}

@test "a backend that answers with the wrong number of fields is refused" {
    mkvenv "$H/.venv/main"
    run --separate-stderr vsh '
        _vup_core() { printf "%s\0" "$HOME/.venv/main" "two"; }
        vup main; echo "rc=$? VIRTUAL_ENV=${VIRTUAL_ENV-}"'
    [ "$output" = "rc=1 VIRTUAL_ENV=" ]
    [ "$stderr" = "vup: error: unexpected reply from vup-core find" ]
}

# --------------------------------------------------------------------------- symlinked ~

# ~ is $T/u, a link to $T/gpfs/u (as /home/u -> /gpfs/home/u on clusters).
linked_home() {
    mkdir -p "$T/gpfs/u/proj/.venv"
    ln -s "$T/gpfs/u" "$T/u"
    export H="$T/u"
    mkvenv "$H/proj/.venv/web" "$H/.venv/main"
}

@test "symlinked ~: in a project under the real path, vup, vup ls and vup new act on it" {
    linked_home
    run --separate-stderr vsh '
        cd -P "$HOME/proj" && echo "pwd=$PWD"
        vup web && echo "VIRTUAL_ENV=$VIRTUAL_ENV"
        vup ls
        vup new x >/dev/null && echo "VIRTUAL_ENV=$VIRTUAL_ENV"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "pwd=$T/gpfs/u/proj"
    assert_line_eq 1 "Activated web from ~/proj/.venv/"
    assert_line_eq 2 "VIRTUAL_ENV=$H/proj/.venv/web"
    assert_line_eq 3 "* web   ~/proj"
    assert_line_eq 4 "  main  ~"
    assert_line_eq 5 "VIRTUAL_ENV=$H/proj/.venv/x"
    [ -f "$T/gpfs/u/proj/.venv/x/bin/activate" ]
    [ ! -e "$T/gpfs/u/.venv/x" ]
}

@test "symlinked ~: vup -d and vup ls take the real path of a project" {
    linked_home
    run --separate-stderr vsh '
        vup ls "$(cd -P "$HOME/proj" && pwd)"
        vup -d "$(cd -P "$HOME/proj" && pwd)" web && echo "VIRTUAL_ENV=$VIRTUAL_ENV"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "  web   ~/proj"
    assert_line_eq 1 "  main  ~"
    assert_line_eq 3 "VIRTUAL_ENV=$H/proj/.venv/web"
}

@test "symlinked ~: vup rm in the real path of a project removes that venv only" {
    linked_home
    mkvenv "$H/proj/.venv/old"
    run --separate-stderr vsh 'cd -P "$HOME/proj" && vup rm old <<<old'
    [ "$status" -eq 0 ]
    [ "$output" = "Removed old from ~/proj/.venv/" ]
    [ ! -e "$T/gpfs/u/proj/.venv/old" ]
    [ -d "$T/gpfs/u/proj/.venv/web" ]
}
