#!/usr/bin/env bats
# vup in real bash with real venvs: activation, -d, ls, off, help, prompt handling,
# completion and the function's hygiene. init/new/rm are in vup_manage.bats.

bats_require_minimum_version 1.5.0

load vup_helpers

setup_file() { vup_setup_file; }
setup() { vup_setup; }

# --------------------------------------------------------------------------- activation

@test "vup <name> activates the closest venv, with message, prompt and VIRTUAL_ENV_DISABLE_PROMPT" {
    mkvenv "$H/.venv/main" "$H/proj/foo/.venv/main"
    mkdir -p "$H/proj/foo/deep/er"
    run --separate-stderr vsh '
        cd ~/proj/foo/deep/er
        base=${PS1@P}
        vup main || exit 1
        echo "VE=$VIRTUAL_ENV"
        echo "VEDP=$VIRTUAL_ENV_DISABLE_PROMPT"
        [ "${PS1@P}" = "(foo/main) $base" ] && echo "prompt ok"
        printf "%s\n" "${PS1@P}" | grep -q ":~/proj/foo/deep/er" && echo "base kept"
        echo "PY=$(command -v python)"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "Activated main from ~/proj/foo/.venv/"
    assert_line_eq 1 "VE=$H/proj/foo/.venv/main"
    assert_line_eq 2 "VEDP=1"
    assert_line_eq 3 "prompt ok"
    assert_line_eq 4 "base kept"
    assert_line_eq 5 "PY=$H/proj/foo/.venv/main/bin/python"
    [ -z "$stderr" ]
}

@test "a home venv shows as (~/name) and 'from ~/.venv/'" {
    mkvenv "$H/.venv/main"
    mkdir -p "$H/proj/foo"
    run vsh 'cd ~/proj/foo && PS1="> " && vup main && printf "%s\n" "${PS1@P}"'
    [ "$status" -eq 0 ]
    assert_output_eq "$(printf '%s\n' "Activated main from ~/.venv/" "(~/main) > ")"
}

@test "each level: absent .venv is silent, .venv not a directory warns, search continues" {
    mkvenv "$H/.venv/main"
    mkdir -p "$H/a/b/c/d"
    : >"$H/a/b/.venv"
    run --separate-stderr vsh 'cd ~/a/b/c/d && vup main'
    [ "$status" -eq 0 ]
    [ "$output" = "Activated main from ~/.venv/" ]
    [ "$stderr" = "vup: warning: ~/a/b/.venv is not a directory; skipped" ]
}

@test "each level: absent .venv/<name> is silent, not a directory warns, search continues" {
    mkvenv "$H/.venv/main" "$H/a/.venv/other"
    mkdir -p "$H/a/b/.venv"
    : >"$H/a/b/.venv/main"
    run --separate-stderr vsh 'cd ~/a/b && vup main'
    [ "$status" -eq 0 ]
    [ "$output" = "Activated main from ~/.venv/" ]
    [ "$stderr" = "vup: warning: ~/a/b/.venv/main is not a directory; skipped" ]
}

@test "each level: a missing bin/activate warns and the search continues" {
    mkvenv "$H/.venv/main" "$H/a/.venv/main"
    rm "$H/a/.venv/main/bin/activate"
    run --separate-stderr vsh 'cd ~/a && vup main'
    [ "$status" -eq 0 ]
    [ "$output" = "Activated main from ~/.venv/" ]
    [ "$stderr" = "vup: warning: ~/a/.venv/main has no bin/activate, so it is not a venv; skipped" ]
}

@test "no match anywhere: nonzero status and nothing changed" {
    mkvenv "$H/.venv/other"
    mkdir -p "$H/p"
    run --separate-stderr vsh '
        cd ~/p
        before="$PS1|$PATH|${VIRTUAL_ENV-unset}|${VIRTUAL_ENV_DISABLE_PROMPT-unset}"
        vup main; rc=$?
        after="$PS1|$PATH|${VIRTUAL_ENV-unset}|${VIRTUAL_ENV_DISABLE_PROMPT-unset}"
        [ "$before" = "$after" ] && echo unchanged
        exit $rc'
    [ "$status" -eq 1 ]
    [ "$output" = "unchanged" ]
    [[ "$stderr" == *"vup: error: no venv named 'main' in any .venv/ from ~/p up to ~"* ]]
}

@test "outside ~, vup <name> activates ~/.venv/<name> (and nothing below ~ is searched)" {
    mkvenv "$H/.venv/main"
    mkvenv "$OUT/.venv/main"
    run vsh 'cd "$OUT" && vup main && echo "VE=$VIRTUAL_ENV"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "Activated main from ~/.venv/"
    assert_line_eq 1 "VE=$H/.venv/main"
}

@test "switching venvs deactivates the first: prefixes and PATH entries never stack" {
    mkvenv "$H/.venv/main" "$H/proj/foo/.venv/dev"
    run vsh '
        cd ~/proj/foo
        PS1="base> "
        vup dev >/dev/null; vup main >/dev/null; vup dev >/dev/null; vup dev >/dev/null
        printf "%s\n" "${PS1@P}"
        echo "$PATH" | tr : "\n" | grep -c "/.venv/"
        echo "VE=$VIRTUAL_ENV"
        vup off; printf "[%s]\n" "$PS1"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "(foo/dev) base> "
    assert_line_eq 1 "1"
    assert_line_eq 2 "VE=$H/proj/foo/.venv/dev"
    assert_line_eq 3 "[base> ]"
}

@test "a venv activated by hand is deactivated before vup activates another" {
    mkvenv "$H/.venv/main" "$H/.venv/other"
    run vsh '
        PS1="base> "
        source ~/.venv/other/bin/activate
        vup main >/dev/null
        printf "%s\n" "${PS1@P}" "$VIRTUAL_ENV"
        vup off; printf "[%s]\n" "$PS1"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "(~/main) base> "
    assert_line_eq 1 "$H/.venv/main"
    assert_line_eq 2 "[base> ]"
}

@test "paths with spaces: activation, ls, -d and off" {
    mkvenv "$H/my proj/.venv/the env"
    mkdir -p "$H/my proj/sub dir"
    run vsh '
        cd ~/"my proj/sub dir"
        PS1="\w> "
        vup "the env" || exit 1
        printf "%s\n" "${PS1@P}" "$VIRTUAL_ENV"
        vup ls
        vup off
        vup -d "../" "the env" || exit 1
        vup -d ~/"my proj" "the env" || exit 1'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "Activated the env from ~/my proj/.venv/"
    assert_line_eq 1 "(my proj/the env) ~/my proj/sub dir> "
    assert_line_eq 2 "$H/my proj/.venv/the env"
    assert_line_eq 3 "* the env  ~/my proj"
    assert_line_eq 4 "Activated the env from ~/my proj/.venv/"
    assert_line_eq 5 "Activated the env from ~/my proj/.venv/"
}

@test "a folder named like a command substitution is shown, never run" {
    mkdir -p "$H/\$(touch PWNED)"
    mkvenv "$H/\$(touch PWNED)/.venv/main"
    run vsh 'cd ~/"\$(touch PWNED)" && PS1="> " && vup main >/dev/null && printf "%s\n" "${PS1@P}"'
    [ "$status" -eq 0 ]
    assert_output_eq "(\$(touch PWNED)/main) > "
    [ ! -e "$H/PWNED" ]
}

# --------------------------------------------------------------------------- -d

@test "-d with a relative, a ~ and an absolute directory" {
    mkvenv "$H/.venv/main" "$H/proj/bar/.venv/main"
    mkdir -p "$H/proj/foo"
    run vsh '
        cd ~/proj/foo
        vup -d ../bar main && echo "$VIRTUAL_ENV"
        vup -d ~/proj/bar main && echo "$VIRTUAL_ENV"
        vup -d "$HOME/proj/bar" main && echo "$VIRTUAL_ENV"
        vup -d ~ main && echo "$VIRTUAL_ENV"'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "Activated main from ~/proj/bar/.venv/"
    assert_line_eq 1 "$H/proj/bar/.venv/main"
    assert_line_eq 3 "$H/proj/bar/.venv/main"
    assert_line_eq 5 "$H/proj/bar/.venv/main"
    assert_line_eq 6 "Activated main from ~/.venv/"
    assert_line_eq 7 "$H/.venv/main"
}

@test "-d does not search upward" {
    mkvenv "$H/.venv/main"
    mkdir -p "$H/proj/foo"
    run --separate-stderr vsh 'vup -d ~/proj/foo main'
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == *"vup: error: no venv named 'main' in ~/proj/foo/.venv/"* ]]
}

@test "-d uses the same validation and warnings" {
    mkdir -p "$H/p/.venv/main"
    run --separate-stderr vsh 'vup -d p main'
    [ "$status" -eq 1 ]
    [ "${stderr_lines[0]}" = "vup: warning: ~/p/.venv/main has no bin/activate, so it is not a venv; skipped" ]
    [ "${stderr_lines[1]}" = "vup: error: no venv named 'main' in ~/p/.venv/" ]
}

@test "-d outside ~ is an error, from inside and from outside ~" {
    mkvenv "$OUT/.venv/main" "$H/.venv/main"
    run --separate-stderr vsh 'vup -d "$OUT" main'
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"vup: error: $OUT is outside your home directory ($H)"* ]]
    run --separate-stderr vsh 'cd "$OUT" && vup -d . main'
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is outside your home directory"* ]]
    run --separate-stderr vsh 'vup -d ../outside main'
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is outside your home directory"* ]]
    # but a directory within ~ is fine from outside ~
    run vsh 'cd "$OUT" && vup -d ~ main'
    [ "$status" -eq 0 ]
    [ "$output" = "Activated main from ~/.venv/" ]
}

@test "argument errors come from vup-core with status 2" {
    run --separate-stderr vsh 'vup'
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "vup: error: missing venv name" ]
    run --separate-stderr vsh 'vup -d'
    [ "$status" -eq 2 ]
    run --separate-stderr vsh 'vup -d ~'
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "vup: error: missing venv name" ]
    run --separate-stderr vsh 'vup a b'
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "vup: error: unexpected argument 'b'" ]
    run --separate-stderr vsh 'vup --bogus'
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "vup: error: unknown option '--bogus'" ]
    run --separate-stderr vsh 'vup off now'
    [ "$status" -eq 2 ]
}

# --------------------------------------------------------------------------- ls

@test "ls: aligned exactly as in the issue's example, * on the active venv" {
    example_tree
    run --separate-stderr vsh 'cd ~/proj/foo && vup main >/dev/null && cd webscrape && vup ls'
    [ "$status" -eq 0 ]
    # Names within one .venv/ are sorted (the issue's example shows ~ unsorted).
    assert_output_eq "$(printf '%s\n' \
        "  web       ~/proj/foo/webscrape" \
        "* main      ~/proj/foo" \
        "  data      ~" \
        "  longname  ~" \
        "  main      ~")"
    [ -z "$stderr" ]
}

@test "ls [dir]: relative, ~ and absolute; must be within ~" {
    example_tree
    want="$(printf '%s\n' "  main      ~/proj/foo" "  data      ~" "  longname  ~" "  main      ~")"
    run vsh 'cd ~/proj && vup ls foo'
    assert_output_eq "$want"
    run vsh 'cd ~/proj/foo/webscrape && vup ls ~/proj/foo'
    assert_output_eq "$want"
    run vsh 'cd "$OUT" && vup ls "$HOME/proj/foo"'
    assert_output_eq "$want"
    run --separate-stderr vsh 'vup ls "$OUT"'
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"is outside your home directory"* ]]
}

@test "ls outside ~ lists ~/.venv/ only" {
    example_tree
    mkvenv "$OUT/.venv/elsewhere"
    run vsh 'cd "$OUT" && vup ls'
    [ "$status" -eq 0 ]
    assert_output_eq "$(printf '%s\n' "  data      ~" "  longname  ~" "  main      ~")"
}

@test "ls skips invalid entries with a warning, and says when there is nothing" {
    mkvenv "$H/.venv/good"
    mkdir -p "$H/.venv/broken"
    run --separate-stderr vsh 'vup ls'
    [ "$output" = "  good  ~" ]
    [ "$stderr" = "vup: warning: ~/.venv/broken has no bin/activate, so it is not a venv; skipped" ]
    rm -rf "$H/.venv"
    run --separate-stderr vsh 'vup ls'
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$stderr" = "vup: no venvs in ~/.venv/" ]
}

# --------------------------------------------------------------------------- off, help

@test "off restores the prompt exactly and unsets what vup set" {
    mkvenv "$H/.venv/main"
    run vsh '
        PS1='"'"'\[\e[1m\]\u@\h:\w $(echo hi) \$\[\e[0m\] '"'"'
        orig=$PS1
        vup main >/dev/null
        vup off
        [ "$PS1" = "$orig" ] && echo same
        echo "${VIRTUAL_ENV-unset} ${VIRTUAL_ENV_DISABLE_PROMPT-unset} ${_VUP_OLD_PS1-unset}"
        declare -F deactivate || echo "no deactivate"'
    [ "$status" -eq 0 ]
    assert_output_eq "$(printf '%s\n' same "unset unset unset" "no deactivate")"
}

@test "off keeps a VIRTUAL_ENV_DISABLE_PROMPT the user had set" {
    mkvenv "$H/.venv/main"
    run vsh 'export VIRTUAL_ENV_DISABLE_PROMPT=yes; vup main >/dev/null; echo "$VIRTUAL_ENV_DISABLE_PROMPT"; vup off; echo "$VIRTUAL_ENV_DISABLE_PROMPT"'
    assert_output_eq "$(printf '%s\n' 1 yes)"
}

@test "off with nothing active says so" {
    run --separate-stderr vsh 'vup off'
    [ "$status" -eq 0 ]
    [ "$stderr" = "vup: no venv is active" ]
}

@test "off and help work outside ~" {
    mkvenv "$H/.venv/main"
    run vsh 'vup main >/dev/null; cd "$OUT"; PS1_BEFORE=$_VUP_OLD_PS1; vup off; [ "$PS1" = "$PS1_BEFORE" ] && echo restored; vup help | head -1'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "restored"
    assert_line_eq 1 "vup: find and activate Python venvs kept in .venv/<name>/ folders"
}

@test "help, -h and --help list every subcommand" {
    for flag in help -h --help; do
        run vsh "vup $flag"
        [ "$status" -eq 0 ]
        for sub in "vup <name>" "vup -d <dir> <name>" "vup ls [dir]" "vup init" "vup new <name>" \
            "vup rm <name>" "vup off" "vup help, -h, --help"; do
            assert_contains "$sub"
        done
    done
}

# --------------------------------------------------------------------------- completion

@test "completion: vup <Tab> offers subcommands and venv names" {
    example_tree
    run vsh '
        cd ~/proj/foo/webscrape
        COMP_WORDS=(vup ""); COMP_CWORD=1; _vup_complete; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "; echo
        COMP_WORDS=(vup l); COMP_CWORD=1; _vup_complete; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "; echo
        COMP_WORDS=(vup -d ~/proj/foo ""); COMP_CWORD=3; _vup_complete; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "; echo'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "-d data help init longname ls main new off rm web "
    assert_line_eq 1 "longname ls "
    assert_line_eq 2 "data longname main "
}

@test "completion quotes names with spaces" {
    mkvenv "$H/.venv/the env"
    run vsh 'COMP_WORDS=(vup th); COMP_CWORD=1; _vup_complete; printf "%s\n" "${COMPREPLY[@]}"'
    assert_output_eq 'the\ env'
}

# --------------------------------------------------------------------------- hygiene

@test "sourcing does no work: no commands run, no variables, no options changed" {
    run bash --noprofile --norc -c '
        snap() { compgen -v | grep -vE "^(BASH_.*|FUNCNAME|_|PIPESTATUS|LINENO|RANDOM|SECONDS|SRANDOM|EPOCH.*|COLUMNS|LINES|before|after)$"; set -o; shopt -p; }
        before=$(snap)
        PATH=/nonexistent
        source "$VUP_FUNC" || exit 1
        PATH=/usr/bin:/bin
        after=$(snap)
        diff <(echo "$before") <(echo "$after") && echo same
        declare -F | sed "s/declare -f //" | grep vup | sort | tr "\n" " "'
    [ "$status" -eq 0 ]
    assert_line_eq 0 "same"
    assert_line_eq 1 "_vup_activate _vup_complete _vup_core _vup_deactivate _vup_fields _vup_rm vup "
}

@test "a vup session leaks no variables and changes no shell options" {
    mkvenv "$H/.venv/main" "$H/proj/.venv/dev"
    run vsh '
        snap() { compgen -v | grep -vE "^(BASH_.*|FUNCNAME|_|PIPESTATUS|LINENO|RANDOM|SECONDS|SRANDOM|EPOCH.*|COLUMNS|LINES|OLDPWD|PWD|before|after)$"; set -o; shopt -p; }
        before=$(snap)
        vup main; vup ls; cd proj; vup dev; vup -d ~ main; vup nope; vup help >/dev/null; cd ~; vup off
        vup off
        after=$(snap)
        diff <(echo "$before") <(echo "$after") >&2 && echo same' 2>/dev/null
    [ "$status" -eq 0 ]
    assert_line_eq -1 "same"
}

@test "vup works under set -u and set -e" {
    mkvenv "$H/.venv/main"
    run vsh 'set -eu; vup main; vup ls; vup off; echo done'
    [ "$status" -eq 0 ]
    assert_line_eq -1 "done"
}

@test "_vup_core honours VENVOY_BIN" {
    mkdir -p "$T/fake"
    printf '#!/bin/sh\necho "fake $*"\n' >"$T/fake/venvoy-fake"
    chmod +x "$T/fake/venvoy-fake"
    run bash --noprofile --norc -c 'source "$VUP_FUNC"; VENVOY_BIN="$T/fake/venvoy-fake" vup ls "a b"'
    [ "$output" = "fake vup-core ls a b" ]
}

@test "the embedded function is shell/vup.bash, and shellcheck is clean" {
    cmp "$VUP_FUNC" "$VUP_REPO/shell/vup.bash"
    if ! command -v shellcheck >/dev/null; then skip "shellcheck is not installed"; fi
    shellcheck "$VUP_REPO/shell/vup.bash"
}

@test "vup-core is reachable as a binary named vup-core" {
    mkvenv "$H/.venv/main"
    cp "$VUP_BIN" "$T/vup-core"
    cd "$OUT"
    run env HOME="$H" PWD="$OUT" deno run -A "$T/vup-core" find main
    [ "$status" -eq 0 ]
    [ "$output" = "$H/.venv/main" ]
}
