# vup: activate Python venvs kept in .venv/<name>/ folders, found from the current
# directory up to ~. Load it with:  eval "$(venvoy shell-init bash)"
#
# This file only defines functions and a completion: sourcing it runs nothing else. The
# logic (search, validation, listing, creation, prompt text, argument checks) lives in
# `venvoy vup-core`; the function does what only the shell can: source activate, set and
# restore PS1, deactivate, ask before rm.
#
# While vup has a venv active it keeps the prompt it replaced in _VUP_OLD_PS1 (and the
# previous VIRTUAL_ENV_DISABLE_PROMPT in _VUP_OLD_VEDP, the prompt text in _VUP_PROMPT,
# the venv in _VUP_VENV); `vup off` restores and unsets them all.

# The one way vup reaches its backend. Redefine it to use another binary (tests do), or set
# VENVOY_BIN to the venvoy executable.
_vup_core() {
    "${VENVOY_BIN:-venvoy}" vup-core "$@"
}

# _vup_fields N SUBCOMMAND ARGS...: runs `_vup_core SUBCOMMAND --nul ARGS...` and puts its
# stdout's NUL-terminated fields in the caller's array _vup_f. vup-core's status is returned;
# a success with other than N fields is refused. A path cannot hold a NUL, so no newline in
# a folder name can make vup act on another path than the one vup-core checked.
_vup_fields() {
    local n=$1 sub=$2 x rc
    shift 2
    _vup_f=()
    while IFS= read -r -d '' x; do
        _vup_f+=("$x")
    done < <(
        _vup_core "$sub" --nul "$@"
        printf '%s\0' "$?"
    )
    rc=${_vup_f[${#_vup_f[@]} - 1]-1}
    unset '_vup_f[${#_vup_f[@]}-1]'
    [[ "$rc" == 0 ]] || return "$rc"
    if ((${#_vup_f[@]} != n)); then
        printf 'vup: error: unexpected reply from vup-core %s\n' "$sub" >&2
        return 1
    fi
}

# Deactivates whatever venv is active and restores the prompt vup replaced.
_vup_deactivate() {
    if declare -F deactivate >/dev/null 2>&1; then
        deactivate
    fi
    if [[ -n "${_VUP_VENV+x}" ]]; then
        if [[ -n "${_VUP_OLD_PS1+x}" ]]; then
            PS1=$_VUP_OLD_PS1
        else
            unset PS1
        fi
        if [[ -n "${_VUP_OLD_VEDP+x}" ]]; then
            VIRTUAL_ENV_DISABLE_PROMPT=$_VUP_OLD_VEDP
        else
            unset VIRTUAL_ENV_DISABLE_PROMPT
        fi
        unset _VUP_VENV _VUP_OLD_PS1 _VUP_OLD_VEDP _VUP_PROMPT
    fi
}

# _vup_activate VENV ID WHERE (vup-core find/new --with-prompt: path, prompt id, ~/…/.venv/)
_vup_activate() {
    local venv=$1 id=$2 where=$3
    if [[ ! -f "$venv/bin/activate" ]]; then
        printf 'vup: error: %s has no bin/activate\n' "$venv" >&2
        return 1
    fi
    if [[ -n "${VIRTUAL_ENV:-}" || -n "${_VUP_VENV+x}" ]]; then
        _vup_deactivate
    fi
    if [[ -n "${PS1+x}" ]]; then _VUP_OLD_PS1=$PS1; else unset _VUP_OLD_PS1; fi
    if [[ -n "${VIRTUAL_ENV_DISABLE_PROMPT+x}" ]]; then
        _VUP_OLD_VEDP=$VIRTUAL_ENV_DISABLE_PROMPT
    else
        unset _VUP_OLD_VEDP
    fi
    _VUP_VENV=$venv
    export VIRTUAL_ENV_DISABLE_PROMPT=1
    # shellcheck disable=SC1091
    if ! source "$venv/bin/activate"; then
        _vup_deactivate
        printf 'vup: error: could not activate %s\n' "$venv" >&2
        return 1
    fi
    _VUP_PROMPT=$id
    if shopt -q promptvars; then
        # The prompt refers to the variable, so a folder named like $(cmd) or \w shows as
        # written instead of being run or decoded.
        # shellcheck disable=SC2016
        PS1='(${_VUP_PROMPT}) '"${_VUP_OLD_PS1-}"
    else
        PS1="(${id//\\/\\\\}) ${_VUP_OLD_PS1-}"
    fi
    printf 'Activated %s from %s\n' "${venv##*/}" "$where"
}

_vup_rm() {
    local -a _vup_f
    local venv where active reply=""
    _vup_fields 3 rm-check "$@" || return
    venv=${_vup_f[0]} where=${_vup_f[1]} active=${_vup_f[2]}
    printf "Type '%s' to confirm removal: " "$1" >&2
    IFS= read -r reply || true # end of input: whatever was read (usually nothing)
    [[ -t 0 ]] || printf '\n' >&2
    if [[ "$reply" != "$1" ]]; then
        printf 'Removal cancelled: %s was not removed.\n' "$1" >&2
        return 1
    fi
    if [[ "$active" == active ]]; then
        _vup_deactivate
    fi
    if ! command rm -rf -- "$venv"; then
        printf 'vup: error: could not remove %s\n' "$venv" >&2
        return 1
    fi
    printf 'Removed %s from %s\n' "$1" "$where"
}

vup() {
    local -a _vup_f
    case "${1-}" in
        ls)
            shift
            _vup_core ls "$@"
            ;;
        init)
            shift
            _vup_core init "$@"
            ;;
        new)
            shift
            _vup_fields 3 new --with-prompt "$@" || return
            printf 'Created %s\n' "${_vup_f[0]}"
            _vup_activate "${_vup_f[@]}"
            ;;
        rm)
            shift
            _vup_rm "$@"
            ;;
        off)
            shift
            if (($#)); then
                _vup_core off "$@"
                return
            fi
            if [[ -z "${VIRTUAL_ENV:-}" && -z "${_VUP_VENV+x}" ]]; then
                printf 'vup: no venv is active\n' >&2
                return 0
            fi
            if [[ -z "${_VUP_VENV+x}" ]] && ! declare -F deactivate >/dev/null 2>&1; then
                printf 'vup: error: VIRTUAL_ENV is set, but this shell has no deactivate function\n' >&2
                printf 'hint: the venv was activated in a parent shell; exit this shell instead\n' >&2
                return 1
            fi
            _vup_deactivate
            ;;
        help | -h | --help)
            _vup_core help
            ;;
        *)
            # `vup <name>` and `vup -d <dir> <name>`; vup-core checks the arguments.
            _vup_fields 3 find --with-prompt "$@" || return
            _vup_activate "${_vup_f[@]}"
            ;;
    esac
}

# Completion: subcommands and venv names for `vup <Tab>`; names in DIR after `-d DIR`.
_vup_complete() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev="" names name q
    COMPREPLY=()
    if ((COMP_CWORD > 1)); then prev=${COMP_WORDS[COMP_CWORD - 1]}; fi
    if ((COMP_CWORD == 1)); then
        for name in ls init new rm off help -d; do
            [[ "$name" == "$cur"* ]] && COMPREPLY+=("$name")
        done
        names=$(_vup_core ls --names 2>/dev/null)
    elif [[ "$prev" == -d || ("$prev" == ls && "$COMP_CWORD" -eq 2) ]]; then
        compopt -o filenames 2>/dev/null
        while IFS= read -r name; do
            COMPREPLY+=("$name")
        done < <(compgen -d -- "$cur")
        return 0
    elif ((COMP_CWORD == 3)) && [[ "${COMP_WORDS[1]}" == -d ]]; then
        names=$(_vup_core ls --names --start-dir "$prev" 2>/dev/null)
    elif ((COMP_CWORD == 2)) && [[ "$prev" == rm ]]; then
        names=$(_vup_core ls --names 2>/dev/null)
    else
        return 0
    fi
    while IFS= read -r name; do
        if [[ -n "$name" && "$name" == "$cur"* ]]; then
            printf -v q '%q' "$name"
            COMPREPLY+=("$q")
        fi
    done <<<"$names"
    return 0
}

complete -F _vup_complete vup
