#!/usr/bin/env bash
# The cutover lab: the seed's site rebuilt on loopback.
#
#   lab.sh up | down | status | env
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
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
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
      port_open "$a" 2181 && die "$a:2181 is taken by a process that is not this lab's ($LAB_DIR); run lab-down for the other lab first"
      "$home/bin/zkServer.sh" start >/dev/null
    fi
    i=$((i + 1))
  done
}

zk_wait_quorum() { # ensemble-name addrs...
  local ens=$1; shift
  local t modes
  for t in $(seq 120); do
    modes=$(for a in "$@"; do mode "$a"; done | sort | tr '\n' ' ')
    [ "$modes" = "follower follower leader " ] && return 0
    sleep 1
  done
  die "$ens ensemble has no quorum after 120 s (modes: ${modes:-none}); see $LAB_DIR/zk/${ens}*/logs/zookeeper.log"
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
    echo '        <session_timeout_ms>30000</session_timeout_ms>'
    echo '    </zookeeper-servers>'
    printf '    <macros>\n        <shard>01</shard>\n        <replica>%s</replica>\n    </macros>\n' "$3"
    echo '</yandex>'
  } >"$home/metrika.xml"
}

ck_up() {
  local i=1 a
  for a in "${CK[@]}"; do
    ck_layout "ck$i" "$a" "r$i"
    if ! alive "$LAB_DIR/ck/ck$i/clickhouse-server.pid"; then
      port_open "$a" 8123 && die "$a:8123 is taken by a process that is not this lab's ($LAB_DIR)"
      "$LAB_DIR/ck/ck$i/bin/clickhouse.sh" start >/dev/null
    fi
    i=$((i + 1))
  done
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
  port_open 127.0.0.1 $SSH_PORT && die "127.0.0.1:$SSH_PORT is taken by a process that is not this lab's sshd"
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

tasks_wait_rows() {
  local t
  for t in "${TASKS[@]}"; do
    for _ in $(seq 60); do
      [ "$("$LAB_DIR/bin/writer.sh" rows "$t")" -gt 0 ] && continue 2
      sleep 0.5
    done
    die "writer $t wrote no row in 30 s; see $LAB_DIR/tasks/$t/errors"
  done
}

# ---- commands ----------------------------------------------------------------
up() {
  for c in java clickhouse-client /usr/sbin/clickhouse-server /usr/sbin/sshd curl; do
    command -v "$c" >/dev/null || die "$c is missing; run 'make deps' first"
  done
  mkdir -p "$LAB_DIR"
  say "starting in $LAB_DIR"
  ssh_up
  zk_up old "${OLD[@]}"
  zk_up new "${NEW[@]}"
  zk_wait_quorum old "${OLD[@]}"
  zk_wait_quorum new "${NEW[@]}"
  ck_up
  ck_seed
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
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
    [ "${#left[@]}" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -f "$@"
  true
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
  ssh-up) mkdir -p "$LAB_DIR"; ssh_up ;; # sshd alone (make bench)
  down) down ;;
  wipe) wipe ;;
  status) status ;;
  env) echo "LAB_DIR=$LAB_DIR" ;;
  *) echo "usage: $0 up|ssh-up|down|wipe|status|env   (LAB_DIR=$LAB_DIR)" >&2; exit 2 ;;
esac
