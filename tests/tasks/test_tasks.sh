#!/usr/bin/env bash
# The flink and http writer-task adapters against recorded responses, served
# on loopback by rest_replay (a Flink JobManager's REST API and an in-house
# task platform). tasks.stop takes a savepoint and waits for the job to
# finish; tasks.start resubmits from that savepoint and follows the new job
# id; tasks.wait sees the sink's records grow. A failed savepoint, an HTTP 500
# and a missing token each fail the step, saying why, and nothing is cancelled
# behind the operator's back.
set -u
cd "$(dirname "$0")/../.."
. tests/checklib.sh
unset LAB_DIR
W=$(mktemp -d /tmp/cutover-tasks-XXXXXX)
trap '[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
A=a5e0edd8e66b53f1b89c2041f91b8fd2 B=5b9d5e7cbb1f4b2c9a3a1f0e0d7c6b5a
serve() { # fixture dir
  [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  : >"$W/requests"
  build/tasks/rest_replay 127.0.9.2 8081 "tests/tasks/$1" "$W/requests" &
  srv=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.9.2/8081) 2>/dev/null && return; sleep 0.1; done
  not_ok "rest_replay listens"
}
cat >"$W/inv.yaml" <<YAML
site: writer-task adapters (recorded responses)
operators: [alice, bob]
ensembles:
  old:
    nodes: [{myid: 1, host: 127.0.9.10}]
clickhouse:
  ensemble: old
  nodes: [{name: ck1, host: 127.0.9.11}]
tasks:
  list:
    - id: "2948"
      adapter: flink
      url: http://127.0.9.2:8081
      job: $A
      resubmit: >-
        echo "\$CUTOVER_SAVEPOINT" >$W/savepoint-used;
        echo "Job has been submitted with JobID $B"
    - id: "10295"
      adapter: http
      status_url: http://127.0.9.2:8081/api/tasks/\${id}
      stop_url: http://127.0.9.2:8081/api/tasks/\${id}/stop
      start_url: http://127.0.9.2:8081/api/tasks/\${id}/start
      state_pointer: /data/status
      rows_pointer: /data/rows
      token_env: CUTOVER_TEST_TASK_TOKEN
YAML
cat >"$W/rb.yaml" <<'YAML'
runbook: adapters
steps:
  - {id: stop, title: stop the writers, action: tasks.stop, targets: [tasks.all], simple: true, timeout: 30s}
  - {id: start, title: start the writers, action: tasks.start, targets: [tasks.all], simple: true, timeout: 30s}
  - {id: wait, title: the writers write, action: tasks.wait, targets: [tasks.all], simple: true, timeout: 30s}
YAML
run() { CUTOVER_TEST_TASK_TOKEN=${TOKEN-s3cr3t-t0ken} plain "$1" "$W/rb.yaml" "$W/inv.yaml" "${@:2}"; } # audit answers...

serve recorded
run "$W/ok.db" yes yes yes
check_eq "stop, start and wait succeed on the recorded platforms" 0 "$?"
check "the Flink job was stopped with a savepoint (POST /jobs/<id>/stop, drain false)" \
  grep -q "^POST /jobs/$A/stop | - | {\"drain\": false}" "$W/requests"
check "and never cancelled" bash -c "! grep -q '^PATCH' '$W/requests'"
check_eq "the savepoint's location is a fact in the audit" "file:/flink/savepoints/savepoint-a5e0ed-5b3f0c9a1d2e" \
  "$(q "$W/ok.db" "select json_extract(payload,'\$.value') from events where kind='fact' and json_extract(payload,'\$.key')='task.2948.savepoint'")"
check_eq "the resubmit got that savepoint in \$CUTOVER_SAVEPOINT" "file:/flink/savepoints/savepoint-a5e0ed-5b3f0c9a1d2e" \
  "$(cat "$W/savepoint-used" 2>/dev/null)"
check_eq "the new job id is followed from then on" "$B" \
  "$(q "$W/ok.db" "select json_extract(payload,'\$.value') from events where kind='fact' and json_extract(payload,'\$.key')='task.2948.job'")"
check "tasks.wait asked the new job and saw its sink's records grow" \
  grep -q "task 2948 runs and writes: 1000 -> 1250 rows" <<<"$(q "$W/ok.db" "select payload from events where step='wait'")"
check "the http task's stop passed through STOPPING to STOPPED" \
  bash -c "grep -q 'task 10295: STOPPING' <<<\"\$1\" && grep -q 'task 10295: STOPPED, 7322 rows' <<<\"\$1\"" _ \
  "$(q "$W/ok.db" "select group_concat(payload, ' ') from events where step='stop' and target='10295'")"
check "the http task's rows grew after its start" \
  grep -q "task 10295 runs and writes: 7322 -> 7400 rows" <<<"$(q "$W/ok.db" "select payload from events where step='wait'")"
check "the token went in the Authorization header of the http task's calls" \
  grep -q "^POST /api/tasks/10295/stop | Bearer s3cr3t-t0ken | {}" "$W/requests"
check "and never into the audit" bash -c "! sqlite3 '$W/ok.db' 'select payload from events' | grep -q s3cr3t"

# a savepoint that fails: the step fails, saying so; the job is not cancelled instead
serve fail
run "$W/sp.db" yes abort
check "a failed savepoint fails tasks.stop and says why" grep -q "the savepoint failed (org.apache.flink.runtime.checkpoint.CheckpointException)" \
  <<<"$(q "$W/sp.db" "select payload from events where kind='step_end' and step='stop'")"
check "nothing cancelled the job behind the operator's back" bash -c "! grep -q '^PATCH' '$W/requests'"

# flink_stop: cancel, the operator's choice when a savepoint cannot be taken
sed 's/action: tasks.stop, targets: \[tasks.all\]/action: tasks.stop, params: {flink_stop: cancel}, targets: ["task(2948)"]/' \
  "$W/rb.yaml" >"$W/cancel.yaml"
serve fail
printf '%s\n' yes abort | "$CUT" run "$W/cancel.yaml" -i "$W/inv.yaml" --audit "$W/cancel.db" --plain --operator alice >"$W/out" 2>&1
check "flink_stop: cancel cancels the job (PATCH /jobs/<id>?mode=cancel), no savepoint" \
  bash -c "grep -q '^PATCH /jobs/$A?mode=cancel ' '$W/requests' && ! grep -q '/stop ' '$W/requests'"
check "and the step succeeds once the job reports CANCELED" grep -q '"ok":true' \
  <<<"$(q "$W/cancel.db" "select payload from events where kind='step_end' and step='stop'")"

# an HTTP 500 from the platform, and a missing token
sed -i 's/targets: \[tasks.all\], simple: true, timeout: 30s}$/targets: ["task(10295)"], simple: true, timeout: 30s}/' "$W/rb.yaml"
serve fail
run "$W/500.db" yes abort
check "an HTTP 500 on stop fails the step with the platform's answer" grep -q "answered HTTP 500: {\\\\\"code\\\\\":500" \
  <<<"$(q "$W/500.db" "select payload from events where kind='step_end' and step='stop'")"
TOKEN= run "$W/notoken.db" yes abort
check "a missing token is named before any call" grep -q "the environment variable CUTOVER_TEST_TASK_TOKEN (its API token) is not set" \
  <<<"$(q "$W/notoken.db" "select payload from events where kind='step_end' and step='stop'")"
finish
