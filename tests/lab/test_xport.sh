#!/usr/bin/env bash
# The transports against the lab's sshd and the local shell: 10 MiB streamed
# line by line, stderr apart, exit codes, timeouts that kill the remote process
# group, a listener that never speaks SSH, changed and unknown host keys, and
# file streams through one reused connection (tests/lab/xport_test.c); a node
# marked ssh.local is reached without SSH.
set -u
. "$(dirname "$0")/testlib.sh"
lab_fresh
out=$("$root/build/lab/xport_test" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/  /'
n_ok=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
for _ in $(seq "$n_ok"); do _pass=$((_pass + 1)); done
n_bad=$(printf '%s\n' "$out" | grep -c '^\[  FAILED  \] test_')
_fail=$((_fail + n_bad))
[ "$rc" -eq 0 ] || [ "$n_bad" -gt 0 ] || not_ok "xport_test exited $rc"

# ---- ssh.local: a node that is this machine is reached without SSH -------------------------
# The source node's SSH port is 1, where nothing listens: only a copy that reads
# it directly can succeed. The same inventory without `local` must fail on it.
W=$(mktemp -d /tmp/cutover-xport-XXXXXX); trap 'rm -rf "$W"' EXIT
mkdir -p "$W/src/data/version-2" "$W/src/log/version-2" "$W/dst/data/version-2" "$W/dst/log/version-2"
snap=$(ls "$LAB_DIR"/zk/old1/data/version-2/snapshot.* | sort -t. -k2 | tail -1)
cp "$snap" "$W/src/data/version-2/"
local_inv() { # local: true|false
  cat <<YAML
site: ssh.local
vars: {lab: $LAB_DIR, w: $W}
ssh: {user: root, port: 2222, identity: "\${lab}/ssh/id_ed25519", known_hosts: "\${lab}/ssh/known_hosts", agent: false, connect_timeout: 3s}
operators: [alice]
ensembles:
  src:
    version: "3.8"
    nodes: [{myid: 1, host: 127.0.1.1, data_dir: "\${w}/src/data", data_log_dir: "\${w}/src/log", ssh: {port: 1, local: $1}}]
  dst:
    version: "3.8"
    nodes: [{myid: 1, host: 127.0.2.1, data_dir: "\${w}/dst/data", data_log_dir: "\${w}/dst/log"}]
YAML
}
cat >"$W/copy.yaml" <<'YAML'
runbook: local-copy
kind: migration
steps:
  - {id: copy, title: copy from a local node, action: zk.copy, targets: [dst.all], params: {from: src.node(1)}, simple: true}
YAML
local_inv true >"$W/local.yaml"; local_inv false >"$W/remote.yaml"
# a newer snapshot with one byte flipped: read in place, found corrupt, passed over -- and left alone
bad=$W/src/data/version-2/snapshot.7fffffffff
cp "$snap" "$bad" && printf '\x5a' | dd of="$bad" bs=1 seek=$(($(stat -c %s "$bad") / 2)) conv=notrunc status=none
bad_sum=$(sha256sum <"$bad")
echo yes | "$root/cutover" run "$W/copy.yaml" -i "$W/local.yaml" --audit "$W/l.db" --plain --operator alice >"$W/l.out" 2>&1
check_eq "a copy from a node marked ssh.local succeeds with its SSH port closed" 0 "$?"
check "the destination holds the source's bytes" cmp -s "$snap" "$W/dst/data/version-2/$(basename "$snap")"
check "the corrupt snapshot was passed over" grep -q "snapshot.7fffffffff passed over" "$W/l.out"
check_eq "the source's files are untouched (read in place, never moved or removed)" "$bad_sum $(sha256sum <"$snap")" \
  "$(sha256sum <"$bad") $(sha256sum <"$W/src/data/version-2/$(basename "$snap")")"
check_eq "the destination holds only the good snapshot" "$(basename "$snap")" "$(ls -A "$W/dst/data/version-2")"
rm -f "$bad"
rm -f "$W"/dst/data/version-2/*
echo yes | "$root/cutover" run "$W/copy.yaml" -i "$W/remote.yaml" --audit "$W/r.db" --plain --operator alice >"$W/r.out" 2>&1
check "without ssh.local the same copy fails on the closed port" test "$?" -ne 0
check "and says which node it could not reach" grep -q "127.0.1.1:1" "$W/r.out"
check_eq "nothing was written then" "" "$(ls -A "$W/dst/data/version-2")"
finish
