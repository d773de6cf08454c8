#!/usr/bin/env bash
# The lab comes up as the seed's site (old ensemble serving ClickHouse, new
# ensemble idle, writers flowing), answers over srvr, AdminServer and SSH,
# and goes down without leaving a process behind.
set -u
. "$(dirname "$0")/testlib.sh"

# The lab as a fresh start leaves it (the znode counts below depend on it):
# a reset to the baseline the first start saved. Run last by tests/run-lab.sh,
# since it ends with lab down.
lab_fresh
ok "lab up"
pids_before=$(cat "$LAB_DIR"/zk/*/data/zookeeper_server.pid "$LAB_DIR"/ck/*/clickhouse-server.pid | sort)
"$LAB" up >/dev/null
check_eq "a second lab up restarts nothing" "$pids_before" \
  "$(cat "$LAB_DIR"/zk/*/data/zookeeper_server.pid "$LAB_DIR"/ck/*/clickhouse-server.pid | sort)"

for ens in OLD NEW; do
  declare -n addrs=$ens
  roles=()
  for a in "${addrs[@]}"; do
    four=$(srvr "$a" | sed -n 's/^Mode: //p')
    admin=$(curl -sf --max-time 3 "http://$a:8080/commands/srvr" | jq -r '.server_stats.server_state')
    check_eq "$a role through srvr and AdminServer agree" "$four" "$admin"
    roles+=("$four")
  done
  check_eq "${ens,,} ensemble has one leader and two followers" "follower follower leader" \
    "$(printf '%s\n' "${roles[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"
done

leader=$(for a in "${OLD[@]}"; do [ "$(srvr "$a" | sed -n 's/^Mode: //p')" = leader ] && echo "$a"; done)
znodes=$(srvr "$leader" | sed -n 's/^Node count: //p')
check "old ensemble holds ClickHouse metadata (hundreds of znodes; has ${znodes:-0})" test "${znodes:-0}" -ge 300
check_eq "new ensemble starts empty" 5 "$(srvr "${NEW[0]}" | sed -n 's/^Node count: //p')"
check "ClickHouse's sessions are on the old ensemble" \
  test "$(curl -sf "http://$leader:8080/commands/mntr" | jq '.global_sessions')" -ge 2

for a in "${OLD[@]}" "${NEW[@]}" "${CK[@]}"; do
  check_eq "ssh to $a with the lab key and a strict host key check" ok "$(lab_ssh "$a" echo ok)"
done

# Rows a writer reports written are on both replicas, no more, no fewer.
writers_write
"$LAB_DIR/bin/writer.sh" stop 2948 >/dev/null
written=$("$LAB_DIR/bin/writer.sh" rows 2948)
check "writer 2948 wrote rows ($written)" test "$written" -gt 0
for h in "${CK[@]}"; do
  ck "$h" "SYSTEM SYNC REPLICA lab.rt_2948" >/dev/null
  check_eq "replica $h holds every row writer 2948 reported" "$written" "$(ck "$h" 'SELECT count() FROM lab.rt_2948')"
done
"$LAB_DIR/bin/writer.sh" start 2948 >/dev/null
check "writer 2948 restarts" "$LAB_DIR/bin/writer.sh" status 2948 >/dev/null

"$LAB" status >/dev/null
check_eq "lab status reports everything up" 0 $?

"$LAB" down >/dev/null 2>&1
check_eq "no lab process is left after lab down" "" "$(pgrep -f "$LAB_DIR/" || true)"
open=""
for a in "${OLD[@]}" "${NEW[@]}"; do timeout 1 bash -c "exec 3<>/dev/tcp/$a/2181" 2>/dev/null && open+=" $a:2181"; done
for a in "${CK[@]}"; do timeout 1 bash -c "exec 3<>/dev/tcp/$a/8123" 2>/dev/null && open+=" $a:8123"; done
timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/2222" 2>/dev/null && open+=" 127.0.0.1:2222"
check_eq "no lab port is open after lab down" "" "$open"
finish
