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

# _vup_activate <lines from vup-core find/new --with-prompt: path, prompt id, ~/…/.venv/>
_vup_activate() {
    local venv="" id="" where=""
    {
        IFS= read -r venv
        IFS= read -r id
        IFS= read -r where
    } <<<"$1"
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
    local info venv="" where="" active="" reply=""
    info=$(_vup_core rm-check "$@") || return
    {
        IFS= read -r venv
        IFS= read -r where
        IFS= read -r active
    } <<<"$info"
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
    local info
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
            info=$(_vup_core new --with-prompt "$@") || return
            printf 'Created %s\n' "${info%%$'\n'*}"
            _vup_activate "$info"
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
            info=$(_vup_core find --with-prompt "$@") || return
            _vup_activate "$info"
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
