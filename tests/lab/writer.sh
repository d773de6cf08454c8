#!/usr/bin/env bash
# A lab writer task: stands in for one of the seed's real-time jobs (2948,
# 10295, 2959, 10379, 10626). It inserts a batch of rows into its own
# ReplicatedMergeTree table lab.rt_<id> every second through clickhouse-client.
#
#   writer.sh start|stop|status|rows ID
#
# Durability of the count is the point: a batch is appended to
# tasks/<id>/written (and synced) only after ClickHouse said OK, so
# "sum of written" is a lower bound a test can hold ClickHouse to. A failed
# insert is retried with the very same block, which ReplicatedMergeTree
# deduplicates, so a retry never counts twice.
set -u
lab=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}; id=${2:-}
[ -n "$id" ] || { echo "usage: $0 start|stop|status|rows ID" >&2; exit 2; }
dir=$lab/tasks/$id
[ -f "$dir/host" ] || { echo "writer $id: no such task in $lab/tasks" >&2; exit 2; }
host=$(cat "$dir/host")
batch=${WRITER_BATCH:-10}

# Runs, and is no zombie: an orphan's zombie stays until init reaps it, a
# second or two later on some machines, and kill -0 would wait for that.
live() { local s; s=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
running() { [ -s "$dir/pid" ] && live "$(cat "$dir/pid")"; }
rows() { awk '{n += $2 - $1 + 1} END {print n + 0}' "$dir/written" 2>/dev/null || echo 0; }

run() {
  local next values start end ts
  next=$(( $(awk 'END {print $2 + 0}' "$dir/written" 2>/dev/null || echo 0) + 1 ))
  # TERM lets the batch in flight finish and be counted, then stops.
  stopping=0; trap 'stopping=1' TERM INT
  while [ "$stopping" = 0 ]; do
    start=$next; end=$((next + batch - 1)); ts=$(date +%s)
    values=$(seq "$start" "$end" | sed "s/.*/($id, &, $ts, 'row &')/" | paste -sd,)
    until clickhouse-client --host "$host" --port 9000 --connect_timeout 3 --receive_timeout 10 \
          --query "INSERT INTO lab.rt_$id (task, seq, ts, payload) VALUES $values" 2>>"$dir/errors"; do
      [ "$stopping" = 1 ] && exit 0
      sleep 1
    done
    echo "$start $end $ts" >>"$dir/written"
    sync "$dir/written"
    next=$((end + 1))
    # a TERM that came during the insert ran its trap only now: stop at once
    [ "$stopping" = 1 ] && break
    sleep "${WRITER_INTERVAL:-1}" & wait $!
  done
}

case "$cmd" in
  start)
    if running; then echo "task $id running (pid $(cat "$dir/pid"))"; exit 0; fi
    nohup "$0" run "$id" >>"$dir/out" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    echo "task $id started (pid $!)" ;;
  run) run ;;
  stop)
    if running; then
      pid=$(cat "$dir/pid"); kill "$pid"
      for _ in $(seq 300); do live "$pid" || break; sleep 0.05; done
      live "$pid" && kill -9 "$pid"
    fi
    rm -f "$dir/pid"; echo "task $id stopped, rows $(rows)" ;;
  status)
    if running; then echo "task $id running pid $(cat "$dir/pid") rows $(rows)"
    else echo "task $id stopped rows $(rows)"; exit 3; fi ;;
  rows) rows ;;
  *) echo "usage: $0 start|stop|status|rows ID" >&2; exit 2 ;;
esac
