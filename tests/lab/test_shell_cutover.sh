#!/usr/bin/env bash
# The seed's cutover, in shell steps (tests/lab/shell-cutover.yaml), run in
# plain mode from the first confirmation to the end against a fresh lab; then
# a second cutover that dies by kill -9 mid-way and is resumed into its
# rollback. What is asserted is the site, not the tool's word: where
# ClickHouse's metrika.xml points, which ensemble holds its sessions, and that
# every row a writer was told was written is in both replicas.
set -u
. "$(dirname "$0")/testlib.sh"
RB="$here/shell-cutover.yaml"
W=$(mktemp -d /tmp/cutover-shell-XXXXXX); trap 'rm -rf "$W"' EXIT

stop_writers() { for t in "${TASKS[@]}"; do "$LAB_DIR/bin/writer.sh" stop "$t" >/dev/null; done; }
ensemble_of() { grep -o '127\.0\.[12]\.' "$LAB_DIR/ck/$1/metrika.xml" | sort -u | tr -d '\n'; }
# Prompts are answered as they appear (drive.sh), not from a list fed in advance: one prompt
# more or less anywhere must not shift every answer after it.
. "$here/drive.sh"
answer() {
  case $1 in
    "second operator: ") echo "${SECOND_OPERATOR:-bob}" ;;
    "note (Enter for none): ") echo "" ;;
    "reason: ") echo "a gate failed in the test" ;;
    choice*) echo "${CHOICE:-abort}" ;;
    "confirm "*) step_of "$1" ;;
    *) echo yes ;;
  esac
}

# ---- the cutover, start to end ---------------------------------------------------------
lab_fresh
writers_write
A=$W/cutover.db
drive "$W/out" "$CUT" run "$RB" -i "$INV" --audit "$A" --plain --operator alice
rc=$?
check_eq "the shell cutover ends succeeded" 0 "$rc"
[ "$rc" = 0 ] || grep -v '^    ' "$W/out" | tail -30 | sed 's/^/  | /'
check_eq "no confirmation overrode a gate" 0 \
  "$(sqlite3 "$A" "select count(*) from events where kind='confirm' and json_extract(payload,'\$.override') is not null")"
check "audit verify passes" "$CUT" audit verify --audit "$A"
check_eq "every step succeeded once" 14 "$(sqlite3 "$A" "select count(*) from events where kind='step_end' and json_extract(payload,'\$.ok')")"
check_eq "the six two-operator steps (the point of no return among them) name alice and bob" 6 \
  "$(sqlite3 "$A" "select count(*) from events where kind='confirm' and json_extract(payload,'\$.operators') = '[\"alice\",\"bob\"]'")"
check "the audit holds the writers' stop output" \
  test "$(sqlite3 "$A" "select count(*) from events where kind='output' and step='stop-writers' and payload like '%stopped, rows%'")" -eq 5
check "the intent of the copy is written before its output" test \
  "$(sqlite3 "$A" "select min(seq) from events where kind='intent' and step='copy'")" -lt \
  "$(sqlite3 "$A" "select min(seq) from events where kind='output' and step='copy'")"
check_eq "ck1's metrika.xml points at the new ensemble" "127.0.2." "$(ensemble_of ck1)"
check_eq "ck2's metrika.xml points at the new ensemble" "127.0.2." "$(ensemble_of ck2)"
leader=$(for a in "${NEW[@]}"; do [ "$(srvr "$a" | sed -n 's/^Mode: //p')" = leader ] && echo "$a"; done)
check "ClickHouse's sessions are on the new ensemble" \
  test "$(curl -sf "http://$leader:8080/commands/mntr" | jq '.global_sessions')" -ge 2
check "the new ensemble holds ClickHouse's metadata" \
  test "$(srvr "$leader" | sed -n 's/^Node count: //p')" -ge 300
writers_write; stop_writers
check "every acknowledged row is on both replicas after the cutover" rows_match

# ---- a cutover killed mid-way, resumed into its rollback ---------------------------------------
lab_fresh
writers_write
R=$W/rollback.db
export CUTOVER_TEST_CRASH=after-intent:switch-clickhouse
drive "$W/out-crash" "$CUT" run "$RB" -i "$INV" --audit "$R" --plain --operator alice
rc=$?
unset CUTOVER_TEST_CRASH
check_eq "the cutover died by SIGKILL at switch-clickhouse" 137 "$rc"
[ "$rc" = 137 ] || { echo "  (it ended otherwise; its last lines:)"; grep -v '^    ' "$W/out-crash" | tail -25 | sed 's/^/  | /'; }
# interrupted -> rollback; the rollback's five steps, two of them by two operators
CHOICE=rollback SECOND_OPERATOR=alice drive "$W/out" "$CUT" resume --audit "$R" --plain --operator bob --take-over
rc=$?
check_eq "the rollback ends succeeded" 0 "$rc"
[ "$rc" = 0 ] || grep -v '^    ' "$W/out" | tail -30 | sed 's/^/  | /'
check_eq "run 1 is recorded as rolled back" "rolled back" "$(sqlite3 "$R" "select outcome from runs where id = 1")"
check_eq "run 2 is the rollback, child of run 1" "1 succeeded" "$(sqlite3 "$R" "select parent || ' ' || outcome from runs where id = 2")"
check_eq "ck1's metrika.xml points at the old ensemble again" "127.0.1." "$(ensemble_of ck1)"
check_eq "ck2's metrika.xml points at the old ensemble again" "127.0.1." "$(ensemble_of ck2)"
check "audit verify passes across both runs" "$CUT" audit verify --audit "$R"
writers_write; stop_writers
check "every acknowledged row is on both replicas after the rollback" rows_match
finish
