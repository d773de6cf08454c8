#!/usr/bin/env bash
# zk.copy and zk.fence on the lab (tests/lab/zk-copy.yaml). A clean copy: one
# destination broken mid-way fails alone, the retry copies only what is
# missing, every file on every new node has the old leader's bytes, and the
# new ensemble starts with the old one's tree. Then a dirty one: a ClickHouse
# insert that lands on the old ensemble after the copy trips the fence.
set -u
. "$(dirname "$0")/testlib.sh"
RB="$here/zk-copy.yaml"
W=$(mktemp -d /tmp/cutover-zkcopy-XXXXXX); trap 'exec 7>&- 2>/dev/null; rm -rf "$W"' EXIT
lab_fresh
start_run() { # audit
  rm -f "$W/in"; mkfifo "$W/in"
  "$CUT" run "$RB" -i "$INV" --audit "$1" --plain --operator alice <"$W/in" >"$W/out" 2>&1 &
  run_pid=$!
  exec 7>"$W/in"
}
say() { printf '%s\n' "$@" >&7; }
wait_for() { # pattern [count]
  for _ in $(seq 3600); do [ "$(grep -c -- "$1" "$W/out")" -ge "${2:-1}" ] && return 0; sleep 0.05; done
  echo "  (timed out waiting for '$1')"; tail -5 "$W/out"; return 1
}
end_run() { exec 7>&-; wait "$run_pid"; }

# ---- a clean copy, with one destination failing on the way ----------------------------------
A=$W/a.db
start_run "$A"
wait_for "confirm stop-writers" && say yes
wait_for "confirm stop-clickhouse" && say stop-clickhouse bob
wait_for "confirm old-quiet" && say yes
wait_for "confirm fence-record" && say yes
wait_for "confirm stop-new" && say stop-new bob
wait_for "confirm wipe-new" && say wipe-new bob
wait_for "confirm copy" || true
old_leader=$(leader_of old 127.0.1)
# new2's snapshot dir becomes a file: that destination fails, the others must not care
rmdir "$LAB_DIR/zk/new2/data/version-2" && echo "in the way" >"$LAB_DIR/zk/new2/data/version-2"
# the old leader's newest snapshot is corrupt: the destinations receive it while it is read, and
# must never see it under its name; the copy falls back to the one before it
src_snaps=$LAB_DIR/zk/$old_leader/data/version-2
planted=snapshot.7fffffffff
cp "$src_snaps/$(ls "$src_snaps" | grep '^snapshot\.' | sort -t. -k2 | tail -1)" "$src_snaps/$planted"
off=$(grep -obUa "metadata format version" "$src_snaps/$planted" | head -1 | cut -d: -f1) # in a znode's data: only the checksum tells
printf 'M' | dd of="$src_snaps/$planted" bs=1 seek="${off:-0}" conv=notrunc status=none
say copy bob
wait_for "choice \[retry" && rm "$LAB_DIR/zk/new2/data/version-2" && say retry
wait_for "confirm copy" 2 && say copy bob
wait_for "confirm fence-check" && say yes
wait_for "confirm start-new" && say start-new
wait_for "confirm quorum" && say yes
wait_for "confirm compare" && say yes
end_run
check_eq "the run ends succeeded" 0 "$?"
rm -f "$src_snaps/$planted"
DB=$A
check "the corrupt newest snapshot was passed over" test "$(q "select count(*) from events where kind='output' and step='copy' and payload like '%$planted passed over: %checksum%'")" -ge 1
check "new1 was sent it while it was read" test "$(q "select count(*) from events where kind='output' and step='copy' and target='new1' and payload like '%$planted: writing %'")" -ge 1
check_eq "no new node holds it, or any temporary file" "" "$(ls -A "$LAB_DIR"/zk/new*/data/version-2 "$LAB_DIR"/zk/new*/log/version-2 | grep -E "$planted|^\.cutover-")"

check "the first copy failed on new2 only" grep -q "new2: .*version-2" <<<"$(q "select payload from events where kind='step_end' and step='copy' and not json_extract(payload,'\$.ok')")"
first_try=$(q "select min(seq) from events where kind='step_start' and step='copy'")
check_eq "on the first try new1 and new3 succeeded beside the failing new2" "new1|1 new2|0 new3|1" \
  "$(q "select target, json_extract(payload,'\$.ok') from events where kind='target_end' and step='copy' and seq < (select min(seq) from events where kind='step_end' and step='copy') order by target" | tr '\n' ' ' | sed 's/ $//')"
check "the destinations were written at once (new3 began before new1 ended)" test \
  "$(q "select min(seq) from events where kind='output' and step='copy' and target='new3' and seq > $first_try")" -lt \
  "$(q "select max(seq) from events where kind='output' and step='copy' and target='new1' and seq < (select min(seq) from events where kind='target_end' and step='copy')")"
check "the retry kept new1's verified files" test "$(q "select count(*) from events where kind='output' and step='copy' and target='new1' and payload like '%already there and verified%'")" -ge 1
check "progress events were written for the copy pane" test "$(q "select count(*) from events where kind='progress' and step='copy'")" -ge 3
files=$(q "select json_extract(payload,'\$.text') from events where kind='output' and step='copy' and payload like '%written and verified%'" | sed -n 's/^\([a-z]*\.[0-9a-f]*\): .*/\1/p' | sort -u)
check "snapshot and logs were copied" test -n "$files"
for f in $files; do
  case $f in snapshot.*) sub=data ;; *) sub=log ;; esac
  # the hash the last attempt computed while reading the source (the live old ensemble may have
  # logged a session between the attempts: then the retry copied the longer log everywhere)
  src=$(q "select json_extract(payload,'\$.text') from events where kind='output' and step='copy' and payload like '%$f: % written and verified%' order by seq desc limit 1" \
        | sed -n 's/.*(sha256 \([0-9a-f]*\)\.\.\.).*/\1/p')
  for n in 1 2 3; do
    got=$(sha256sum "$LAB_DIR/zk/new$n/$sub/version-2/$f" 2>/dev/null | cut -c1-12)
    check_eq "new$n/$sub/version-2/$f has the source's bytes" "$src" "$got"
  done
done
check_eq "no snapshot went into a log dir" 0 "$(ls "$LAB_DIR"/zk/new*/log/version-2 | grep -c '^snapshot\.')"
new_leader=$(leader_of new 127.0.2)
check_eq "the new ensemble serves the old one's tree (node count)" \
  "$(srvr 127.0.1.${old_leader#old} | sed -n 's/^Node count: //p')" "$(srvr 127.0.2.${new_leader#new} | sed -n 's/^Node count: //p')"
check "the fence held" grep -q "fence holds" "$W/out"
check "zk.compare finds the trees equal" grep -q "old: [0-9]* nodes, new: [0-9]* nodes; 0 difference(s)" "$W/out"
check "audit verify passes" "$CUT" audit verify --audit "$A" >/dev/null

# ---- a dirty copy: an insert reaches the old ensemble after the copy -------------------------
B=$W/b.db
start_run "$B"
wait_for "confirm stop-writers" && say yes
wait_for "confirm stop-clickhouse" && say stop-clickhouse bob
wait_for "confirm old-quiet" && say yes
wait_for "confirm fence-record" && say yes
wait_for "confirm stop-new" && say stop-new bob
wait_for "confirm wipe-new" && say wipe-new bob
wait_for "confirm copy" && say copy bob
wait_for "confirm fence-check"
"$LAB_DIR/ck/ck1/bin/clickhouse.sh" start >/dev/null 2>&1
ck 127.0.3.1 "INSERT INTO lab.rt_2948 (task, seq, ts, payload) VALUES (2948, 999999, 0, 'late')" >/dev/null 2>&1
say yes
wait_for "choice \[retry" && say abort
end_run
check "the fence trips on the late insert" grep -q "transaction(s) reached it and are not in the copy" \
  <<<"$(sqlite3 "$B" "select payload from events where kind='step_end' and step='fence-check'")"
check "and names the paths it changed (the late insert's table)" grep -q "paths: .*/lab/rt_2948/" \
  <<<"$(sqlite3 "$B" "select payload from events where kind='step_end' and step='fence-check'")"
check_eq "the run is recorded as aborted" aborted "$(sqlite3 "$B" "select outcome from runs")"
# start the new ensemble on the dirty copy: zk.compare names what the late insert wrote
for n in 1 2 3; do "$LAB_DIR/zk/new$n/bin/zkServer.sh" start >/dev/null 2>&1; done
for _ in $(seq 120); do [ -n "$(leader_of new 127.0.2)" ] && break; sleep 0.5; done
cat >"$W/compare.yaml" <<'YAML'
runbook: compare-only
kind: migration
steps:
  - {id: compare, title: compare, action: zk.compare, params: {left: old, right: new}, simple: true}
YAML
printf 'yes\nabort\n' | "$CUT" run "$W/compare.yaml" -i "$INV" --audit "$W/c.db" --plain --operator alice >"$W/out" 2>&1
check "after the dirty copy zk.compare fails" grep -q "the trees of old and new differ" "$W/out"
check "and names the late insert's paths" grep -q "/rt_2948/.*only in old\|/rt_2948/.*differs\|/rt_2948.*cversion" "$W/out"

# ---- clean_snapshot: the source leader restarts, the new leader's snapshot alone is copied ---------
sed 's/params: {from: old.leader}/params: {from: old.leader, clean_snapshot: true}/' "$RB" >"$W/clean.yaml"
grep -q "clean_snapshot: true" "$W/clean.yaml" || not_ok "the clean_snapshot runbook was made"
RB=$W/clean.yaml; C=$W/c2.db
leader_before=$(leader_of old 127.0.1)
start_run "$C"
for s in stop-writers stop-clickhouse:two old-quiet fence-record stop-new:two wipe-new:two copy:two fence-check start-new quorum compare; do
  case $s in *:two) wait_for "confirm ${s%:two}" && say "${s%:two}" bob ;; *) wait_for "confirm $s" && say "$s" ;; esac
done
end_run
check_eq "the clean_snapshot run ends succeeded" 0 "$?"
check "the source leader was restarted first" grep -q "clean_snapshot: restarting the source leader $leader_before" \
  <<<"$(sqlite3 "$C" "select payload from events where kind='output' and step='copy'")"
check "another node leads the old ensemble now" test "$(leader_of old 127.0.1)" != "$leader_before"
copied=$(sqlite3 "$C" "select json_extract(payload,'\$.text') from events where kind='output' and step='copy' and payload like '%written and verified%'" | sed -n 's/^\([a-z]*\.[0-9a-f]*\): .*/\1/p' | sort -u)
check_eq "the new leader's snapshot alone was copied" "snapshot" "$(sed 's/\..*//' <<<"$copied" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "and the new ensemble started on it serves the old tree (compare: no difference)" grep -q "old: [0-9]* nodes, new: [0-9]* nodes; 0 difference(s)" \
  <<<"$(sqlite3 "$C" "select payload from events where step='compare'")"

# ---- a write lost in the move: ClickHouse sets its part aside, ck.verify names it ----------------
# ClickHouse is down and the new ensemble holds the old one's tree (the run above). ck1 alone
# takes one more insert on the old ensemble, then both move to the new one, which never saw it.
"$LAB_DIR/ck/ck1/bin/clickhouse.sh" start >/dev/null 2>&1
for _ in $(seq 120); do ck 127.0.3.1 "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
ck 127.0.3.1 "INSERT INTO lab.rt_2948 (task, seq, ts, payload) VALUES (2948, 999998, 0, 'lost')" >/dev/null 2>&1
"$LAB_DIR/ck/ck1/bin/clickhouse.sh" stop >/dev/null 2>&1
cat >"$W/lost.yaml" <<'YAML'
runbook: lost-write
kind: migration
clickhouse_starts_on: old
steps:
  - {id: switch, title: switch, action: ck.switch, targets: [ck.all], params: {to: new}, confirm: two}
  - {id: start, title: start, action: ck.start, targets: [ck.all], timeout: 2m, simple: true}
  - {id: verify, title: verify, action: ck.verify, targets: [ck.node(ck1)], timeout: 4m, simple: true}
YAML
printf '%s\n' switch bob yes yes abort | "$CUT" run "$W/lost.yaml" -i "$INV" --audit "$W/lost.db" --plain --operator alice >"$W/out" 2>&1
check "ck.verify fails naming detached-parts" grep -q "checks failed: .*detached-parts" \
  <<<"$(sqlite3 "$W/lost.db" "select payload from events where kind='step_end' and step='verify'")"
check "and names the part ClickHouse set aside in lab.rt_2948" grep -q "detached-parts .*FAIL.*lab\.rt_2948/\(ignored\|unexpected\)_" \
  <<<"$(sqlite3 "$W/lost.db" "select json_extract(payload,'\$.text') from events where kind='output' and step='verify'")"
finish
