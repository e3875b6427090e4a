#!/bin/sh
# venvoy session entry: prepares the environment's persistent folder, then runs the
# command (or an interactive shell). Runs at the start of every `venvoy run`.
P="${VENVOY_PERSIST:-/opt/venvoy/persist}"
if [ -d "$P" ] && [ -w "$P" ]; then
  [ -d "$P/cache" ] || mkdir -p "$P/cache/pip" "$P/cache/uv" "$P/cache/R" "$P/home"
  if [ -n "${VENVOY_PYTHON:-}" ] && [ ! -x "$P/python/bin/python" ]; then
    # A virtual environment over the image's Python: packages installed in a session
    # land here, on the host, and shadow the image's own without touching them.
    "$VENVOY_PYTHON" -m venv --without-pip --system-site-packages "$P/python" &&
      for tool in pip pip3; do
        printf '#!/bin/sh\nexec "%s/python/bin/python" -m pip "$@"\n' "$P" >"$P/python/bin/$tool"
        chmod +x "$P/python/bin/$tool"
      done
  fi
  if [ -n "${R_LIBS_USER:-}" ] && [ ! -d "$R_LIBS_USER" ]; then mkdir -p "$R_LIBS_USER"; fi
  if [ -n "${VENVOY_CONDA:-}" ] && [ ! -d "$P/conda/conda-meta" ]; then
    micromamba create -y -q --offline -p "$P/conda" >/dev/null 2>&1 || mkdir -p "$P/conda/conda-meta"
  fi
fi

if [ "$#" -eq 0 ] || [ "$1" = "--shell" ]; then
  PS1="(${VENVOY_ENV:-venvoy}) \\w \\$ "
  export PS1
  if command -v bash >/dev/null 2>&1; then exec bash --rcfile /opt/venvoy/lib/bashrc -i; fi
  exec sh -i
fi

# On a terminal the terminal delivers Ctrl-C itself. Without one, this shell is PID 1,
# which ignores signals it has no handler for: stay in front and pass them on.
if [ -t 0 ] || [ -n "${VENVOY_EXEC:-}" ]; then exec "$@"; fi
# (An asynchronous command's stdin would be /dev/null: hand it the real one.)
exec 3<&0
"$@" <&3 3<&- &
child=$!
exec 3<&-
interrupted=""
# A background job started by a non-interactive shell ignores SIGINT, so Ctrl-C is
# delivered to the command as SIGTERM; venvoy still exits 130.
trap 'interrupted=130; kill -TERM "$child" 2>/dev/null' INT
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -HUP "$child" 2>/dev/null' HUP
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "${interrupted:-$status}"
