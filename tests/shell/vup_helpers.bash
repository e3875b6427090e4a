# Shared setup for the vup bats suites (tests/shell/vup*.bats).
#
# Every test runs its scenario in a fresh `bash --noprofile --norc` with HOME set to a
# temporary home, the vup function loaded from the bundled binary's `shell-init bash`, and
# _vup_core pointed at `deno run -A <copy of dist/venvoy> vup-core` (a copy outside the source
# tree). Venvs are real: `python3 -m venv`.
#
# Set VUP_BUNDLE to an already built dist/venvoy to skip the build.

# shellcheck disable=SC2154 # output and lines are set by bats' run
VUP_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

vup_setup_file() {
    export VUP_REPO
    local dir="$BATS_FILE_TMPDIR/bin"
    mkdir -p "$dir"
    if [[ -z "${VUP_BUNDLE:-}" ]]; then
        (cd "$VUP_REPO" && deno task bundle >/dev/null 2>&1) || {
            echo "deno task bundle failed" >&2
            return 1
        }
        VUP_BUNDLE="$VUP_REPO/dist/venvoy"
    fi
    cp "$VUP_BUNDLE" "$dir/venvoy"
    export VUP_BIN="$dir/venvoy"
    # Keep Deno's cache where it was: the tests move HOME.
    export DENO_DIR="${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}"
    # The real interpreter behind python3 (a pyenv shim would look at the temporary HOME).
    VUP_PYTHON="$(python3 -c 'import sys; print(sys.executable)')"
    export VUP_PYTHON
    # The function, as the binary ships it (run outside the source tree).
    (cd "$BATS_FILE_TMPDIR" && deno run -A "$VUP_BIN" shell-init bash >"$BATS_FILE_TMPDIR/vup.bash")
    export VUP_FUNC="$BATS_FILE_TMPDIR/vup.bash"
}

vup_setup() {
    export T="$BATS_TEST_TMPDIR"
    export H="$T/home"
    export OUT="$T/outside"
    mkdir -p "$H" "$OUT"
    # python3 for `vup new`: the real interpreter first on PATH.
    mkdir -p "$T/pybin"
    ln -sf "$VUP_PYTHON" "$T/pybin/python3"
}

# vsh 'script': runs the script in a fresh bash (cwd ~) with vup loaded; use with `run`.
vsh() {
    local prelude
    prelude=$(
        cat <<'EOF'
export HOME="$H"
export PATH="$T/pybin:$PATH"
unset VIRTUAL_ENV VIRTUAL_ENV_DISABLE_PROMPT
cd "$HOME" || exit 99
source "$VUP_FUNC"
_vup_core() { deno run -A "$VUP_BIN" vup-core "$@"; }
PS1='\u@\h:\w\$ '
EOF
    )
    bash --noprofile --norc -c "$prelude"$'\n'"$1"
}

# mkvenv DIR...: real venvs, fast (no pip).
mkvenv() {
    local d
    for d in "$@"; do
        python3 -m venv --without-pip "$d" || return 1
    done
}

# The issue's `vup ls` example: from ~/proj/foo/webscrape.
example_tree() {
    mkvenv "$H/proj/foo/webscrape/.venv/web" "$H/proj/foo/.venv/main" \
        "$H/.venv/data" "$H/.venv/main" "$H/.venv/longname"
}

assert_line_eq() { # assert_line_eq INDEX TEXT
    if [[ "${lines[$1]-}" != "$2" ]]; then
        printf 'line %s:\n  want: [%s]\n  got:  [%s]\noutput:\n%s\n' "$1" "$2" "${lines[$1]-}" "$output" >&2
        return 1
    fi
}

assert_output_eq() {
    if [[ "$output" != "$1" ]]; then
        printf 'want:\n%s\ngot:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}

assert_contains() {
    if [[ "$output" != *"$1"* ]]; then
        printf 'output lacks [%s]:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}

assert_not_contains() {
    if [[ "$output" == *"$1"* ]]; then
        printf 'output has [%s]:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}
