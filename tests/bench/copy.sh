#!/usr/bin/env bash
# make bench, the copy: a 1 GiB ZooKeeper snapshot (BENCH_MIB) copied by
# zk.copy from one lab node to the three new ones -- read once, written to all
# three at once while it is read, synced, each verified by SHA-256 on both
# sides -- next to three sequential OpenSSH `scp -P 2222` runs of the same
# file from the node's own disk (what the seed's operator types on the old
# leader), which verify nothing and sync nothing. zk.copy runs twice: as the
# operator would run it on the old leader (the node marked ssh.local, its
# snapshot read from its own disk, like scp's), and from another machine (the
# snapshot read over SSH first: one more trip for every byte). Prints the
# times and the ratios; the goal is a ratio <= 1.0 for the first. On one
# 2-core machine every byte through SSH, pipes and the page cache costs CPU
# on both ends: this lab measures the copy's CPU cost, where a real site is
# bound by its network. Not a test: nothing here passes or fails on time.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_DIR=${BENCH_LAB_DIR:-/tmp/cutover-bench-lab}
MIB=${BENCH_MIB:-1024}
LAB=$root/tests/lab/lab.sh
CUT=$root/cutover
B=$LAB_DIR/bench
trap '"$LAB" down >/dev/null 2>&1; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$B"' EXIT
"$LAB" ssh-up >/dev/null || { echo "bench: cannot start the lab's sshd" >&2; exit 1; }
rm -rf "$B"
for d in src1 dst1 dst2 dst3 scp1 scp2 scp3; do mkdir -p "$B/$d/data/version-2" "$B/$d/log/version-2"; done
free_mib=$(df -Pm "$B" | awk 'NR==2 {print $4}')
need=$((MIB * 9)) # source, staging, three copies, three scp copies, some room
if [ "$free_mib" -lt "$need" ]; then
  echo "bench: $B has $free_mib MiB free; the copy bench needs $need MiB (BENCH_MIB=$MIB)" >&2; exit 1
fi
snap=$("$root/build/bench/snapgen" "$B/src1/data/version-2" "$MIB") || exit 1
size=$(stat -c %s "$snap")

inventory() { # $1: true, the source node is this machine (ssh.local); false, it is reached over SSH
cat <<YAML
site: cutover bench (loopback)
vars:
  lab: $LAB_DIR
  bench: $B
ssh:
  user: root
  port: 2222
  identity: \${lab}/ssh/id_ed25519
  known_hosts: \${lab}/ssh/known_hosts
  agent: false
operators: [alice, bob]
ensembles:
  src:
    version: "3.8"
    defaults: &zk {client_port: 2181, home: "\${bench}/\${node}", data_dir: "\${bench}/\${node}/data", data_log_dir: "\${bench}/\${node}/log"}
    nodes:
      - {myid: 1, host: 127.0.1.1, ssh: {local: $1}}
  dst:
    version: "3.8"
    defaults: *zk
    nodes:
      - {myid: 1, host: 127.0.2.1}
      - {myid: 2, host: 127.0.2.2}
      - {myid: 3, host: 127.0.2.3}
YAML
}
inventory true >"$B/local.yaml"
inventory false >"$B/remote.yaml"
cat >"$B/copy.yaml" <<'YAML'
runbook: bench-copy
kind: migration
steps:
  - id: copy
    title: copy the snapshot to three nodes
    action: zk.copy
    targets: [dst.all]
    params: {from: src.node(1)}
    simple: true
    timeout: 30m
YAML

now() { date +%s.%N; }
# Each phase starts from the same state: dirty pages written back, caches
# dropped where we may (root), destinations empty.
settle() {
  rm -f "$B"/dst?/data/version-2/* "$B"/scp?/data/version-2/* "$B/audit.db"*
  sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; true
}
ours() { # inventory: local or remote
  settle; local t0; t0=$(now)
  echo yes | TMPDIR=$B ${BENCH_WRAP:-} "$CUT" run "$B/copy.yaml" -i "$B/$1.yaml" --audit "$B/audit.db" --plain \
    --operator alice >"$B/out" 2>&1
  local rc=$? t1; t1=$(now)
  ok=$(for n in 1 2 3; do cmp -s "$snap" "$B/dst$n/data/version-2/$(basename "$snap")" && echo y; done | wc -l)
  if [ "$rc" -ne 0 ] || [ "$ok" -ne 3 ]; then echo "bench: zk.copy failed (exit $rc); see below" >&2; tail -20 "$B/out" >&2; exit 1; fi
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}
scps() { # with_sync
  settle; local t0 n; t0=$(now)
  for n in 1 2 3; do
    scp -q -P 2222 -i "$LAB_DIR/ssh/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/ssh/known_hosts" -o BatchMode=yes \
      "$snap" "root@127.0.2.$n:$B/scp$n/data/version-2/" || { echo "bench: scp to 127.0.2.$n failed" >&2; exit 1; }
    [ "$1" = 1 ] && ssh -p 2222 -i "$LAB_DIR/ssh/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/ssh/known_hosts" \
      -o BatchMode=yes "root@127.0.2.$n" "sync $B/scp$n/data/version-2/$(basename "$snap")"
  done
  awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.3f\n", b - a}'
}
best() { tr ' ' '\n' | grep . | sort -n | head -1; }
RUNS=${BENCH_RUNS:-2}
l=""; r=""; b=""; c=""
for _ in $(seq "$RUNS"); do l+="$(ours local) "; r+="$(ours remote) "; b+="$(scps 0) "; c+="$(scps 1) "; done
awk -v size="$size" -v l="$(best <<<"$l")" -v r="$(best <<<"$r")" -v b="$(best <<<"$b")" -v c="$(best <<<"$c")" \
    -v runs="$RUNS" -v all_l="$l" -v all_r="$r" -v all_b="$b" -v all_c="$c" 'BEGIN {
  printf "copy bench: %.0f MiB snapshot, 1 source -> 3 destinations over SSH on loopback (best of %d runs)\n", size / 1048576, runs
  printf "  zk.copy run on the source node (ssh.local), 3 in parallel, synced, SHA-256 verified:\n"
  printf "                                                 %7.2f s  %6.1f MiB/s delivered  [%s]\n", l, 3 * size / 1048576 / l, all_l
  printf "  zk.copy run elsewhere (the source read over SSH first):\n"
  printf "                                                 %7.2f s  %6.1f MiB/s delivered  [%s]\n", r, 3 * size / 1048576 / r, all_r
  printf "  3 x scp -P 2222 on the source node, in turn:   %7.2f s  %6.1f MiB/s delivered  [%s]\n", b, 3 * size / 1048576 / b, all_b
  printf "  the same, each file then synced:               %7.2f s  [%s]\n", c, all_c
  printf "  ratio zk.copy / scp, both on the source node: %.2f (goal: <= 1.00); against scp with sync: %.2f\n", l / b, l / c
  printf "  ratio zk.copy from elsewhere / scp: %.2f (every byte crosses SSH once more)\n", r / b
}'
