#!/usr/bin/env bash
# Every check venvoy has, one after another, with one total at the end:
#   fmt --check, lint, check, unit tests, integration tests (real runtimes), shell tests
#   (bats) and shellcheck. The last line is `N passed, N failed[, N skipped]`.
# Deno test files count their tests; fmt, lint, check and shellcheck count one each. A step
# that cannot run counts as many skips as it holds tests (a missing bats: every @test), with
# the reason in its summary line.
# Set VENVOY_LAB_FAILED=1 (as .ci/run does) to count a failed lab set-up as a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
logs=$(mktemp -d "${TMPDIR:-/tmp}/venvoy-test-logs.XXXXXX")
passed=0 failed=0 skipped=0
summary=()

strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1"; }

# run_step NAME KIND CMD...   KIND: deno (count tests), bats (count TAP lines), one (1 each)
run_step() {
  local name=$1 kind=$2 rc=0 p=0 f=0 s=0 line
  shift 2
  printf '\n===== %s: %s\n' "$name" "$*"
  "$@" >"$logs/$name.log" 2>&1 || rc=$?
  case $kind in
    deno)
      line=$(strip "$logs/$name.log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)
      if [[ -n $line ]]; then
        p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$line")
        [[ $line == *ignored* ]] && s=$(sed -E 's/.*\| ([0-9]+) ignored.*/\1/' <<<"$line")
        # Ignored steps ("| 0 ignored (2 steps)") are skipped tests too: count them.
        if [[ $line =~ ignored\ \(([0-9]+)\ steps?\) ]]; then s=$((s + BASH_REMATCH[1])); fi
        (( rc != 0 && f == 0 )) && f=1
      else
        (( rc == 0 )) && p=1 || f=1
      fi
      ;;
    bats)
      p=$(grep -cE '^ok [0-9]+' "$logs/$name.log" | tr -d ' ' || true)
      s=$(grep -cE '^ok [0-9]+.*# skip' "$logs/$name.log" | tr -d ' ' || true)
      f=$(grep -cE '^not ok [0-9]+' "$logs/$name.log" | tr -d ' ' || true)
      p=$((p - s))
      (( rc != 0 && f == 0 )) && f=1
      ;;
    one) (( rc == 0 )) && p=1 || f=1 ;;
  esac
  # Failures in full; otherwise the skips with their reasons and the tail.
  if (( f > 0 )); then strip "$logs/$name.log"; else
    strip "$logs/$name.log" | grep -E '^SKIP|# skip' || true
    strip "$logs/$name.log" | tail -n 3
  fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  summary+=("$(printf '%-18s %4d passed %4d failed %4d skipped (exit %d)' "$name" "$p" "$f" "$s" "$rc")")
}

# skip_step NAME COUNT WHY: a step that cannot run stands for COUNT tests, each skipped.
skip_step() {
  local name=$1 count=$2 why=$3
  printf '\n===== %s: skipped\nSKIP %s: %d test(s): %s\n' "$name" "$name" "$count" "$why"
  skipped=$((skipped + count))
  summary+=("$(printf '%-18s %4d passed %4d failed %4d skipped (%s)' "$name" 0 0 "$count" "$why")")
}

if [[ ${VENVOY_LAB_FAILED:-0} == 1 ]]; then
  echo "the container lab did not set up: counted as one failure (see the log above)"
  failed=$((failed + 1))
  summary+=("lab-setup            0 passed    1 failed")
fi

run_step fmt one deno fmt --check
run_step lint one deno lint
run_step check one deno task check
run_step unit deno deno task test
run_step integration deno deno task test:integration
shell_scripts=()
for f in shell/*.bash install.sh scripts/*.sh .ci/run; do [[ -f $f ]] && shell_scripts+=("$f"); done
if command -v shellcheck >/dev/null 2>&1; then
  run_step shellcheck one shellcheck "${shell_scripts[@]}"
else
  skip_step shellcheck 1 "shellcheck is not installed (apt-get install shellcheck)"
fi
if compgen -G "tests/shell/*.bats" >/dev/null; then
  if command -v bats >/dev/null 2>&1; then
    run_step shell bats bats --tap tests/shell
  else
    # Each @test line is one test that did not run.
    skip_step shell "$(cat tests/shell/*.bats | grep -cE '^[[:space:]]*@test ')" \
      "bats is not installed (apt-get install bats)"
  fi
fi

printf '\n===== summary (logs in %s)\n' "$logs"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
(( failed == 0 ))
