#!/usr/bin/env bash
# Runs every tests/lab/test_*.sh scenario against the loopback lab (each brings
# the lab up as it needs and down at the end) and prints the total as
# "lab: N passed, N failed".
set -u
cd "$(dirname "$0")/lab"
pass=0; fail=0
for t in test_*.sh; do
  echo "== $t"
  t0=$SECONDS
  out=$(./"$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  echo "   ($t took $((SECONDS - t0)) s)"
  line=$(printf '%s\n' "$out" | grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  [ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || fail=$((fail + 1))
done
# Leave nothing running, but the last lab's files stay for a look after a failure.
LAB_DIR=${TEST_LAB_DIR:-/tmp/cutover-test-lab} ./lab.sh down >/dev/null 2>&1
echo "lab: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
