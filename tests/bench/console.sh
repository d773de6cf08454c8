#!/usr/bin/env bash
# make bench, the console: key-to-redraw latency measured through tmux, with
# every probe running against the lab and one ZooKeeper node hung (SIGSTOP).
# Each sample sends 'd' (the detail view on or off) and polls capture-pane
# until the screen shows the change; the figure includes tmux's own round
# trip, so it is an upper bound. Goal: p99 under 50 ms. Not a test.
set -u
export LC_ALL=C.UTF-8
root=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_DIR=${BENCH_LAB_DIR:-/tmp/cutover-bench-lab}
LAB=$root/tests/lab/lab.sh
N=${BENCH_KEYS:-100}
S=cutover-bench-console
A=$(mktemp -u /tmp/cutover-bench-console-XXXXXX.db)
trap 'tmux kill-session -t $S 2>/dev/null; [ -n "${hung:-}" ] && kill -CONT "$hung" 2>/dev/null; "$LAB" down >/dev/null 2>&1; rm -f "$A"*' EXIT
"$LAB" up >/dev/null 2>&1 || { echo "bench: the lab did not come up" >&2; exit 1; }
tmux new-session -d -s $S -x 120 -y 40 \
  "LAB_DIR=$LAB_DIR $root/cutover run $root/tests/lab/console.yaml -i $root/tests/lab/inventory.yaml --audit $A --operator alice --operator bob"
screen() { tmux capture-pane -p -t $S; }
for _ in $(seq 100); do screen | grep -q "writers" && break; sleep 0.2; done
hung=$(cat "$LAB_DIR/zk/old2/data/zookeeper_server.pid")
kill -STOP "$hung"
for _ in $(seq 100); do screen | grep -q "old2 *no answer" && break; sleep 0.2; done
ms=()
for i in $(seq "$N"); do
  want=$([ $((i % 2)) -eq 1 ] && echo yes || echo no)
  t0=$(date +%s%N)
  tmux send-keys -t $S d
  while :; do
    if screen | grep -q "^.*│.*history:"; then [ "$want" = yes ] && break; else [ "$want" = no ] && break; fi
  done
  ms+=($(( ($(date +%s%N) - t0) / 1000 )))
done
printf '%s\n' "${ms[@]}" | sort -n | awk -v n="$N" '{v[NR] = $1} END {
  p50 = v[int(n * 0.50) > 0 ? int(n * 0.50) : 1]; p99 = v[int(n * 0.99) > 0 ? int(n * 0.99) : 1]
  printf "console bench: key to redraw through tmux, %d keys, all probes on, one node hung (SIGSTOP)\n", n
  printf "  p50 %.1f ms   p99 %.1f ms   max %.1f ms   (goal: p99 under 50 ms)\n", p50 / 1000, p99 / 1000, v[n] / 1000
}'
