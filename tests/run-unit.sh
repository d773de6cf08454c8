#!/usr/bin/env bash
# Runs unit test binaries (optionally under valgrind) and prints one summary
# line in the form CI reads: "unit: N passed, N failed".
set -u
vg=()
label=unit
if [ "${1:-}" = --valgrind ]; then
  vg=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
  label=valgrind; shift
fi
case "${1:-}" in */asan/*) label=asan ;; esac
pass=0; fail=0; failed=()
for t in "$@"; do
  if "${vg[@]}" "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
[ "$fail" -eq 0 ] || printf '%s: FAILED %s\n' "$label" "${failed[*]}"
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
