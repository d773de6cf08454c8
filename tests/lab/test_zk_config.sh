#!/usr/bin/env bash
# zk.config over SSH, as runbooks/zk-install.yaml uses it: zoo.cfg, myid and
# java.env written from the inventory onto three nodes of a scratch ensemble
# (homes in a temporary directory, reached through the lab's sshd); a second
# run changes nothing; a changed inventory rewrites zoo.cfg and keeps the old
# one as a .bak file.
set -u
. "$(dirname "$0")/testlib.sh"
lab_fresh
W=$(mktemp -d /tmp/cutover-zkconfig-XXXXXX); trap 'rm -rf "$W"' EXIT
inventory() { # metrics port
  cat >"$W/inv.yaml" <<YAML
site: zk.config test
ssh: {user: root, port: 2222, identity: $LAB_DIR/ssh/id_ed25519, known_hosts: $LAB_DIR/ssh/known_hosts, connect_timeout: 5s}
operators: [alice, bob]
ensembles:
  new:
    defaults:
      client_port: 2181
      quorum_port: 3181
      election_port: 4181
      admin_port: 8080
      metrics_port: $1
      home: $W/zk/\${node}
      data_dir: $W/zk/\${node}/data
      data_log_dir: $W/zk/\${node}/log
    nodes:
      - {myid: 1, host: 127.0.2.1}
      - {myid: 2, host: 127.0.2.2}
      - {myid: 3, host: 127.0.2.3}
YAML
}
cat >"$W/rb.yaml" <<'YAML'
runbook: zk-config-test
kind: install
steps:
  - id: configure
    title: zoo.cfg, myid, java.env
    action: zk.config
    targets: [new.all]
    params:
      jvmflags: -Xms64m -Xmx128m -Xloggc:${home}/out/gc.log
      log_dir: ${home}/logs
    simple: true
YAML
run() { plain "$W/$1.db" "$W/rb.yaml" "$W/inv.yaml" yes; }

inventory 7000
run first
check_eq "the first run succeeds" 0 "$?"
expect="# Written by cutover zk.config from the inventory (new ensemble, node new2).
# Edit the inventory and run zk.config again rather than this file.
tickTime=2000
initLimit=10
syncLimit=5
# snapshots
dataDir=$W/zk/new2/data
# transaction logs
dataLogDir=$W/zk/new2/log
clientPort=2181
admin.serverPort=8080
4lw.commands.whitelist=srvr,mntr,ruok
server.1=127.0.2.1:3181:4181
server.2=127.0.2.2:3181:4181
server.3=127.0.2.3:3181:4181
# metrics for Prometheus
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpPort=7000
metricsProvider.exportJvmInfo=true"
check_eq "new2's zoo.cfg has the ensemble's server lines and the metrics provider" "$expect" "$(cat "$W/zk/new2/conf/zoo.cfg")"
for n in 1 2 3; do check_eq "new$n's myid is $n" "$n" "$(cat "$W/zk/new$n/data/myid")"; done
check_eq "java.env sets JVMFLAGS and ZOO_LOG_DIR" \
  "export JVMFLAGS=\"-Xms64m -Xmx128m -Xloggc:$W/zk/new3/out/gc.log \$JVMFLAGS\"|export ZOO_LOG_DIR='$W/zk/new3/logs'" \
  "$(grep -v '^#' "$W/zk/new3/conf/java.env" | paste -sd'|')"
check "java.env is a valid shell script" sh -n "$W/zk/new3/conf/java.env"

run second
check_eq "a second run succeeds" 0 "$?"
check_eq "and changes nothing (9 files unchanged)" 9 "$(grep -c ': unchanged' "$W/out")"
check_eq "and leaves no backup" 0 "$(find "$W/zk" -name '*.bak-*' | wc -l)"

inventory 7001
run third
check_eq "a changed inventory rewrites zoo.cfg on each node" 3 "$(grep -c 'zoo.cfg: changed' "$W/out")"
check "new1's zoo.cfg has the new metrics port" grep -qx 'metricsProvider.httpPort=7001' "$W/zk/new1/conf/zoo.cfg"
check "the previous zoo.cfg is kept beside it" grep -qx 'metricsProvider.httpPort=7000' "$W"/zk/new1/conf/zoo.cfg.bak-*
check_eq "myid is left alone" 0 "$(find "$W/zk" -name 'myid.bak-*' | wc -l)"
check "every run's audit verifies" "$CUT" audit verify --audit "$W/third.db"
finish
