#!/usr/bin/env bash
# zk.leader, zk.stop, zk.wipe, zk.start and zk.wait_quorum on the lab's new
# ensemble (tests/lab/zk-actions.yaml), asserted on the ensemble itself and on
# the audit: the leader is found (again after it is killed), a running node is
# not wiped, the leader stops last, data is moved aside and never deleted,
# myid stays, and the ensemble forms again.
set -u
. "$(dirname "$0")/testlib.sh"
lab_fresh
W=$(mktemp -d /tmp/cutover-zkact-XXXXXX); trap 'rm -rf "$W"' EXIT
DB=$W/a.db

before=$(leader_of new 127.0.2)
files_before=$(ls "$LAB_DIR/zk/new1/data/version-2" | wc -l)
printf '%s\n' yes  wipe-running bob  skip "refused as it should be"  stop bob  wipe bob  start  yes | \
  "$CUT" run "$here/zk-actions.yaml" -i "$INV" --audit "$W/a.db" --plain --operator alice >"$W/out" 2>&1
check_eq "the run ends succeeded" 0 "$?"
check "zk.leader names the leader srvr reports" grep -q "leader of new: $before " "$W/out"
check "a wipe of a running node is refused" grep -q "new1 is \(leader\|follower\) on port 2181; stop it before moving its data" <<<"$(q "select payload from events where kind='step_end' and step='wipe-running'")"
check_eq "the refused wipe moved nothing" 0 "$(q "select count(*) from events where kind='output' and step='wipe-running'")"
check_eq "zk.stop took the leader last" "$before" "$(q "select target from events where kind='intent' and step='stop' order by seq desc limit 1")"
check_eq "zk.stop stopped all three" 3 "$(q "select count(*) from events where kind='target_end' and step='stop' and json_extract(payload,'\$.ok')")"
for n in 1 2 3; do
  for d in data log; do
    moved=$(ls -d "$LAB_DIR/zk/new$n/$d/"version-2.moved-* 2>/dev/null | head -1)
    check "new$n $d/version-2 was moved aside, not deleted" test -n "$moved" -a -d "$moved"
  done
  check_eq "new$n keeps its myid" "$n" "$(cat "$LAB_DIR/zk/new$n/data/myid")"
done
check "the moved dir holds the old files" test "$(ls "$(ls -d "$LAB_DIR"/zk/new1/data/version-2.moved-* | tail -1)" | wc -l)" -eq "$files_before"
after=$(leader_of new 127.0.2)
check "the new ensemble has a leader again" test -n "$after"
check_eq "and two followers" 2 "$(for n in 1 2 3; do role 127.0.2.$n; done | grep -c follower)"
check "zk.wait_quorum reports one zxid" grep -q "1 leader(s), 2 follower(s) of 3, one zxid" "$W/out"
check "audit verify passes" "$CUT" audit verify --audit "$W/a.db" >/dev/null

# kill -9 the leader: the next zk.leader finds the new one
pid=$(cat "$LAB_DIR/zk/$after/data/zookeeper_server.pid")
kill -9 "$pid"
for _ in $(seq 60); do l=$(leader_of new 127.0.2); [ -n "$l" ] && [ "$l" != "$after" ] && break; sleep 0.5; done
cat >"$W/leader.yaml" <<'YAML'
runbook: leader-only
kind: migration
steps:
  - {id: leader, title: find the leader, action: zk.leader, targets: [new.all], simple: true}
YAML
printf 'yes\n' | "$CUT" run "$W/leader.yaml" -i "$INV" --audit "$W/b.db" --plain --operator alice >"$W/out" 2>&1
check "after the leader is killed, zk.leader names the new one" grep -q "leader of new: $(leader_of new 127.0.2) " "$W/out"
check "and the killed node shows as down" grep -q "$after (127.0.2.${after#new}:2181): down" "$W/out"
"$LAB_DIR/zk/$after/bin/zkServer.sh" start >/dev/null 2>&1
for _ in $(seq 60); do [ -n "$(role 127.0.2.${after#new})" ] && break; sleep 0.5; done

# zk.preflight: the lab's new nodes are ready; a compressed-snapshot setting is refused
cat >"$W/preflight.yaml" <<'YAML'
runbook: preflight-only
kind: migration
steps:
  - {id: preflight, title: preflight, action: zk.preflight, targets: [new.all], params: {against: old}, simple: true}
YAML
printf 'yes\n' | "$CUT" run "$W/preflight.yaml" -i "$INV" --audit "$W/p1.db" --plain --operator alice >"$W/out" 2>&1
check_eq "zk.preflight passes on the lab's new ensemble" 0 "$?"
check "it reports both ensembles' versions" grep -q "old1 (old): ZooKeeper 3.8" "$W/out"
cp "$LAB_DIR/zk/new2/conf/zoo.cfg" "$W/zoo.cfg.keep"
echo "snapshot.compression.method=gz" >>"$LAB_DIR/zk/new2/conf/zoo.cfg"
printf 'yes\nabort\n' | "$CUT" run "$W/preflight.yaml" -i "$INV" --audit "$W/p2.db" --plain --operator alice >"$W/out" 2>&1
cp "$W/zoo.cfg.keep" "$LAB_DIR/zk/new2/conf/zoo.cfg"
check "snapshot compression on new2 is refused" grep -q "new2: snapshot.compression.method=gz" "$W/out"

# a rollback started before ClickHouse ever left the old ensemble must not wipe it
cat >"$W/early-rollback.yaml" <<'YAML'
runbook: early-rollback
kind: rollback
clickhouse_starts_on: new
steps:
  - {id: wipe-old, title: wipe the old ensemble, action: zk.wipe, targets: [old.node(1)], confirm: two}
YAML
printf 'wipe-old\nbob\nabort\n' | "$CUT" run "$W/early-rollback.yaml" -i "$INV" --audit "$W/r.db" --plain --operator alice >"$W/out" 2>&1
check "a rollback refuses to wipe the ensemble ClickHouse still uses" grep -q "ClickHouse ck1 still points at the old ensemble" "$W/out"
check "and old1's data stays where it was" test -z "$(ls -d "$LAB_DIR"/zk/old1/data/version-2.moved-* 2>/dev/null)"

# the ensemble ClickHouse uses cannot be wiped: the run is refused before it starts
cat >"$W/wipe-old.yaml" <<'YAML'
runbook: wipe-old
kind: migration
clickhouse_starts_on: old
steps:
  - {id: wipe, title: wipe the old ensemble, action: zk.wipe, targets: [old.all], confirm: two}
YAML
"$CUT" run "$W/wipe-old.yaml" -i "$INV" --audit "$W/c.db" --plain --operator alice </dev/null >"$W/out" 2>&1
check_eq "a runbook wiping the ensemble ClickHouse uses is refused (exit 1)" 1 "$?"
check "with the reason" grep -qi "clickhouse" "$W/out"
finish
