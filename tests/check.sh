#!/usr/bin/env bash
# make check and make check-fast: every suite in turn, each timed, then one
# table and one closing line ("check: N passed, N failed"). For make check
# the lab (six JVMs, two ClickHouse servers) starts in the background while
# the build and the suites that need no lab run.
#
#   tests/check.sh [--fast]     --fast: no lab
set -u
cd "$(dirname "$0")/.."
fast=0; [ "${1:-}" = --fast ] && fast=1
MAKE=${MAKE:-make}
export TEST_LAB_DIR=${TEST_LAB_DIR:-/tmp/cutover-test-lab}
mkdir -p build
t_all=$SECONDS
rows=() pass=0 fail=0

suite() { # name command...: run it, keep its time and its "N passed, N failed" line
  local name=$1 t0=$SECONDS rc line p f; shift
  echo "== $name"
  "$@" 2>&1 | tee "build/check-$name.log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed' "build/check-$name.log" | tail -n 1)
  p=$(sed -nE 's/.*: ([0-9]+) passed.*/\1/p' <<<"$line"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
  [ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || f=$((${f:-0} + 1))
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  rows+=("$(printf '%-10s %5d s   %s' "$name" $((SECONDS - t0)) "${line#*: }")")
  [ "$rc" -eq 0 ] && [ "${f:-0}" -eq 0 ] || rows[-1]+="   <- FAILED (build/check-$name.log)"
}

labpid=
if [ "$fast" = 0 ]; then
  # the lab needs no build: its start overlaps everything up to the lab suite
  ( LAB_DIR=$TEST_LAB_DIR tests/lab/lab.sh reset >build/check-lab-start.log 2>&1 ) &
  labpid=$!
fi
trap '[ -z "$labpid" ] || kill "$labpid" 2>/dev/null; exit 130' INT TERM
suite build "$MAKE" --no-print-directory -j2 check-build
built=$((fail == 0))
if [ "$built" = 1 ]; then
  suite unit "$MAKE" --no-print-directory unit
  suite asan "$MAKE" --no-print-directory unit-asan
  suite valgrind "$MAKE" --no-print-directory valgrind
  suite cli tests/cli/test_cli.sh
  suite tasks tests/tasks/test_tasks.sh
  suite fuzz "$MAKE" --no-print-directory fuzz
fi
if [ -n "$labpid" ]; then
  t0=$SECONDS
  wait "$labpid" || { echo "== the lab's first start failed:"; tail -20 build/check-lab-start.log; }
  echo "== the lab was ready $((SECONDS - t0)) s after the other suites ended"
  [ "$built" = 1 ] && suite lab tests/run-lab.sh
fi
echo
echo "== make check$([ "$fast" = 1 ] && echo -fast): each suite's time"
printf '   %s\n' "${rows[@]}"
printf '   %-10s %5d s\n' total $((SECONDS - t_all))
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
