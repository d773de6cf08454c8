#!/usr/bin/env bash
# The seed's migration, runbooks/zk-migration.yaml, run in plain mode on a
# fresh lab with the writers writing: every step from the writers' stop to
# their restart, with the built-in ZooKeeper, ClickHouse and writer actions.
# Asserted on the site: ClickHouse's files point at the new ensemble, its
# sessions are there, and every row a writer was told was written is on both
# replicas -- before the switch, and after the writers ran on the new ensemble.
set -u
. "$(dirname "$0")/testlib.sh"
. "$here/drive.sh"
W=$(mktemp -d /tmp/cutover-migration-XXXXXX); trap 'rm -rf "$W"' EXIT
lab_fresh
writers_write
A=$W/migration.db
drive "$W/out" "$CUT" run "$root/runbooks/zk-migration.yaml" -i "$INV" --audit "$A" --plain --operator alice
rc=$?
check_eq "the migration ends succeeded" 0 "$rc"
[ "$rc" = 0 ] || grep -E "FAILED|failed" "$W/out" | head -10
DB=$A
check_eq "all 19 steps succeeded" 19 "$(q "select count(distinct step) from events where kind='step_end' and json_extract(payload,'\$.ok')")"
check "ck.verify passed every check" test "$(grep -c 'check .* FAIL' "$W/out")" -eq 0 -a "$(grep -c 'check .* pass' "$W/out")" -ge 10
check "the fence held twice" test "$(grep -c 'fence holds' "$W/out")" -ge 2
check "the trees compared equal" grep -q "0 difference(s)" "$W/out"
for n in ck1 ck2; do
  check_eq "$n's metrika.xml lists the new ensemble" "127.0.2.1 127.0.2.2 127.0.2.3" \
    "$(grep -o '<host>[^<]*</host>' "$LAB_DIR/ck/$n/metrika.xml" | sed 's/<[^>]*>//g' | paste -sd' ')"
  check "$n's previous metrika.xml is kept" test -n "$(ls "$LAB_DIR/ck/$n/"metrika.xml.2* 2>/dev/null)"
done
check_eq "ck show says both point at the new ensemble" "new new" \
  "$("$CUT" ck show -i "$INV" | awk 'NR > 1 {print $3}' | paste -sd' ')"
leader=$(for a in "${NEW[@]}"; do [ "$(srvr "$a" | sed -n 's/^Mode: //p')" = leader ] && echo "$a"; done)
check "ClickHouse's sessions are on the new ensemble" \
  test "$(curl -sf "http://$leader:8080/commands/mntr" | jq '.global_sessions')" -ge 2
writers_write # on the new ensemble
for t in "${TASKS[@]}"; do "$LAB_DIR/bin/writer.sh" stop "$t" >/dev/null; done
check "every acknowledged row is on both replicas" rows_match
check "audit verify passes" "$CUT" audit verify --audit "$A" >/dev/null

# ---- and back: runbooks/zk-rollback.yaml carries the new ensemble's state home ----------
for t in "${TASKS[@]}"; do "$LAB_DIR/bin/writer.sh" start "$t" >/dev/null; done
writers_write
B=$W/rollback.db
SECOND_OPERATOR=alice drive "$W/out" "$CUT" run "$root/runbooks/zk-rollback.yaml" -i "$INV" --audit "$B" --plain --operator bob
rc=$?
check_eq "the rollback ends succeeded" 0 "$rc"
[ "$rc" = 0 ] || grep -E "FAILED|failed" "$W/out" | head -10
for n in ck1 ck2; do
  check_eq "$n's metrika.xml lists the old ensemble again" "127.0.1.1 127.0.1.2 127.0.1.3" \
    "$(grep -o '<host>[^<]*</host>' "$LAB_DIR/ck/$n/metrika.xml" | sed 's/<[^>]*>//g' | paste -sd' ')"
done
check "the old ensemble's data was moved aside, not deleted" test -n "$(ls -d "$LAB_DIR"/zk/old1/data/version-2.moved-* 2>/dev/null)"
leader=$(for a in "${OLD[@]}"; do [ "$(srvr "$a" | sed -n 's/^Mode: //p')" = leader ] && echo "$a"; done)
check "ClickHouse's sessions are back on the old ensemble" \
  test "$(curl -sf "http://$leader:8080/commands/mntr" | jq '.global_sessions')" -ge 2
writers_write # back on the old ensemble
for t in "${TASKS[@]}"; do "$LAB_DIR/bin/writer.sh" stop "$t" >/dev/null; done
check "every acknowledged row, old and new, is on both replicas after the rollback" rows_match
check "the rollback's audit verifies" "$CUT" audit verify --audit "$B" >/dev/null
finish
