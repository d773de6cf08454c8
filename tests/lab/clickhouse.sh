#!/usr/bin/env bash
# clickhouse.sh for one lab ClickHouse node, installed as <node>/bin/clickhouse.sh:
# start|stop|restart|status, like the Debian init script, but for a server
# whose config, data and pid live under its own node directory.
set -u
home=$(cd "$(dirname "$0")/.." && pwd)
addr=$(cat "$home/address")
pidfile=$home/clickhouse-server.pid
# Runs, and is no zombie: an orphan's zombie stays until init reaps it, a
# second or two later on some machines, and kill -0 would wait for that.
live() { local s; s=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
running() { [ -s "$pidfile" ] && live "$(cat "$pidfile")"; }
ping() { curl -sf --max-time 2 "http://$addr:8123/ping" >/dev/null; }

start() {
  if running; then echo "clickhouse-server running (pid $(cat "$pidfile"))"; return 0; fi
  nohup /usr/sbin/clickhouse-server --config-file="$home/config.xml" \
    >>"$home/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 300); do ping && { echo "clickhouse-server started (pid $!)"; return 0; }; sleep 0.2; done
  echo "clickhouse-server did not answer on $addr:8123 within 60 s; see $home/log" >&2
  return 1
}

stop() {
  if ! running; then echo "clickhouse-server not running"; rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile"); kill "$pid"
  # A clean shutdown closes the ZooKeeper session; KILL would leave it to expire.
  for _ in $(seq 1200); do live "$pid" || break; sleep 0.05; done
  live "$pid" && { echo "clickhouse-server ignored TERM for 60 s; killing" >&2; kill -9 "$pid"; }
  rm -f "$pidfile"; echo "clickhouse-server stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running && ping; then echo "clickhouse-server running (pid $(cat "$pidfile"))"
          else echo "clickhouse-server not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
