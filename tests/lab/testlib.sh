# Sourced by tests/lab/test_*.sh: tests/checklib.sh, and the lab's own
# addresses and probes.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../checklib.sh"
export LAB_DIR=${TEST_LAB_DIR:-/tmp/cutover-test-lab}
LAB="$here/lab.sh"
INV="$here/inventory.yaml"
OLD=(127.0.1.1 127.0.1.2 127.0.1.3)
NEW=(127.0.2.1 127.0.2.2 127.0.2.3)
CK=(127.0.3.1 127.0.3.2)
TASKS=(2948 10295 2959 10379 10626)

finish_hook() { # run alone (not by tests/run-lab.sh), the lab stays up for the next one
  [ -n "${CUTOVER_LAB_SHARED:-}" ] || [ ! -d "${LAB_DIR:-/nonexistent}/ssh" ] ||
    echo "  (the lab in $LAB_DIR stays up for the next scenario; stop it with: make lab-down LAB_DIR=$LAB_DIR)"
}

# The lab every scenario starts from: the old ensemble serving ClickHouse, the
# new one empty, the writers writing. The scenarios share one lab: this puts
# back what the one before changed (tests/lab/lab.sh reset says what).
lab_fresh() {
  local out
  if ! out=$("$LAB" reset 2>&1); then
    printf '%s\n' "$out" | tail -20 | sed 's/^/  | /'
    not_ok "lab reset"; finish; exit 1
  fi
  printf '%s\n' "$out" | grep -E '^lab: (reset|saving|starting)' | sed 's/^/  /'
}
# Each writer has had one more batch acknowledged: rows are flowing.
writers_write() { "$LAB" wait-writers || not_ok "the writers write"; }

srvr() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/2181 && printf srvr >&3 && cat <&3" 2>/dev/null || true; }
role() { srvr "$1" | sed -n 's/^Mode: //p'; } # ADDR: leader, follower, or nothing
leader_of() { for n in 1 2 3; do [ "$(role "$2.$n")" = leader ] && echo "$1$n"; done; } # old 127.0.1 -> old2
ck() { clickhouse-client --host "$1" --port 9000 --connect_timeout 3 --receive_timeout 60 --query "$2"; }
lab_ssh() { # addr command...
  local a=$1; shift
  ssh -p 2222 -i "$LAB_DIR/ssh/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/ssh/known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 "$(id -un)@$a" "$@"
}
rows_match() { # every row a writer was told was written is on both replicas
  local t c got want bad=0 sync="" count="" n
  for t in "${TASKS[@]}"; do
    sync+="SYSTEM SYNC REPLICA lab.rt_$t; "
    count+="${count:+ UNION ALL }SELECT $t, count() FROM lab.rt_$t"
  done
  for c in "${CK[@]}"; do # one client per replica: its start costs more than the queries
    got=$(clickhouse-client --host "$c" --port 9000 --connect_timeout 3 --receive_timeout 60 --multiquery \
      --query "$sync$count FORMAT TSV" 2>&1)
    for t in "${TASKS[@]}"; do
      want=$("$LAB_DIR/bin/writer.sh" rows "$t")
      n=$(awk -v t="$t" '$1 == t {print $2}' <<<"$got")
      [ "$n" = "$want" ] || { echo "    task $t on $c: ${n:-no answer ($got)} rows, writer acknowledged $want"; bad=1; }
    done
  done
  return $bad
}
