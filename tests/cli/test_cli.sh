#!/usr/bin/env bash
# The command line as a user meets it: exit codes, lint of the shipped runbooks
# against the lab and the seed's site, and the lab plan against its golden file.
set -u
cd "$(dirname "$0")/../.."
. tests/lab/testlib.sh
_name=test_cli
unset LAB_DIR
c=./cutover

check "--help answers and lists lint and plan" bash -c "$c --help | grep -q '^  lint ' && $c --help | grep -q '^  plan '"
check "--version names the libraries" bash -c "$c --version | grep -q 'libssh'"
$c frobnicate >/dev/null 2>&1; check_eq "an unknown command is a usage error" 2 $?
$c lint runbooks/zk-migration.yaml >/dev/null 2>&1; check_eq "lint without -i is a usage error" 2 $?

for rb in zk-migration zk-rollback; do
  $c lint runbooks/$rb.yaml -i tests/lab/inventory.yaml >/dev/null
  check_eq "$rb lints clean against the lab" 0 $?
done
out=$($c lint runbooks/zk-migration.yaml -i runbooks/inventory.example.yaml); rc=$?
check_eq "the seed's site fails lint" 1 "$rc"
typo_line=$(grep -n 'host: 127.26.64.168' runbooks/inventory.example.yaml | cut -d: -f1)
check "lint names the 127.26.64.168 line of the seed's site" \
  grep -q "^runbooks/inventory.example.yaml:$typo_line:25: error: host 127.26.64.168 of new3 is a loopback address" <<<"$out"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'runbook: x\nsteps:\n  - {id: a, action: zk.stop, targets: [new.all]}\n' >"$tmp/warn.yaml"
$c lint "$tmp/warn.yaml" -i tests/lab/inventory.yaml >/dev/null; check_eq "a warning alone passes lint" 0 $?
$c lint "$tmp/warn.yaml" -i tests/lab/inventory.yaml --strict >/dev/null; check_eq "--strict fails on a warning" 1 $?
$c plan runbooks/zk-migration.yaml -i runbooks/inventory.example.yaml >/dev/null 2>&1
check_eq "plan refuses a runbook that does not lint" 1 $?

check "plan for the lab equals the golden file" \
  diff -u tests/golden/plan-lab.txt <($c plan runbooks/zk-migration.yaml -i tests/lab/inventory.yaml)
order=$($c plan runbooks/zk-migration.yaml -i tests/lab/inventory.yaml --format json |
  jq -r '.steps[] | select(.id == "stop-new") | [.targets[].role] as $r
         | ($r | indices("if follower") | max) < ($r | indices("if leader") | min)')
check_eq "stop-new lists every follower before the leader" true "$order"
check "plan json parses and has every step" bash -c \
  "$c plan runbooks/zk-migration.yaml -i tests/lab/inventory.yaml --format json | jq -e '.steps | length == 19' >/dev/null"
finish
