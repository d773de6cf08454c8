#!/usr/bin/env bash
# ck.switch and ck.verify on the lab's ClickHouse (tests/lab/ck-switch.yaml):
# to the empty new ensemble and back leaves metrika.xml byte for byte as it
# was (apart from the backups); ck.verify fails on the ensemble without the
# data, naming its checks, and passes back on the old one; a broken
# metrika.xml is refused and left untouched.
set -u
. "$(dirname "$0")/testlib.sh"
. "$here/drive.sh"
W=$(mktemp -d /tmp/cutover-ck-XXXXXX); trap 'rm -rf "$W"' EXIT
lab_fresh # ClickHouse on the old ensemble, as lab up makes it
for t in "${TASKS[@]}"; do "$LAB_DIR/bin/writer.sh" stop "$t" >/dev/null; done
cp "$LAB_DIR/ck/ck1/metrika.xml" "$W/ck1.orig"; cp "$LAB_DIR/ck/ck2/metrika.xml" "$W/ck2.orig"
# Anyone who can create a table names it: this name is a shell command and breaks SQL built
# by pasting. ck.stop and ck.verify list its detached parts, count and sync it below.
marker=$W/injected
hostile="x'; touch $marker; echo \`id\` '"
for c in "${CK[@]}"; do
  ck "$c" "CREATE TABLE lab.\`${hostile//\`/\\\`}\` (n UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/lab/hostile', '{replica}') ORDER BY n" ||
    not_ok "the table with a hostile name was created on $c"
done
ck "${CK[0]}" "INSERT INTO lab.\`${hostile//\`/\\\`}\` VALUES (1), (2), (3)" || not_ok "rows went into it"
ck "${CK[1]}" "SYSTEM SYNC REPLICA lab.\`${hostile//\`/\\\`}\`" || not_ok "and reached the other replica"
answer() { # start-new fails (read-only replicas): skip it; verify-new fails: skip it too
  case $1 in
    "second operator: ") echo bob ;;
    "reason: ") echo "expected on the empty ensemble" ;;
    choice*) echo skip ;;
    "confirm "*) step_of "$1" ;;
    *) echo yes ;;
  esac
}
drive "$W/out" "$CUT" run "$here/ck-switch.yaml" -i "$INV" --audit "$W/a.db" --plain --operator alice
check_eq "the run ends succeeded (with two skips)" 0 "$?"
DB=$W/a.db
check "ck.stop leaves ck1's sessions to the wait after the last server" test "$(q "select count(*) from events where kind='output' and step='stop' and payload like '%ck1: its ZooKeeper sessions are waited for once the step''s last server is stopped%'")" -eq 1
check_eq "and that wait ended with none lingering on old" "ck2: no ZooKeeper session without a client remains on old" \
  "$(q "select rtrim(json_extract(payload,'\$.text'), char(10)) from events where kind='output' and step='stop' and payload like '%ZooKeeper session%' order by seq desc limit 1")"
check "ck.stop recorded the parts already detached, for ck.verify to compare with" \
  test "$(q "select count(*) from events where kind='fact' and step='stop' and payload like '%ck.ck_.detached%'")" -eq 2
check "ck.verify ran the detached-parts check and found nothing new back on old" \
  grep -q "check detached-parts *pass" <<<"$(q "select payload from events where kind='output' and step='verify-old'")"
conf=$(q "select json_extract(payload,'\$.plan') from events where kind='confirm' and step='to-new'")
check "the switch's confirmation showed each file's diff: old hosts out" grep -q -- "- .*<host>127.0.1.1</host>" <<<"$conf"
check "and new hosts in" grep -q -- "+ .*<host>127.0.2.1</host>" <<<"$conf"
check "for both nodes" test "$(grep -c -- '--- .*/metrika.xml (now: 127.0.1.1:2181' <<<"$conf")" -eq 2
check "the operators saw it before confirming" bash -c "awk '/live preview:/{p=1} /confirm to-new/{exit} p' '$W/out' | grep -q '+ .*<host>127.0.2.2</host>'"
check "ck.start on the empty ensemble fails (read-only replicas or no start in time)" grep -q "\"ok\":false" <<<"$(q "select payload from events where kind='step_end' and step='start-new'")"
check "ck.verify fails there, naming replicas-writable" grep -q "checks failed: .*replicas-writable" <<<"$(q "select payload from events where kind='step_end' and step='verify-new'")"
check "ck.verify on the empty ensemble also finds ClickHouse's sessions hold nothing there" grep -q "checks failed: .*zookeeper-is-target" <<<"$(q "select payload from events where kind='step_end' and step='verify-new'")"
check "and back on old, its replicas' is_active is held on old" grep -q "check zookeeper-is-target *pass .*is_active is held on old" <<<"$(q "select payload from events where kind='output' and step='verify-old'")"
check "ck.verify passes back on the old ensemble" grep -q '"ok":true' <<<"$(q "select payload from events where kind='step_end' and step='verify-old'")"
check "no command in a table's name ran on the ClickHouse hosts" test ! -e "$marker"
check "ck.stop counted the rows of the table with that name" \
  test "$(q "select count(*) from events where kind='fact' and step='stop' and payload like '%touch%=3;%'")" -eq 2
for n in ck1 ck2; do
  check "$n's metrika.xml is byte for byte the original after the round trip" cmp -s "$W/$n.orig" "$LAB_DIR/ck/$n/metrika.xml"
  check_eq "$n kept two backups" 2 "$(ls "$LAB_DIR/ck/$n/"metrika.xml.2* | wc -l)"
done
check_eq "ck show says both point at the old ensemble" "old old" \
  "$("$CUT" ck show -i "$INV" | awk 'NR > 1 {print $3}' | paste -sd' ')"
# a broken metrika.xml is refused and left as it was
cat >"$W/broken.yaml" <<'YAML'
runbook: ck-broken
kind: migration
clickhouse_starts_on: old
steps:
  - {id: to-new, title: switch, action: ck.switch, targets: [ck.node(ck2)], params: {to: new}, confirm: two}
YAML
printf '<yandex><zookeeper-servers><node>\n' >"$W/broken.xml"
cp "$LAB_DIR/ck/ck2/metrika.xml" "$W/ck2.keep"; cp "$W/broken.xml" "$LAB_DIR/ck/ck2/metrika.xml"
answer() { case $1 in "second operator: ") echo bob ;; choice*) echo abort ;; "confirm "*) step_of "$1" ;; *) echo yes ;; esac; }
drive "$W/out" "$CUT" run "$W/broken.yaml" -i "$INV" --audit "$W/b.db" --plain --operator alice
check "a broken metrika.xml is refused" grep -q "does not parse as XML" "$W/out"
check "and the preview said so before the confirmation" grep -q "cannot preview: .*would be refused: .*does not parse as XML" "$W/out"
check "and left byte for byte as it was" cmp -s "$W/broken.xml" "$LAB_DIR/ck/ck2/metrika.xml"
cp "$W/ck2.keep" "$LAB_DIR/ck/ck2/metrika.xml"
for t in "${TASKS[@]}"; do "$LAB_DIR/bin/writer.sh" start "$t" >/dev/null; done
finish
