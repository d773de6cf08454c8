#!/usr/bin/env bash
# The execution core in plain mode against the lab (tests/lab/core.yaml):
# confirmations by two different operators on duty, a gate override with a
# reason, a step timeout that kills, decisions after failure, kill -9 at four
# points of a step followed by resume, one console per audit, stale locks,
# notes from outside, and audit verify catching edited and deleted events.
set -u
. "$(dirname "$0")/testlib.sh"
lab_fresh

W=$(mktemp -d /tmp/cutover-engine-XXXXXX)
export CORE_DIR=$W
cp "$here/core.yaml" "$W/core.yaml"; RB="$W/core.yaml"
trap 'rm -rf "$W"' EXIT

run() { plain "$1" "$RB" "$INV" "${@:2}"; } # audit answers...: core.yaml as alice
count() { grep -cx "$1" "$W/ran" 2>/dev/null || true; }

# ---- A: a whole run with every kind of answer --------------------------------------
A=$W/a.db
run "$A" yes  yes two \
  three alice  three mallory  three bob \
  gated bob ""  gated bob "the new ensemble is a test fixture" \
  slow skip "sleeps forever by design" \
  yes
rc=$?
check_eq "the run ends succeeded (exit 0)" 0 "$rc"
check_eq "step one ran once" 1 "$(count one)"
check "yes does not confirm a step not marked simple, and says what to type" \
  grep -q "type two to run it, no to stop here (yes confirms only a step marked simple)" "$W/out"
check_eq "its id does: step two ran once" 1 "$(count two)"
check_eq "the refused second operators are in the audit" "alice mallory" \
  "$(q "$A" "select group_concat(json_extract(payload,'\$.second'), ' ') from events where kind='refused' and step='three'")"
check "plain mode says both confirmations came from its one terminal" grep -q "confirmed by alice and bob, both at this terminal" "$W/out"
check_eq "and records it" "the same terminal" \
  "$(q "$A" "select json_extract(payload,'\$.second_from') from events where kind='confirm' and step='three'")"
check_eq "step three ran on ck1 over ssh, once" 1 "$(count three-ck1)"
check_eq "step three ran on ck2 over ssh, once" 1 "$(count three-ck2)"
check "the same operator twice is refused" grep -q "needs two different operators" "$W/out"
check "an operator not on duty is refused" grep -q "'mallory' is not an operator on duty" "$W/out"
check_eq "step three's confirmation names alice and bob" '["alice","bob"]' \
  "$(q "$A" "select json_extract(payload,'\$.operators') from events where kind='confirm' and step='three'")"
check "a failing gate is shown before confirmation" grep -q "gate new.down: FAILS" "$W/out"
check "an override without a reason is refused" grep -q "overriding needs two operators and a typed reason" "$W/out"
check_eq "the override is recorded with its reason" "the new ensemble is a test fixture" \
  "$(q "$A" "select json_extract(payload,'\$.override') from events where kind='confirm' and step='gated'")"
check_eq "the decision snapshot holds all six ZooKeeper nodes" 6 \
  "$(q "$A" "select json_array_length(payload,'\$.live.zookeeper') from events where kind='confirm' and step='one'")"
plan_sha=$(q "$A" "select json_extract(payload,'\$.plan_sha256') from events where kind='confirm' and step='two'")
plan_txt=$(q "$A" "select json_extract(payload,'\$.plan') from events where kind='confirm' and step='two'" | head -c -1 | sha256sum | cut -d' ' -f1)
check_eq "the confirmation's plan SHA-256 is the hash of the plan it recorded" "$plan_sha" "$plan_txt"
check_eq "stdout is captured as stdout" "step one says hi" \
  "$(q "$A" "select json_extract(payload,'\$.text') from events where kind='output' and step='one' and json_extract(payload,'\$.stream')='stdout'")"
check_eq "stderr is kept apart" "to stderr" \
  "$(q "$A" "select json_extract(payload,'\$.text') from events where kind='output' and step='one' and json_extract(payload,'\$.stream')='stderr'")"
check_eq "every output line of step two is in the audit, in order" "$(seq 1 8 | sed 's/^/line /')" \
  "$(q "$A" "select json_extract(payload,'\$.text') from events where kind='output' and step='two' order by seq" | sed '/^$/d')"
check "the slow step failed on its timeout" grep -q "ms (the step.s timeout); the command was killed" <<<"$(q "$A" "select payload from events where kind='step_end' and step='slow'")"
check_eq "the timed-out command was killed" 0 "$(pgrep -fc 'sleep 1000' || true)"
check_eq "the skip is recorded with its reason" "sleeps forever by design" \
  "$(q "$A" "select json_extract(payload,'\$.reason') from events where kind='decision' and step='slow'")"
check_eq "the run row says succeeded" succeeded "$(q "$A" "select outcome from runs")"
check "audit verify passes" "$CUT" audit verify --audit "$A"
check_eq "the audit file is mode 0600" 600 "$(stat -c %a "$A")"

# ---- B: kill -9 at four points of step two, then resume ---------------------------------
for point in before-intent after-intent mid-output after-outcome; do
  B=$W/b-$point.db; rm -f "$W/ran"
  CUTOVER_TEST_CRASH=$point:two run "$B" yes two
  check_eq "[$point] the program died by SIGKILL" 137 "$?"
  check "[$point] the audit verifies after the crash" "$CUT" audit verify --audit "$B"
  ran_before=$(count two)
  case $point in before-intent|after-intent) want=0 ;; *) want=1 ;; esac
  check_eq "[$point] step two's command ran $want time(s) before the crash" "$want" "$ran_before"
  [ "$point" = mid-output ] && check "[$point] output before the crash was kept" \
    test "$(q "$B" "select count(*) from events where kind='output' and step='two'")" -ge 1
  plain_resume "$B" </dev/null
  check "[$point] resume shows step two as interrupted" grep -q "step two was running when cutover stopped" "$W/out"
  check_eq "[$point] resume without an answer runs nothing" "$ran_before" "$(count two)"
  if [ "$point" = after-outcome ]; then
    plain_resume "$B" done "checked: it completed" no
    check_eq "[$point] 'done' does not run it again" 1 "$(count two)"
    check_eq "[$point] the reason is recorded" "checked: it completed" \
      "$(q "$B" "select json_extract(payload,'\$.reason') from events where kind='decision'")"
  else
    plain_resume "$B" rerun two no
    check_eq "[$point] 'rerun' runs it exactly once more" $((ran_before + 1)) "$(count two)"
  fi
  check_eq "[$point] one interrupted event, however many resumes" 1 \
    "$(q "$B" "select count(*) from events where kind='interrupted'")"
  check_eq "[$point] resumes are recorded by bob" 2 \
    "$(q "$B" "select count(*) from events where kind='run_resume' and operator='bob'")"
  check "[$point] the audit verifies after resume" "$CUT" audit verify --audit "$B"
done

# kill -9 from outside while step two streams output
K=$W/k.db; rm -f "$W/ran"
{ printf 'yes\ntwo\n'; sleep 30; } | "$CUT" run "$RB" -i "$INV" --audit "$K" --plain --operator alice >"$W/out" 2>&1 &
for _ in $(seq 100); do grep -q "line 2" "$W/out" && break; sleep 0.1; done
pkill -9 -f "cutover run $RB"
for _ in $(seq 50); do pgrep -f "cutover run $RB" >/dev/null || break; sleep 0.1; done
check "an outside kill -9 mid-output leaves a verifiable audit" "$CUT" audit verify --audit "$K"
check_eq "the lines streamed before the kill are in the audit" "line 1" \
  "$(q "$K" "select json_extract(payload,'\$.text') from events where kind='output' and step='two' order by seq limit 1" | head -1)"

# ---- C: one console per audit, stale locks, notes from outside ---------------------------------
C=$W/c.db; mkfifo "$W/fifo"
"$CUT" run "$RB" -i "$INV" --audit "$C" --plain --operator alice <"$W/fifo" >"$W/out1" 2>&1 &
holder=$!
exec 7>"$W/fifo"
for _ in $(seq 100); do grep -q "confirm one" "$W/out1" && break; sleep 0.1; done
"$CUT" run "$RB" -i "$INV" --audit "$C" --plain --operator bob </dev/null >"$W/out2" 2>&1
check_eq "a second console on the same audit exits 3" 3 "$?"
check "it names the holder's pid, host and operators" \
  grep -q "in use by cutover pid $holder on $(hostname), operators alice" "$W/out2"
mkdir "$W/elsewhere"; ln "$C" "$W/elsewhere/same.db"
"$CUT" resume --audit "$W/elsewhere/same.db" --plain --operator bob --take-over </dev/null >"$W/out2" 2>&1
check_eq "the same audit through a hard link elsewhere is refused, even with --take-over" 1 "$?"
check "it says why: SQLite keeps a log per name" grep -q "has 2 names (hard links); SQLite keeps its log" "$W/out2"
rm -f "$W/elsewhere/same.db"
check "a note can be added while the console runs" "$CUT" notes --audit "$C" --operator bob "DBA on the bridge"
check_eq "the note is in the audit under bob" "DBA on the bridge" \
  "$(q "$C" "select json_extract(payload,'\$.text') from events where kind='note' and operator='bob'")"
"$CUT" notes --audit "$C" --operator mallory "hi" >/dev/null 2>&1
check_eq "a note by someone not on duty is refused" 1 "$?"
kill -9 "$holder"; exec 7>&-; wait "$holder" 2>/dev/null
"$CUT" resume --audit "$C" --plain --operator bob </dev/null >"$W/out" 2>&1
check_eq "a stale lock is not taken over silently (exit 3)" 3 "$?"
check "it says how to take it over" grep -q -- "--take-over" "$W/out"
printf 'yes\nno\n' | "$CUT" resume --audit "$C" --plain --operator bob --take-over >"$W/out" 2>&1
check "--take-over continues the run" grep -q "step one succeeded" "$W/out"
check "the chain holds with a note from another process in it" "$CUT" audit verify --audit "$C"

# ---- D: edited and deleted events are found ---------------------------------------------------
cp "$A" "$W/d.db"
sqlite3 "$W/d.db" "DROP TRIGGER events_no_update; UPDATE events SET payload = replace(payload, '}', ',\"x\":1}') WHERE seq = 10"
out=$("$CUT" audit verify --audit "$W/d.db"); rc=$?
check_eq "an edited event fails verify (exit 1)" 1 "$rc"
check "verify names the edited event" grep -q "BROKEN at event 10: its content does not match" <<<"$out"
cp "$A" "$W/e.db"
sqlite3 "$W/e.db" "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 12"
check "verify names a deleted event" grep -q "BROKEN at event 12: event missing" <<<"$("$CUT" audit verify --audit "$W/e.db")"
cp "$A" "$W/r.db"
sqlite3 "$W/r.db" "UPDATE runs SET inventory_sha256 = 'edited'" # with an inventory edited to match
out=$("$CUT" audit verify --audit "$W/r.db"); rc=$?
check_eq "an edited runs row fails verify (exit 1)" 1 "$rc"
check "verify names the run and what was edited" \
  grep -q "run 1's row in the runs table does not match its chained events (its inventory was edited)" <<<"$out"
cp "$W/b-after-outcome.db" "$W/f.db"
sqlite3 "$W/f.db" "DROP TRIGGER events_no_update; UPDATE events SET operator = 'eve' WHERE seq = 3"
sqlite3 "$W/f.db" "UPDATE runs SET outcome = NULL"
plain_resume "$W/f.db" </dev/null
check "resume refuses a damaged audit" grep -q "is damaged at event 3" "$W/out"

# ---- E: a changed runbook is not resumed silently ---------------------------------------------
E=$W/g.db
CUTOVER_TEST_CRASH=after-intent:one run "$E" yes
echo "# edited" >>"$RB"
plain_resume "$E" </dev/null
check "resume refuses a runbook changed since the run started" grep -q "changed since run 1 started" "$W/out"
"$CUT" resume --audit "$E" --plain --operator bob --allow-changed </dev/null >"$W/out" 2>&1
check "--allow-changed resumes it" grep -q "step one was running when cutover stopped" "$W/out"
sed -i '$d' "$RB" # the runbook as it was
CORE_DIR=/somewhere/else "$CUT" resume --audit "$E" --plain --operator bob </dev/null >"$W/out" 2>&1
check "resume refuses when the environment resolves the plan differently" grep -q "plan resolves differently" "$W/out"

# ---- F: secrets never reach the audit or the screen --------------------------------------------
cat >"$W/secret.yaml" <<'YAML'
runbook: secret
kind: migration
steps:
  - {id: say, title: print the secret, action: shell, targets: [local], params: {command: "echo pw=${db_password}; echo ${db_password} >&2"}, simple: true}
YAML
printf 'yes\n' | CUTOVER_LAB_SECRET=hunter2-very-secret "$CUT" run "$W/secret.yaml" -i "$INV" --audit "$W/s.db" --plain --operator alice >"$W/out" 2>&1
check_eq "the secret step succeeds" 0 "$?"
check_eq "the secret is nowhere in the audit" 0 "$(sqlite3 "$W/s.db" "select count(*) from events where payload like '%hunter2%'")"
check "the output event shows it masked" grep -q 'pw=\*\*\*' <<<"$(sqlite3 "$W/s.db" "select payload from events where kind='output'")"
check "nor on the screen" bash -c "! grep -q hunter2 '$W/out'"

# A line over 64 KiB reaches the engine in pieces; the secret sits across the
# first boundary (byte 65536) on stdout and across it on stderr too.
cat >"$W/split.yaml" <<'YAML'
runbook: split
kind: migration
steps:
  - {id: say, title: long lines, action: shell, targets: [local], simple: true, params: {command: "head -c 65530 /dev/zero | tr '\\0' x; echo ${db_password}-end; head -c 65533 /dev/zero | tr '\\0' y >&2; echo ${db_password}-err >&2"}}
YAML
printf 'yes\n' | CUTOVER_LAB_SECRET=hunter2-very-secret "$CUT" run "$W/split.yaml" -i "$INV" --audit "$W/split.db" --plain --operator alice >"$W/out" 2>&1
check_eq "a secret cut by the 64 KiB piece boundary: the step succeeds" 0 "$?"
check_eq "neither half of it is in the audit" 0 "$(q "$W/split.db" "select count(*) from events where payload like '%hunter%' or payload like '%very-sec%'")"
check_eq "it is masked where it stood, nothing around it lost" "65530 ***-end 65533 ***-err" \
  "$(q "$W/split.db" "select group_concat(n || ' ' || tail, ' ') from (select length(t) - length(replace(replace(t, 'x', ''), 'y', '')) n,
     substr(rtrim(t, char(10)), -7) tail from (select json_extract(payload, '$.text') t from events where kind = 'output' order by seq))")"
check "nor on the screen" bash -c "! grep -Eq 'hunter|very-sec' '$W/out'"

# Output over a capture limit fails the step; the message must not quote the
# command, which holds the secret once expanded.
sed 's|status: ${lab}/bin/writer.sh status ${id}|status: "head -c 70000 /dev/zero # ${db_password}"|' "$INV" >"$W/big-inv.yaml"
cat >"$W/big.yaml" <<'YAML'
runbook: big
kind: migration
steps:
  - {id: check, title: check the writers, action: tasks.wait, targets: [tasks.all], simple: true, timeout: 20s}
YAML
printf 'yes\nabort\n' | CUTOVER_LAB_SECRET=hunter2-very-secret "$CUT" run "$W/big.yaml" -i "$W/big-inv.yaml" --audit "$W/big.db" --plain --operator alice >"$W/out" 2>&1
check "output over the capture limit fails the step" grep -q "larger than 65536 bytes" <<<"$(q "$W/big.db" "select payload from events where kind = 'step_end'")"
check_eq "the failure message holds no secret" 0 "$(q "$W/big.db" "select count(*) from events where payload like '%hunter2%'")"
check "nor does the screen" bash -c "! grep -q hunter2 '$W/out'"

# ---- H: three refused second operators end the confirmation; the run stays open ------------------
cat >"$W/two.yaml" <<'YAML'
runbook: two
kind: migration
steps:
  - {id: both, title: needs two, action: shell, targets: [local], params: {command: "echo both >> ${env.CORE_DIR}/ran"}, confirm: two}
YAML
rm -f "$W/ran"
printf '%s\n' both alice  both mallory  both alice  both bob | \
  "$CUT" run "$W/two.yaml" -i "$INV" --audit "$W/two.db" --plain --operator alice >"$W/out" 2>&1
check_eq "after three refused second operators plain mode stops (exit 1)" 1 "$?"
check "it says the confirmation ends and the run stays open" grep -q "3 second operators refused, so this confirmation ends here" "$W/out"
check "nothing ran" test ! -s "$W/ran"
check_eq "the three refusals are in the audit" 3 "$(q "$W/two.db" "select count(*) from events where kind='refused' and step='both'")"
check "the run stays resumable" test -z "$(q "$W/two.db" "select outcome from runs")"
printf '%s\n' both bob | "$CUT" resume --audit "$W/two.db" --plain --operator alice >"$W/out" 2>&1
check_eq "resumed, bob confirms it and it runs once" 1 "$(count both)"

# ---- I: presence: a step that changes data with one engineer warns, or is refused when asked -----
printf '%s\n' wipe bob abort | "$CUT" run "$here/alone.yaml" -i "$INV" --audit "$W/alone1.db" --plain --operator alice >"$W/out" 2>&1
check "one engineer: plain mode warns before the confirmation" grep -q "warning: this step changes data and 1 engineer is attached; a second should watch it" "$W/out"
check_eq "and the confirmation records it" true \
  "$(q "$W/alone1.db" "select json_extract(payload,'\$.alone') = 1 from events where kind='confirm'" | sed 's/^1$/true/')"
printf '%s\n' wipe bob | CUTOVER_REFUSE_ALONE=1 "$CUT" run "$here/alone.yaml" -i "$INV" --audit "$W/alone2.db" --plain --operator alice >"$W/out" 2>&1
check "with CUTOVER_REFUSE_ALONE=1 it is refused" grep -q "refused: wipe changes data and 1 engineer is attached" "$W/out"
check_eq "nothing was confirmed" 0 "$(q "$W/alone2.db" "select count(*) from events where kind='confirm'")"
sed 's/^operators: \[alice, bob\]$/operators: [alice, bob]\nalone: refuse/' "$INV" >"$W/alone-inv.yaml"
printf '%s\n' wipe bob | "$CUT" run "$here/alone.yaml" -i "$W/alone-inv.yaml" --audit "$W/alone3.db" --plain --operator alice >"$W/out" 2>&1
check "so with the inventory's alone: refuse" grep -q "refused: wipe changes data and 1 engineer is attached" "$W/out"
check_eq "and the refusal is recorded" 1 "$(q "$W/alone3.db" "select count(*) from events where kind='refused' and json_extract(payload,'\$.why') like 'refused: wipe changes data%'")"

# ---- G: Ctrl-C cancels a running step, kills its command, and is recorded ---------------------
cat >"$W/cancel.yaml" <<'YAML'
runbook: cancel
kind: migration
steps:
  - {id: long, title: a long step, action: shell, targets: [local], params: {command: "echo started; sleep 1004"}, simple: true, timeout: 5m}
YAML
{ printf 'yes\n'; sleep 60; } | "$CUT" run "$W/cancel.yaml" -i "$INV" --audit "$W/cancel.db" --plain --operator alice >"$W/out" 2>&1 &
for _ in $(seq 100); do grep -q "local | started" "$W/out" && break; sleep 0.1; done
pkill -INT -f "cutover run $W/cancel.yaml"
for _ in $(seq 50); do grep -q "choice \[retry" "$W/out" && break; sleep 0.1; done
pkill -f "cutover run $W/cancel.yaml"; pkill -f "sleep 60"
check "the cancel is recorded under alice" test "$(sqlite3 "$W/cancel.db" "select count(*) from events where kind='cancel' and operator='alice'")" -eq 1
check "the step failed as canceled" grep -q "canceled by the operator" <<<"$(sqlite3 "$W/cancel.db" "select payload from events where kind='step_end'")"
check_eq "its command was killed" 0 "$(pgrep -fc 'sleep 1004' || true)"
finish
