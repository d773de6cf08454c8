#!/usr/bin/env bash
# ZooKeeper's own files read in C agree with ZooKeeper's own tools, on files
# the lab's old ensemble wrote: node count and last zxid with SnapshotFormatter,
# transaction count with TxnLogToolkit. A flipped byte fails the checksum;
# ZooKeeper itself, started on those files, falls back as select does;
# selection then falls back to an older snapshot and its longer log chain; a
# missing middle log or a torn one is refused, never replayed over.
set -u
. "$(dirname "$0")/testlib.sh"
lab_fresh
W=$(mktemp -d /tmp/cutover-zkfiles-XXXXXX); trap 'rm -rf "$W"' EXIT
CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar:/usr/share/java/commons-cli.jar
leader_now() { for n in 1 2 3; do [ "$(srvr 127.0.1.$n | sed -n 's/^Mode: //p')" = leader ] && echo "old$n"; done; }
# The writers write again after a restart: the leader has a log of its current
# epoch with some transactions in it (log names are the first zxid, in hex).
epoch_logged() {
  local l z
  l=$(leader_now); [ -n "$l" ] || return 1
  z=$(srvr "127.0.1.${l#old}" | sed -n 's/^Zxid: //p'); [ -n "$z" ] || return 1
  [ $((z & 0xffffffff)) -ge 100 ] || return 1
  ls "$LAB_DIR/zk/$l/log/version-2/" | grep -q "^log\.$(printf '%x' $((z >> 32)))[0-9a-f]\{8\}\$"
}
# Restarting the whole ensemble gives every node a new log once writes go on,
# and the new leader a clean snapshot: a fresh lab then has several of each.
# Twice, so that a fallback to an older snapshot has a chain of three logs.
for round in 1 2; do
  for n in 1 2 3; do "$LAB_DIR/zk/old$n/bin/zkServer.sh" stop >/dev/null 2>&1; done
  for n in 1 2 3; do "$LAB_DIR/zk/old$n/bin/zkServer.sh" start >/dev/null 2>&1; done
  for _ in $(seq 300); do epoch_logged && break; sleep 0.2; done
  epoch_logged || not_ok "round $round: the writers wrote a log in the new epoch within 60 s"
done
leader=$(leader_now)
# a still copy of the leader's files: the live ones grow while we read
mkdir -p "$W/snap" "$W/log"
cp "$LAB_DIR/zk/$leader/data/version-2/"snapshot.* "$W/snap/"
cp "$LAB_DIR/zk/$leader/log/version-2/"log.* "$W/log/"
newest=$(ls "$W/snap" | sort -t. -k2 | tail -1)
[ "$newest" != snapshot.0 ] || { not_ok "the lab has written a snapshot beyond snapshot.0"; finish; exit 1; }

out=$("$CUT" zk inspect "$W/snap/$newest")
java_out=$(java -cp "$CP" org.apache.zookeeper.server.SnapshotFormatter "$W/snap/$newest" 2>/dev/null)
check_eq "node count equals SnapshotFormatter's" "$(sed -n 's/^ZNode Details (count=\([0-9]*\)).*/\1/p' <<<"$java_out")" \
  "$(sed -n 's/^  sessions [0-9]*, nodes \([0-9]*\).*/\1/p' <<<"$out")"
check_eq "last zxid equals SnapshotFormatter's" "$(sed -n 's/^Last zxid: //p' <<<"$java_out")" \
  "$(sed -n 's/^  last zxid    \(0x[0-9a-f]*\).*/\1/p' <<<"$out")"
check_eq "session count equals SnapshotFormatter's" \
  "$(sed -n '/^Session Details/,/^----/p' <<<"$java_out" | grep -c '^0x')" \
  "$(sed -n 's/^  sessions \([0-9]*\),.*/\1/p' <<<"$out")"
check "the snapshot's checksums hold" grep -q "^  valid" <<<"$out"
for f in "$W"/log/log.*; do
  ours=$("$CUT" zk inspect "$f" | sed -n 's/^  version [0-9]*, \([0-9]*\) transactions/\1/p')
  theirs=$(java -cp "$CP" org.apache.zookeeper.server.persistence.TxnLogToolkit "$f" 2>/dev/null | sed -n 's/^EOF reached after \([0-9]*\) txns.*/\1/p')
  check_eq "$(basename "$f"): transaction count equals TxnLogToolkit's" "$theirs" "$ours"
done

sel=$("$CUT" zk select "$W/snap" "$W/log")
check "select picks the newest snapshot" grep -q "/$newest	" <<<"$sel"

# one flipped byte in the newest snapshot, inside a znode's data (a ClickHouse table's metadata):
# the file still parses, only its checksum can tell. A byte flipped at a fixed offset sometimes
# hit a length field instead, and the file failed for another reason.
cp -r "$W/snap" "$W/bad"
off=$(grep -obUa "metadata format version" "$W/bad/$newest" | head -1 | cut -d: -f1)
check "the newest snapshot holds a ClickHouse table's metadata to flip a byte in" test -n "$off"
printf 'M' | dd of="$W/bad/$newest" bs=1 seek="${off:-0}" conv=notrunc status=none
out=$("$CUT" zk inspect "$W/bad/$newest"); rc=$?
check_eq "a flipped byte makes inspect fail" 1 "$rc"
check "and names the checksum" grep -q "INVALID: checksum 1 does not match (CRC corruption)" <<<"$out"
sel=$("$CUT" zk select "$W/bad" "$W/log"); rc=$?
check_eq "select still finds a valid state" 0 "$rc"
check "it passes over the corrupt snapshot, saying why" grep -q "passed over: $newest: checksum 1" <<<"$sel"
txns() { sed -n 's/.* plus \([0-9]*\) transaction.*/\1/p' <<<"$1"; }
check "and takes the older snapshot with a longer replay" \
  test "$(txns "$sel")" -gt "$(txns "$("$CUT" zk select "$W/snap" "$W/log")")"

# ZooKeeper itself on the same files: started on the corrupt snapshot it says
# "problem reading snap file", falls back to the snapshot select picked and
# serves the same tree as on the good files.
zk_on() { # dir-with-snap-and-logs -> "znodes zxid" as the standalone server reports them
  local d=$1 cfg=$1/zoo.cfg
  printf '%s\n' tickTime=2000 "dataDir=$d" clientPort=2181 clientPortAddress=127.0.9.1 \
    admin.enableServer=false 4lw.commands.whitelist=srvr,mntr >"$cfg"
  java -Xmx128m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.logFile="$d/zk.log" -Dzookeeper.snapCount=100000 \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.ZooKeeperServerMain "$cfg" >/dev/null 2>&1 </dev/null &
  local pid=$! m=""
  for _ in $(seq 120); do
    m=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.9.1/2181 && printf mntr >&3 && cat <&3" 2>/dev/null)
    grep -q zk_znode_count <<<"$m" && break; sleep 0.5
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  sed -n 's/^zk_znode_count\t//p' <<<"$m"
}
for kind in snap bad; do
  mkdir -p "$W/zk-$kind/version-2"
  cp "$W/$kind"/snapshot.* "$W/log"/log.* "$W/zk-$kind/version-2/"
done
good_nodes=$(zk_on "$W/zk-snap"); bad_nodes=$(zk_on "$W/zk-bad")
check "ZooKeeper refuses the corrupt snapshot too" grep -q "problem reading snap file" "$W/zk-bad/zk.log"
picked=$(grep '/snapshot\.' <<<"$sel" | cut -f1 | xargs -n1 basename)
check "and falls back to the snapshot select picked ($picked)" grep -q "Reading snapshot .*/$picked\b" "$W/zk-bad/zk.log"
check "and serves the same tree as on the good files (znode count)" \
  test -n "$good_nodes" -a "$good_nodes" = "$bad_nodes"

# a missing middle log: ZooKeeper would replay over the hole
chain=$(grep '/log\.' <<<"$sel" | cut -f1 | xargs -n1 basename)
if [ "$(wc -l <<<"$chain")" -ge 3 ]; then
  cp -r "$W/log" "$W/gap"; rm "$W/gap/$(sed -n 2p <<<"$chain")"
  err=$("$CUT" zk select "$W/bad" "$W/gap" 2>&1); rc=$?
  check_eq "a chain with a missing log is refused (exit 1)" 1 "$rc"
  check "the refusal names the hole" grep -q "gap: nothing holds zxids" <<<"$err"
else
  not_ok "the lab should have written a chain of 3 logs (has: $chain)"
fi
# a torn last record in a log that later logs follow
if [ "$(wc -l <<<"$chain")" -ge 2 ]; then
  first=$(head -1 <<<"$chain")
  cp -r "$W/log" "$W/torn"
  used=$("$CUT" zk inspect "$W/torn/$first" | sed -n 's/.*bytes (\([0-9]*\) used).*/\1/p')
  truncate -s $((used - 3)) "$W/torn/$first"
  err=$("$CUT" zk select "$W/bad" "$W/torn" 2>&1)
  check "a torn log followed by later logs is refused" grep -q "yet later logs follow: transactions in between are lost" <<<"$err"
fi
finish
