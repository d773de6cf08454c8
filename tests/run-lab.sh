#!/usr/bin/env bash
# Runs the lab scenarios (tests/lab/test_*.sh, or those named) against one
# lab: it is started once, and each scenario's reset puts back only what the
# one before it changed (tests/lab/lab.sh reset). test_lab_basics ends with
# `lab down`, so it runs last. Prints each scenario's time, the total, and
# "lab: N passed, N failed"; brings the lab down at the end (its files stay
# in $TEST_LAB_DIR for a look after a failure).
#
#   tests/run-lab.sh [test_ck.sh ...]
set -u
cd "$(dirname "$0")/lab"
export CUTOVER_LAB_SHARED=1
export LAB_DIR=${TEST_LAB_DIR:-/tmp/cutover-test-lab}
if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for t in test_*.sh; do [ "$t" = test_lab_basics.sh ] || scenarios+=("$t"); done
  scenarios+=(test_lab_basics.sh)
fi
pass=0; fail=0; t_all=$SECONDS; times=()
for t in "${scenarios[@]}"; do
  t=$(basename "$t")
  echo "== $t"
  t0=$SECONDS
  out=$(./"$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  echo "   ($t took $((SECONDS - t0)) s)"
  times+=("$(printf '%-24s %4d s' "$t" $((SECONDS - t0)))")
  line=$(printf '%s\n' "$out" | grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  [ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || fail=$((fail + 1))
done
./lab.sh down >/dev/null 2>&1
printf '   %s\n' "${times[@]}"
echo "   (${#scenarios[@]} scenarios, one lab, $((SECONDS - t_all)) s)"
echo "lab: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
