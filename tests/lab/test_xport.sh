#!/usr/bin/env bash
# The transports against the lab's sshd and the local shell: 10 MiB streamed
# line by line, stderr apart, exit codes, timeouts that kill the remote process
# group, a listener that never speaks SSH, changed and unknown host keys, and
# file streams through one reused connection (tests/lab/xport_test.c).
set -u
. "$(dirname "$0")/testlib.sh"
"$LAB" up >/dev/null || { not_ok "lab up"; finish; exit 1; }
out=$("$root/build/lab/xport_test" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/  /'
n_ok=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
for _ in $(seq "$n_ok"); do _pass=$((_pass + 1)); done
n_bad=$(printf '%s\n' "$out" | grep -c '^\[  FAILED  \] test_')
_fail=$((_fail + n_bad))
[ "$rc" -eq 0 ] || [ "$n_bad" -gt 0 ] || not_ok "xport_test exited $rc"
finish
