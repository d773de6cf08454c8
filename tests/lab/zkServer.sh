#!/usr/bin/env bash
# zkServer.sh for one lab node, installed as <node>/bin/zkServer.sh.
# It behaves like Apache ZooKeeper's bin/zkServer.sh (start|stop|status|restart,
# the same words on stdout, pid file in dataDir) so runbooks written for the
# seed's /opt/zookeeper machines drive the lab unchanged. The difference: the
# Debian jars are on the classpath and QuorumPeerMain runs under slf4j-simple.
set -u
home=$(cd "$(dirname "$0")/.." && pwd)
cfg=$home/conf/zoo.cfg
get() { sed -n "s/^$1=//p" "$cfg" | tail -n 1; }
datadir=$(get dataDir)
pidfile=$datadir/zookeeper_server.pid
addr=$(get clientPortAddress)
port=$(get clientPort)
# servlet-api.jar: the Debian jar's manifest lacks it and the AdminServer
# (port 8080, /commands/*) does not start without it.
cp=/usr/share/java/zookeeper.jar:/usr/share/java/servlet-api.jar:/usr/share/java/slf4j-simple.jar

# Runs, and is no zombie: an orphan's zombie stays until init reaps it, a
# second or two later on some machines, and kill -0 would wait for that.
live() { local s; s=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
running() { [ -s "$pidfile" ] && live "$(cat "$pidfile")"; }

srvr() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$addr/$port && printf srvr >&3 && cat <&3" 2>/dev/null
}

start() {
  if running; then echo "already running as process $(cat "$pidfile")."; return 0; fi
  echo "Using config: $cfg"
  echo -n "Starting zookeeper ... "
  mkdir -p "$home/logs"
  nohup java -Xmx${ZK_HEAP:-192m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dzookeeper.log.dir="$home/logs" \
    -Dorg.slf4j.simpleLogger.logFile="$home/logs/zookeeper.log" \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd HH:mm:ss,SSS" \
    -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg" \
    >>"$home/logs/zookeeper.out" 2>&1 </dev/null &
  echo $! >"$pidfile"
  echo STARTED
}

stop() {
  echo "Using config: $cfg"
  echo -n "Stopping zookeeper ... "
  if ! running; then echo "no zookeeper to stop (could not find file $pidfile)"; rm -f "$pidfile"; return 1; fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 200); do live "$pid" || break; sleep 0.05; done
  live "$pid" && kill -9 "$pid"
  rm -f "$pidfile"
  echo STOPPED
}

status() {
  echo "Using config: $cfg"
  echo "Client port found: $port. Client address: $addr. Client SSL: false."
  out=$(srvr)
  mode=$(printf '%s\n' "$out" | sed -n 's/^Mode: //p')
  if [ -z "$mode" ]; then echo "Error contacting service. It is probably not running."; return 1; fi
  echo "Mode: $mode"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; sleep 1; start ;;
  status) status ;;
  *) echo "Usage: $0 {start|stop|status|restart}" >&2; exit 1 ;;
esac
