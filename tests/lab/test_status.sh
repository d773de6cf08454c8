#!/usr/bin/env bash
# cutover status against the lab: every node's role agrees with srvr, the
# figures come from the AdminServer, a stopped node shows as down, and a
# SIGSTOPped one as "no answer" within the timeout while the others still report.
set -u
. "$(dirname "$0")/testlib.sh"
lab_fresh
json=$("$CUT" status -i "$INV" --format json)
check_eq "six nodes are reported" 6 "$(jq length <<<"$json")"
for a in "${OLD[@]}" "${NEW[@]}"; do
  check_eq "$a: the role equals srvr's" "$(srvr "$a" | sed -n 's/^Mode: //p')" "$(jq -r --arg h "$a" '.[] | select(.host == $h) | .role' <<<"$json")"
done
check_eq "each ensemble has one leader" "1 1" \
  "$(jq -r '[.[] | select(.ensemble == "old" and .role == "leader")] | length' <<<"$json") $(jq -r '[.[] | select(.ensemble == "new" and .role == "leader")] | length' <<<"$json")"
check_eq "the figures come from every node's AdminServer" "admin admin admin admin admin admin" \
  "$(jq -r '.[] | .source + (if .fallback != "" then " (" + .fallback + ")" else "" end)' <<<"$json" | paste -sd' ')"
leader=$(jq -r '.[] | select(.ensemble == "old" and .role == "leader") | .host' <<<"$json")
check "the old leader reports its synced followers" test "$(jq -r --arg h "$leader" '.[] | select(.host == $h) | .synced_followers' <<<"$json")" -eq 2
z=$(jq -r --arg h "$leader" '.[] | select(.host == $h) | .zxid' <<<"$json")
check_eq "the zxid's epoch and counter are shown apart" "$((z >> 32)) $((z & 0xffffffff))" \
  "$(jq -r --arg h "$leader" '.[] | select(.host == $h) | "\(.epoch) \(.counter)"' <<<"$json")"
# a hung node: SIGSTOP the new1 server
pid=$(cat "$LAB_DIR/zk/new1/data/zookeeper_server.pid")
kill -STOP "$pid"
t0=$(date +%s%N)
text=$("$CUT" status -i "$INV" --timeout 1000)
took=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT "$pid"
check "a hung node shows as no answer" grep -q "^new      new1 .*no answer" <<<"$text"
check "the others still report" test "$(grep -cE ' (leader|follower) ' <<<"$text")" -ge 4
check "and the table comes within a few timeouts (${took} ms)" test "$took" -lt 5000
# a stopped node
"$LAB_DIR/zk/new2/bin/zkServer.sh" stop >/dev/null 2>&1
check "a stopped node shows as down" grep -q "^new      new2 .*down" <<<"$("$CUT" status -i "$INV")"
"$LAB_DIR/zk/new2/bin/zkServer.sh" start >/dev/null 2>&1
# an AdminServer that does not answer: the probe falls back to four-letter words and says why
W=$(mktemp -d /tmp/cutover-status-XXXXXX); trap 'rm -rf "$W"' EXIT
sed 's/- {myid: 1, host: 127.0.1.1}/- {myid: 1, host: 127.0.1.1, admin_port: 1}/' "$INV" >"$W/inv.yaml"
json=$("$CUT" status -i "$W/inv.yaml" --format json)
check_eq "without its AdminServer old1 is read over four-letter words" "4lw srvr+mntr" \
  "$(jq -r '.[] | select(.node == "old1") | .source' <<<"$json")"
check "and the probe says why it fell back" grep -q "^AdminServer: .*127.0.1.1:1" \
  <<<"$(jq -r '.[] | select(.node == "old1") | .fallback' <<<"$json")"
check "the text table says it too" grep -q "(AdminServer: .*127.0.1.1:1" <<<"$("$CUT" status -i "$W/inv.yaml")"
finish
