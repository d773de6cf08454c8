#!/usr/bin/env bash
# The cutover lab: the seed's site rebuilt on loopback.
#
#   lab.sh up | reset | down | status | env
#
#   seed's machines               lab
#   old ZK 172.26.25.109 ...      127.0.1.1-3   (zk/old1..3, myid 1..3)
#   new ZK 172.26.53.28 ...       127.0.2.1-3   (zk/new1..3, myid 1..3, starts empty)
#   ClickHouse servers            127.0.3.1-2   (ck/ck1, ck/ck2; replicas r1, r2 of shard 01)
#   ssh to every machine          sshd on port 2222 of every lab address, key only
#   real-time jobs 2948 ...       tasks/<id>: writer.sh inserting into lab.rt_<id>
#
# Everything lives under $LAB_DIR (default /tmp/cutover-lab); processes are
# found again through pid files there, so `down` stops only this lab's.
#
# The first `up` of a lab saves a baseline (the old ensemble and ClickHouse
# seeded, the new ensemble empty, before any writer ran); `reset` puts the
# old ensemble, ClickHouse and the writers' counts back to it, empties the new
# ensemble if it changed, and starts what is down: many test scenarios (and
# every `make demo`) share one lab, each starting from the same state.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LAB_DIR=${LAB_DIR:-/tmp/cutover-lab}
OLD=(127.0.1.1 127.0.1.2 127.0.1.3)
NEW=(127.0.2.1 127.0.2.2 127.0.2.3)
CK=(127.0.3.1 127.0.3.2)
TASKS=(2948 10295 2959 10379 10626)
SSH_PORT=2222

say() { printf 'lab: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
BASE=$LAB_DIR/baseline
# Runs, and is no zombie: an orphan's zombie stays until init reaps it, a
# second or two later on some machines, and kill -0 would wait for that.
live() { local s; s=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
alive() { [ -s "$1" ] && live "$(cat "$1")"; }
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
# Another lab (another LAB_DIR: the test lab, the demo lab) holding the same
# loopback addresses: say which, and how to stop it.
taken() { # what
  local other
  other=$(pgrep -af '/(ssh/sshd_config|conf/zoo\.cfg|config\.xml)' 2>/dev/null |
    grep -oE '/[^ ]*/(ssh/sshd_config|zk/[a-z]+[0-9]/conf/zoo\.cfg|ck/ck[0-9]/config\.xml)' |
    sed -E 's#/(ssh/sshd_config|zk/[a-z]+[0-9]/conf/zoo\.cfg|ck/ck[0-9]/config\.xml)$##' | grep -vxF "$LAB_DIR" | sort -u | head -1)
  if [ -n "$other" ]; then
    die "$1 is taken by the lab in $other; stop it first: make lab-down LAB_DIR=$other"
  fi
  die "$1 is taken by a process that is not this lab's ($LAB_DIR); see: ss -ltnp"
}
srvr() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/2181 && printf srvr >&3 && cat <&3" 2>/dev/null || true; }
mode() { srvr "$1" | sed -n 's/^Mode: //p'; }
ck_query() { clickhouse-client --host "$1" --port 9000 --connect_timeout 3 --receive_timeout 30 "${@:2}"; }

# ---- ZooKeeper ---------------------------------------------------------------
zk_layout() { # name addr myid members...
  local home=$LAB_DIR/zk/$1 addr=$2 myid=$3; shift 3
  [ -f "$home/conf/zoo.cfg" ] && return 0
  mkdir -p "$home"/{bin,conf,data/version-2,log/version-2,logs}
  install -m 755 "$here/zkServer.sh" "$home/bin/zkServer.sh"
  echo "$myid" >"$home/data/myid"
  {
    echo "tickTime=2000"; echo "initLimit=10"; echo "syncLimit=5"
    echo "dataDir=$home/data"; echo "dataLogDir=$home/log"
    echo "clientPort=2181"; echo "clientPortAddress=$addr"
    echo "admin.serverAddress=$addr"; echo "admin.serverPort=8080"
    echo "4lw.commands.whitelist=srvr,mntr,ruok"
    echo "snapCount=${LAB_SNAPCOUNT:-10000}"
    local i=1 m
    for m in "$@"; do echo "server.$i=$m:3181:4181"; i=$((i + 1)); done
  } >"$home/conf/zoo.cfg"
}

zk_up() { # ensemble-name addrs...
  local ens=$1; shift
  local i=1 a
  for a in "$@"; do
    local home=$LAB_DIR/zk/$ens$i
    zk_layout "$ens$i" "$a" "$i" "$@"
    if ! alive "$home/data/zookeeper_server.pid"; then
      port_open "$a" 2181 && taken "$a:2181"
      "$home/bin/zkServer.sh" start >/dev/null
    fi
    i=$((i + 1))
  done
}

admin_state() { curl -sf --max-time 2 "http://$1:8080/commands/srvr" 2>/dev/null | sed -n 's/.*"server_state" *: *"\([a-z]*\)".*/\1/p'; }

# Ready means what every client of the lab reads agrees: one leader and two
# followers over srvr, and each node's AdminServer (Jetty starts after the
# quorum port) answering with the same role. Probes read the AdminServer
# first; a lab reported ready before it answers makes them fall back.
zk_wait_ready() { # ensemble-name addrs...
  local ens=$1; shift
  local modes admin a end=$((SECONDS + 120))
  while [ $SECONDS -lt $end ]; do
    modes=$(for a in "$@"; do mode "$a"; done | sort | tr '\n' ' ')
    if [ "$modes" = "follower follower leader " ]; then
      admin=$(for a in "$@"; do admin_state "$a"; done | sort | tr '\n' ' ')
      [ "$admin" = "$modes" ] && return 0
    fi
    sleep 0.2
  done
  die "$ens ensemble is not ready after 120 s (srvr modes: ${modes:-none}; AdminServer: ${admin:-none}); see $LAB_DIR/zk/${ens}*/logs/zookeeper.log"
}

# ---- ClickHouse --------------------------------------------------------------
ck_layout() { # name addr replica
  local home=$LAB_DIR/ck/$1 addr=$2
  [ -f "$home/config.xml" ] && return 0
  mkdir -p "$home"/{bin,data,tmp,user_files,format_schemas,log}
  install -m 755 "$here/clickhouse.sh" "$home/bin/clickhouse.sh"
  echo "$addr" >"$home/address"
  sed -e "s|@HOME@|$home|g" -e "s|@ADDR@|$addr|g" "$here/clickhouse-config.xml" >"$home/config.xml"
  cp "$here/clickhouse-users.xml" "$home/users.xml"
  # metrika.xml is the file the cutover edits: written once, never overwritten.
  {
    echo '<?xml version="1.0"?>'
    echo '<yandex>'
    echo '    <zookeeper-servers>'
    local i=1 z
    for z in "${OLD[@]}"; do
      printf '        <node index="%d">\n            <host>%s</host>\n            <port>2181</port>\n        </node>\n' "$i" "$z"
      i=$((i + 1))
    done
    # Short, unlike ClickHouse's default of 30 s: ck.stop waits until a stopped
    # server's sessions are gone (their expiry would move the zxid past the
    # fence), and here that wait is a few seconds, not half a minute per node.
    echo '        <session_timeout_ms>6000</session_timeout_ms>'
    echo '    </zookeeper-servers>'
    printf '    <macros>\n        <shard>01</shard>\n        <replica>%s</replica>\n    </macros>\n' "$3"
    echo '</yandex>'
  } >"$home/metrika.xml"
}

ck_up() { # both servers start at once; each start waits until it answers
  local i=1 a pids=() p bad=0
  for a in "${CK[@]}"; do
    ck_layout "ck$i" "$a" "r$i"
    if ! alive "$LAB_DIR/ck/ck$i/clickhouse-server.pid"; then
      port_open "$a" 8123 && taken "$a:8123"
      "$LAB_DIR/ck/ck$i/bin/clickhouse.sh" start >/dev/null & pids+=($!)
    fi
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p" || bad=1; done
  [ "$bad" = 0 ] || die "ClickHouse did not start; see $LAB_DIR/ck/ck*/log"
}

ck_seed() {
  local a t
  for a in "${CK[@]}"; do
    ck_query "$a" --multiquery <"$here/seed.sql"
    for t in "${TASKS[@]}"; do
      ck_query "$a" --query "CREATE TABLE IF NOT EXISTS lab.rt_$t (task UInt32, seq UInt64, ts DateTime, payload String)
        ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/lab/rt_$t', '{replica}')
        PARTITION BY toYYYYMMDD(ts) ORDER BY seq"
    done
  done
  [ "$(ck_query "${CK[0]}" --query 'SELECT count() FROM lab.orders')" != 0 ] ||
    ck_query "${CK[0]}" --multiquery <"$here/seed-data.sql"
}

# ---- sshd --------------------------------------------------------------------
ssh_up() {
  local d=$LAB_DIR/ssh a
  mkdir -p "$d"; chmod 700 "$d"
  [ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C cutover-lab-host -f "$d/host_ed25519"
  [ -f "$d/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C cutover-lab-client -f "$d/id_ed25519"
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  local hosts="[127.0.0.1]:$SSH_PORT"
  for a in "${OLD[@]}" "${NEW[@]}" "${CK[@]}"; do hosts+=",[$a]:$SSH_PORT"; done
  echo "$hosts $(cut -d' ' -f1-2 "$d/host_ed25519.pub")" >"$d/known_hosts"
  {
    for a in 127.0.0.1 "${OLD[@]}" "${NEW[@]}" "${CK[@]}"; do echo "ListenAddress $a:$SSH_PORT"; done
    echo "HostKey $d/host_ed25519"
    echo "PidFile $d/sshd.pid"
    echo "AuthorizedKeysFile $d/authorized_keys"
    echo "PubkeyAuthentication yes"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "PermitRootLogin prohibit-password"
    echo "StrictModes no"
    echo "UsePAM no"
    echo "Subsystem sftp internal-sftp"
    # A lab node is not this workstation: bash sources the user's ~/.bashrc
    # for every command sshd runs unless it believes it is nested (SHLVL),
    # and a developer's bashrc (pyenv init and the like) would add a quarter
    # second to each remote command and skew every timing the lab takes.
    echo "SetEnv SHLVL=1"
    echo "MaxSessions 64"
    echo "MaxStartups 64:30:128"
  } >"$d/sshd_config"
  alive "$d/sshd.pid" && return 0
  port_open 127.0.0.1 $SSH_PORT && taken "127.0.0.1:$SSH_PORT"
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
  for _ in $(seq 50); do alive "$d/sshd.pid" && return 0; sleep 0.1; done
  die "sshd did not start; see $d/sshd.log"
}

# ---- writers -----------------------------------------------------------------
tasks_up() {
  mkdir -p "$LAB_DIR/bin"
  install -m 755 "$here/writer.sh" "$LAB_DIR/bin/writer.sh"
  local i=0 t
  for t in "${TASKS[@]}"; do
    mkdir -p "$LAB_DIR/tasks/$t"
    echo "${CK[$((i % 2))]}" >"$LAB_DIR/tasks/$t/host"
    "$LAB_DIR/bin/writer.sh" start "$t" >/dev/null
    i=$((i + 1))
  done
}

# Every writer has had one more batch acknowledged since this was called:
# ClickHouse takes inserts on the ensemble its metrika.xml lists.
tasks_wait_rows() {
  local t before=() i end=$((SECONDS + 60))
  for t in "${TASKS[@]}"; do before+=("$("$LAB_DIR/bin/writer.sh" rows "$t")"); done
  i=0
  for t in "${TASKS[@]}"; do
    until [ "$("$LAB_DIR/bin/writer.sh" rows "$t")" -gt "${before[$i]}" ]; do
      [ $SECONDS -lt $end ] || die "writer $t had no insert acknowledged in 60 s; see $LAB_DIR/tasks/$t/errors"
      sleep 0.2
    done
    i=$((i + 1))
  done
}

# ---- commands ----------------------------------------------------------------
# Whatever is down comes up, ClickHouse last: it needs its ensemble's quorum.
start_all() {
  ssh_up
  zk_up old "${OLD[@]}"
  zk_up new "${NEW[@]}"
  zk_wait_ready old "${OLD[@]}"
  zk_wait_ready new "${NEW[@]}"
  ck_up
}

up() {
  for c in java clickhouse-client /usr/sbin/clickhouse-server /usr/sbin/sshd curl; do
    command -v "$c" >/dev/null || die "$c is missing; run 'make deps' first"
  done
  mkdir -p "$LAB_DIR"
  say "starting in $LAB_DIR"
  start_all
  ck_seed
  [ -f "$BASE/fingerprint" ] || save
  tasks_up
  tasks_wait_rows
  status
}

stop_pidfiles() { # pidfile... : all asked at once (a clean stop each), 30 s for all, then killed
  local f pids=() p _ left
  for f in "$@"; do
    [ -e "$f" ] || continue
    alive "$f" && pids+=("$(cat "$f")")
  done
  [ "${#pids[@]}" -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 300); do
    left=()
    for p in "${pids[@]}"; do live "$p" && left+=("$p"); done
    [ "${#left[@]}" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -f "$@"
  true
}

# Killed at once: for what is about to be put back from the baseline.
kill_pidfiles() { # pidfile...
  local f p pids=()
  for f in "$@"; do alive "$f" && pids+=("$(cat "$f")"); done
  [ "${#pids[@]}" -eq 0 ] || kill -9 "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do while live "$p"; do sleep 0.05; done; done
  rm -f "$@"
}

# ---- the baseline and the reset to it ------------------------------------------
# What the baseline depends on: a lab laid out by other scripts is started anew.
fingerprint() {
  cat "$here"/{lab.sh,zkServer.sh,clickhouse.sh,clickhouse-config.xml,clickhouse-users.xml,seed.sql,seed-data.sql,writer.sh} |
    sha256sum | cut -c1-16
}
zk_pidfiles() { local n; for n in "$@"; do echo "$LAB_DIR/zk/$n/data/zookeeper_server.pid"; done; }

# Taken once, right after the first seed: ClickHouse stopped cleanly (its
# ZooKeeper sessions closed), then the old ensemble, so the files agree with
# each other; the new ensemble is empty and needs only its layout.
save() {
  say "saving the baseline every reset returns to ($BASE)"
  local a n i
  for a in "${CK[@]}"; do
    for n in orders users metrics; do ck_query "$a" --query "SYSTEM SYNC REPLICA lab.$n" >/dev/null; done
  done
  for i in 1 2; do "$LAB_DIR/ck/ck$i/bin/clickhouse.sh" stop >/dev/null & done; wait
  stop_pidfiles $(zk_pidfiles old1 old2 old3)
  rm -rf "$BASE.tmp"
  for n in old1 old2 old3; do
    mkdir -p "$BASE.tmp/zk/$n"
    cp -a --sparse=always "$LAB_DIR/zk/$n/data" "$LAB_DIR/zk/$n/log" "$LAB_DIR/zk/$n/conf" "$BASE.tmp/zk/$n/"
  done
  for n in new1 new2 new3; do mkdir -p "$BASE.tmp/zk/$n"; cp -a "$LAB_DIR/zk/$n/conf" "$BASE.tmp/zk/$n/"; done
  for i in 1 2; do
    mkdir -p "$BASE.tmp/ck/ck$i"
    cp -a "$LAB_DIR/ck/ck$i/data" "$LAB_DIR/ck/ck$i/metrika.xml" "$BASE.tmp/ck/ck$i/"
  done
  srvr "${NEW[0]}" | sed -n 's/^Node count: //p' >"$BASE.tmp/new-znodes"
  fingerprint >"$BASE.tmp/fingerprint"
  mv "$BASE.tmp" "$BASE"
  zk_up old "${OLD[@]}"
  zk_wait_ready old "${OLD[@]}"
  ck_up
}

# Why the new ensemble is not as the baseline left it ("" if it is).
new_changed() {
  local i a n c
  for i in 1 2 3; do
    n=$LAB_DIR/zk/new$i; a=${NEW[$((i - 1))]}
    alive "$n/data/zookeeper_server.pid" || { echo "new$i is not running"; return; }
    cmp -s "$n/conf/zoo.cfg" "$BASE/zk/new$i/conf/zoo.cfg" || { echo "new$i's zoo.cfg was changed"; return; }
    ls -d "$n"/data/version-2.* "$n"/log/version-2.* >/dev/null 2>&1 && { echo "new$i's data was moved aside"; return; }
    [ -d "$n/data/version-2" ] && [ -d "$n/log/version-2" ] || { echo "new$i has no version-2 directories"; return; }
    c=$(srvr "$a" | sed -n 's/^Node count: //p')
    [ -n "$c" ] || { echo "new$i does not answer"; return; }
    [ "$c" = "$(cat "$BASE/new-znodes")" ] || { echo "new$i holds $c znodes"; return; }
  done
}

restore_new() {
  local i n
  kill_pidfiles $(zk_pidfiles new1 new2 new3)
  for i in 1 2 3; do
    n=$LAB_DIR/zk/new$i
    rm -rf "$n/data" "$n/log" "$n/conf"
    cp -a "$BASE/zk/new$i/conf" "$n/"
    mkdir -p "$n/data/version-2" "$n/log/version-2"
    echo "$i" >"$n/data/myid"
  done
}

restore_old() {
  local t i n
  pkill -9 -f "$LAB_DIR/bin/writer.sh run" 2>/dev/null || true
  kill_pidfiles "$LAB_DIR"/ck/*/clickhouse-server.pid $(zk_pidfiles old1 old2 old3)
  for i in 1 2 3; do
    n=$LAB_DIR/zk/old$i
    rm -rf "$n/data" "$n/log" "$n/conf"
    cp -a --sparse=always "$BASE/zk/old$i/data" "$BASE/zk/old$i/log" "$BASE/zk/old$i/conf" "$n/"
  done
  for i in 1 2; do
    n=$LAB_DIR/ck/ck$i
    rm -rf "$n/data" "$n"/metrika.xml*
    cp -a "$BASE/ck/ck$i/data" "$BASE/ck/ck$i/metrika.xml" "$n/"
  done
  for t in "${TASKS[@]}"; do rm -f "$LAB_DIR/tasks/$t/written" "$LAB_DIR/tasks/$t/pid"; done
}

# The state every scenario (and the demo) starts from. The new ensemble is
# emptied only when it changed; what is down starts.
reset() {
  if [ "$(cat "$BASE/fingerprint" 2>/dev/null)" != "$(fingerprint)" ]; then
    if [ -d "$BASE" ]; then say "reset: the lab's scripts changed since its baseline was saved; starting it anew"
    elif [ -d "$LAB_DIR" ]; then say "reset: $LAB_DIR has no baseline (an older lab.sh made it); starting it anew"; fi
    [ -d "$LAB_DIR" ] && wipe
    up
    return
  fi
  local why p
  # a node a scenario left SIGSTOPped answers nothing: let it go on first
  for p in $(cat "$LAB_DIR"/zk/*/data/zookeeper_server.pid "$LAB_DIR"/ck/*/clickhouse-server.pid 2>/dev/null); do
    kill -CONT "$p" 2>/dev/null || true
  done
  why=$(new_changed)
  if [ -n "$why" ]; then say "reset: the new ensemble is emptied ($why)"; restore_new; fi
  # Always: the writers never stop adding rows, blocks and log entries, and
  # ClickHouse's cleanup threads trim them; a scenario sees the old ensemble
  # as a fresh start leaves it, not as the scenarios before it aged it.
  say "reset: the old ensemble, ClickHouse and the writers go back to the baseline"
  restore_old
  start_all
  tasks_up
  tasks_wait_rows
  say "reset: ready (old ensemble serving ClickHouse, new ensemble empty, writers writing)"
}

down() {
  [ -d "$LAB_DIR" ] || { say "nothing to stop: $LAB_DIR does not exist"; return 0; }
  local t f left
  for t in "${TASKS[@]}"; do [ -f "$LAB_DIR/tasks/$t/host" ] && "$LAB_DIR/bin/writer.sh" stop "$t" >/dev/null; done
  stop_pidfiles "$LAB_DIR"/ck/*/clickhouse-server.pid "$LAB_DIR"/zk/*/data/zookeeper_server.pid "$LAB_DIR/ssh/sshd.pid"
  # Anything still naming the lab directory was started by it and escaped its pid file.
  left=$(pgrep -f "$LAB_DIR/" || true)
  if [ -n "$left" ]; then say "killing leftover processes: $left"; kill -9 $left 2>/dev/null || true; fi
  say "stopped everything under $LAB_DIR"
}

# For tests, before they start over: what is about to be deleted needs no clean stop.
wipe() {
  case $LAB_DIR in /tmp/?*|/var/tmp/?*) ;; *) echo "lab: wipe works only under /tmp or /var/tmp ($LAB_DIR)" >&2; exit 2 ;; esac
  [ -d "$LAB_DIR" ] || return 0
  pkill -9 -f "$LAB_DIR/" 2>/dev/null || true
  for _ in $(seq 100); do pgrep -f "$LAB_DIR/" >/dev/null || break; sleep 0.1; done
  rm -rf "$LAB_DIR"
  say "killed and removed $LAB_DIR"
}

ck_points_at() { # metrika.xml -> old|new|?
  if grep -q '127\.0\.1\.' "$1"; then echo old; elif grep -q '127\.0\.2\.' "$1"; then echo new; else echo '?'; fi
}

status() {
  local bad=0 a i out zxid nodes
  printf '%-10s %-6s %-16s %-10s %s\n' COMPONENT NAME ADDRESS STATE DETAIL
  for ens in old new; do
    local -n addrs=${ens^^}
    i=1
    for a in "${addrs[@]}"; do
      out=$(srvr "$a")
      if [ -n "$out" ]; then
        zxid=$(sed -n 's/^Zxid: //p' <<<"$out"); nodes=$(sed -n 's/^Node count: //p' <<<"$out")
        printf '%-10s %-6s %-16s %-10s zxid %s, %s znodes\n' zookeeper "$ens$i" "$a:2181" \
          "$(sed -n 's/^Mode: //p' <<<"$out")" "$zxid" "$nodes"
      else
        printf '%-10s %-6s %-16s %-10s %s\n' zookeeper "$ens$i" "$a:2181" down "-"; bad=1
      fi
      i=$((i + 1))
    done
  done
  i=1
  for a in "${CK[@]}"; do
    local home=$LAB_DIR/ck/ck$i
    if out=$(curl -sf --max-time 3 "http://$a:8123/?query=SELECT+version()" 2>/dev/null); then
      printf '%-10s %-6s %-16s %-10s %s, metrika.xml -> %s ensemble\n' clickhouse "ck$i" "$a:8123" up \
        "$out" "$(ck_points_at "$home/metrika.xml")"
    else
      printf '%-10s %-6s %-16s %-10s %s\n' clickhouse "ck$i" "$a:8123" down "-"; bad=1
    fi
    i=$((i + 1))
  done
  if alive "$LAB_DIR/ssh/sshd.pid"; then
    printf '%-10s %-6s %-16s %-10s %s\n' sshd - "*:$SSH_PORT" up "key $LAB_DIR/ssh/id_ed25519"
  else
    printf '%-10s %-6s %-16s %-10s %s\n' sshd - "*:$SSH_PORT" down "-"; bad=1
  fi
  for t in "${TASKS[@]}"; do
    [ -f "$LAB_DIR/tasks/$t/host" ] || continue
    out=$("$LAB_DIR/bin/writer.sh" status "$t" || true)
    printf '%-10s %-6s %-16s %-10s rows %s\n' writer "$t" "$(cat "$LAB_DIR/tasks/$t/host")" \
      "$(awk '{print $3}' <<<"$out")" "$(awk '{print $NF}' <<<"$out")"
  done
  return $bad
}

case "${1:-}" in
  up) up ;;
  reset) reset ;;
  wait-writers) tasks_wait_rows ;;
  ssh-up) mkdir -p "$LAB_DIR"; ssh_up ;; # sshd alone (make bench)
  down) down ;;
  wipe) wipe ;;
  status) status ;;
  env) echo "LAB_DIR=$LAB_DIR" ;;
  *) echo "usage: $0 up|reset|ssh-up|down|wipe|status|env|wait-writers   (LAB_DIR=$LAB_DIR)" >&2; exit 2 ;;
esac
