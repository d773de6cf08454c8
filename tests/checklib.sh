# Sourced by every shell test (tests/cli, tests/tasks, tests/lab): assertions
# that count, and the helpers every suite uses. Each test prints
# "<name>: N passed, N failed" at the end (finish).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CUT=$root/cutover
_pass=0 _fail=0 _name=$(basename "$0" .sh)

ok() { _pass=$((_pass + 1)); printf '  ok   %s\n' "$*"; }
not_ok() { _fail=$((_fail + 1)); printf '  FAIL %s\n' "$*"; }
check() { # description command...
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}
check_eq() { # description expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
finish() {
  echo "$_name: $_pass passed, $_fail failed"
  [ "$(type -t finish_hook)" != function ] || finish_hook
  [ "$_fail" -eq 0 ]
}

# q [AUDIT] SQL: one query of an audit file (AUDIT, else $DB).
q() { if [ $# -ge 2 ]; then sqlite3 "$1" "$2"; else sqlite3 "${DB:?q needs an audit: q FILE SQL, or set DB}" "$1"; fi; }

# plain AUDIT RUNBOOK INVENTORY [ANSWER...]: a new run in plain mode as alice,
# the answers on stdin, everything it prints in $W/out; its exit status.
plain() {
  local audit=$1 rb=$2 inv=$3; shift 3
  printf '%s\n' "$@" | "$CUT" run "$rb" -i "$inv" --audit "$audit" --plain --operator alice >"$W/out" 2>&1
}
# plain_resume AUDIT [ANSWER...]: resume as bob, taking over a crashed console's lock.
plain_resume() {
  local audit=$1; shift
  printf '%s\n' "$@" | "$CUT" resume --audit "$audit" --plain --operator bob --take-over >"$W/out" 2>&1
}
