#!/usr/bin/env bash
# The command line as a user meets it: exit codes, lint of the shipped runbooks
# against the lab and the seed's site, and the lab plan against its golden file.
set -u
cd "$(dirname "$0")/../.."
. tests/checklib.sh
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

tmp=$(mktemp -d); trap 'umount "$tmp/small" 2>/dev/null; rm -rf "$tmp"' EXIT
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

# a site without ClickHouse: the plan says so rather than "(null)"
printf 'site: x\nssh: {user: root}\noperators: [alice, bob]\nensembles:\n  old:\n    nodes: [{myid: 1, host: 10.0.0.1}]\n' >"$tmp/noch.yaml"
printf 'runbook: r\nsteps:\n  - {id: a, action: zk.status, targets: [old.all]}\n' >"$tmp/noch-rb.yaml"
out=$($c plan "$tmp/noch-rb.yaml" -i "$tmp/noch.yaml" 2>&1)
check "plan without a ClickHouse ensemble says none is known" bash -c \
  "grep -q 'No ClickHouse ensemble is known' <<<\"\$1\" && ! grep -q '(null)' <<<\"\$1\"" _ "$out"

# a variable holding a newline, a title holding an escape: the plan shows them, one line each
printf 'site: x\nssh: {user: root}\noperators: [alice, bob]\nensembles:\n  old:\n    nodes: [{myid: 1, host: 10.0.0.1}]\nvars:\n  dir: "/tmp/a\\n    - fake (10.9.9.9):\\n        $ rm -rf /"\n' >"$tmp/nl.yaml"
printf 'runbook: r\nsteps:\n  - {id: a, title: "t\\e[2Jx", action: shell, targets: [local], params: {command: "ls ${dir}"}}\n' >"$tmp/nl-rb.yaml"
out=$($c plan "$tmp/nl-rb.yaml" -i "$tmp/nl.yaml" 2>&1)
check_eq "a variable's newline does not start a plan line of its own" \
  "        on local: \$ ls '/tmp/a^J    - fake (10.9.9.9):^J        \$ rm -rf /'" "$(grep -a 'ls ' <<<"$out")"
check "no line of the plan reads as a fake target" bash -c "! grep -q '^    - fake' <<<\"\$1\"" _ "$out"
check_eq "a title's escape is shown, not obeyed" " 1. a  t^[[2Jx" "$(grep -a '^ 1\. ' <<<"$out")"
check_eq "plan json keeps the value as it is" true \
  "$($c plan "$tmp/nl-rb.yaml" -i "$tmp/nl.yaml" --format json | jq '.steps[0].targets[0].operations[0] | contains("\n    - fake")')"

# the point of no return takes two operators: lint says so when the runbook does not
printf 'runbook: r\npoint_of_no_return: a\nsteps:\n  - {id: a, action: shell, targets: [local], params: {command: ls}}\n' >"$tmp/pnr.yaml"
check "lint warns when the point of no return does not ask for two" bash -c \
  "$c lint '$tmp/pnr.yaml' -i '$tmp/noch.yaml' 2>&1 | grep -q 'step a is the point of no return: crossing it takes two operators'"

# plain mode shows a host's control characters harmlessly; the audit keeps the bytes
cat >"$tmp/esc.yaml" <<'YAML'
runbook: esc
kind: migration
steps:
  - {id: say, title: escapes, action: shell, targets: [local], params: {command: "printf 'a\\033[2Jb\\rc\\302\\233d\\n'; echo 中文"}, simple: true}
YAML
out=$(printf 'yes\n' | LAB_DIR=$tmp/nolab $c run "$tmp/esc.yaml" -i tests/lab/inventory.yaml --audit "$tmp/esc.db" --plain --operator alice 2>&1)
check_eq "escape, carriage return and C1 controls are shown, not obeyed" "  local | a^[[2Jb^Mc<U+009B>d" "$(grep -a 'local | a' <<<"$out")"
check "text that is not control characters passes as it is" grep -q "local | 中文" <<<"$out"
head=$(sed -n 's/^audit head \([0-9]*:[0-9a-f]*\): note it.*/\1/p' <<<"$out")
check "the run ends by showing the audit's head to note" test -n "$head"
check "audit verify holds the file to the noted head" $c audit verify --audit "$tmp/esc.db" --head "$head"
$c audit verify --audit "$tmp/esc.db" --head "99:${head#*:}" >/dev/null 2>&1
check_eq "a head past the file's end fails verify" 1 $?
$c audit verify --audit "$tmp/esc.db" --head "1:xyz" >/dev/null 2>&1
check_eq "a head that is no SEQ:HASH is a usage error" 2 $?
check "the audit keeps the bytes as the host sent them" \
  test "$(sqlite3 "$tmp/esc.db" "select count(*) from events where kind='output' and instr(json_extract(payload,'\$.text'), 'a' || char(27) || '[2Jb' || char(13) || 'c' || char(155) || 'd' || char(10)) = 1")" = 1

cat >"$tmp/nul.yaml" <<'YAML'
runbook: nul
kind: migration
steps:
  - {id: say, title: nul, action: shell, targets: [local], params: {command: "printf 'before\\000after\\n'"}, simple: true}
YAML
printf 'yes\n' | LAB_DIR=$tmp/nolab $c run "$tmp/nul.yaml" -i tests/lab/inventory.yaml --audit "$tmp/nul.db" --plain --operator alice >/dev/null 2>&1
check_eq "output after a NUL byte is kept (the NUL shown as ␀)" "before␀after" \
  "$(sqlite3 "$tmp/nul.db" "select json_extract(payload,'\$.text') from events where kind='output'" | head -1)"

# inputs that used to blow up the loaders finish, in bounded time and memory, with a clear error
out=$(timeout 20 $c lint /dev/zero -i tests/lab/inventory.yaml 2>&1); rc=$?
check "lint of /dev/zero stops at 16 MiB and says so" test "$rc" = 1 -a -n "$(grep 'larger than 16 MiB' <<<"$out")"
{ echo 'runbook: r'; echo 'steps:'; for _ in $(seq 10000); do echo '  - {id: a, action: zk.status, targets: [old.all]}'; done; } >"$tmp/dup.yaml"
out=$(timeout 20 $c lint "$tmp/dup.yaml" -i tests/lab/inventory.yaml 2>&1)
check_eq "10,000 steps with one id: each repeat is told once, against the first" 9999 \
  "$(grep -c "step id 'a' is used twice (first at line 3)" <<<"$out")"

{ echo 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'
  for i in $(seq 29); do printf 'a%d: &a%d [' "$i" "$i"; for _ in $(seq 10); do printf '*a%d, ' $((i - 1)); done; echo 'x]'; done
  echo 'runbook: r'; echo 'steps: []'; } >"$tmp/bomb.yaml"
out=$(timeout 20 $c lint "$tmp/bomb.yaml" -i tests/lab/inventory.yaml 2>&1)
check "a file of nested aliases (10^29 nodes expanded) is refused at once" grep -q "more than a million nodes once its aliases are expanded" <<<"$out"
printf 'runbook: r\nsteps: %s%s\n' "$(printf '%.0s[' $(seq 200))" "$(printf '%.0s]' $(seq 200))" >"$tmp/deep.yaml"
check "200 levels of nesting are refused" grep -q "nesting deeper than 64 levels" <<<"$($c lint "$tmp/deep.yaml" -i tests/lab/inventory.yaml 2>&1)"

{ printf 'site: x\nssh: {user: root, known_hosts: /k}\noperators: [alice, bob]\nvars:\n  v0: abcdefgh\n'
  for i in $(seq 30); do printf '  v%d: "' "$i"; for _ in $(seq 7); do printf '${v%d}' $((i - 1)); done; echo '"'; done
  printf 'ensembles:\n  old:\n    nodes: [{myid: 1, host: 10.0.0.1, home: "${v6}"}]\n'; } >"$tmp/vars.yaml"
printf 'runbook: r\nkind: migration\nsteps:\n  - {id: a, title: a, action: shell, targets: [old.all], params: {command: "echo ${home}"}, simple: true}\n' >"$tmp/vrb.yaml"
out=$(timeout 20 $c plan "$tmp/vrb.yaml" -i "$tmp/vars.yaml" 2>&1)
check "variables that name each other 7 times a level stop at a budget of lookups" grep -q "more than 10000 lookups" <<<"$out"

# the audit's disk fills mid-step: plain mode says so and stops, never asks for ever
mkdir -p "$tmp/small"
if mount -t tmpfs -o size=600k tmpfs "$tmp/small" 2>/dev/null; then
  cat >"$tmp/full.yaml" <<'YAML'
runbook: full
kind: migration
steps:
  - {id: fill, title: fill the audit's disk, action: shell, targets: [local], params: {command: "dd if=/dev/zero of=${env.FILL}/ballast bs=4k 2>/dev/null; echo filled"}, simple: true}
  - {id: hand, title: by hand, action: manual, params: {instructions: check the racks}}
YAML
  out=$(yes yes | FILL=$tmp/small LAB_DIR=$tmp/nolab timeout 30 $c run "$tmp/full.yaml" -i tests/lab/inventory.yaml \
        --audit "$tmp/small/a.db" --plain --operator alice 2>&1); rc=$?
  check_eq "a disk that fills mid-step ends the run (exit 1, not a prompt for ever)" 1 "$rc"
  check "it says the audit cannot be written and how to go on" \
    bash -c "grep -q 'the audit cannot be written: .*disk is full' <<<\"\$1\" && grep -q 'cutover resume --audit' <<<\"\$1\"" _ "$out"
  rm -f "$tmp/small/ballast"
  check "what was recorded before still verifies" $c audit verify --audit "$tmp/small/a.db"
  umount "$tmp/small"
else
  echo "  skip the full-disk case: mounting a small tmpfs needs root"
fi

# numbers are checked, not read as far as they go
for a in --watch=-1 --watch=abc "--timeout 99999999999999"; do
  out=$($c status -i tests/lab/inventory.yaml $a 2>&1); rc=$?
  check "status $a is a usage error that names the range" test "$rc" = 2 -a -n "$(grep 'takes whole .* from 1 to' <<<"$out")"
done

# audit verify only reads: a lost (0-byte) audit or another program's database is no intact audit
: >"$tmp/empty.db"
out=$($c audit verify --audit "$tmp/empty.db" 2>&1); rc=$?
check_eq "audit verify of a 0-byte file fails (exit 1)" 1 "$rc"
check "it says the file is no audit" grep -q "empty (0 bytes): not a cutover audit" <<<"$out"
check_eq "and leaves it 0 bytes" 0 "$(stat -c %s "$tmp/empty.db")"
sqlite3 "$tmp/other.db" "CREATE TABLE t(x); INSERT INTO t VALUES (1)"; sum=$(sha256sum <"$tmp/other.db")
$c audit verify --audit "$tmp/other.db" >/dev/null 2>&1; check_eq "another program's database fails verify" 1 $?
check_eq "and gets no schema of ours" "$sum" "$(sha256sum <"$tmp/other.db")"
# every command given a missing file, a directory or an unreadable file says "cannot read FILE: reason"
mkdir "$tmp/adir"; printf 'x' >"$tmp/secret"; chmod 600 "$tmp/secret"
inv=tests/lab/inventory.yaml; rb=runbooks/zk-migration.yaml
as_other() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; else "$@"; fi; }
cannot_read() { # label file why cmd...: the command fails and says "cannot read FILE: why"
  local label=$1 f=$2 why=$3; shift 3
  local out; out=$("$@" </dev/null 2>&1); local rc=$?
  check "$label: exits non-zero and says cannot read $(basename "$f"): $why" \
    bash -c '[ "$1" -ne 0 ] && grep -qF "cannot read $2: $3" <<<"$4"' _ "$rc" "$f" "$why" "$out"
}
for kind in missing dir unreadable; do
  case $kind in
    missing) f=$tmp/none.yaml; why="No such file or directory"; pre=() ;;
    dir) f=$tmp/adir; why="Is a directory"; pre=() ;;
    unreadable) f=$tmp/secret; why="Permission denied"; pre=(as_other) ;;
  esac
  cannot_read "lint RUNBOOK ($kind)" "$f" "$why" "${pre[@]}" $c lint "$f" -i "$inv"
  cannot_read "lint -i ($kind)" "$f" "$why" "${pre[@]}" $c lint "$rb" -i "$f"
  cannot_read "plan ($kind)" "$f" "$why" "${pre[@]}" $c plan "$f" -i "$inv"
  cannot_read "run RUNBOOK ($kind)" "$f" "$why" "${pre[@]}" $c run "$f" -i "$inv" --audit "$tmp/never.db" --plain --operator alice
  cannot_read "run -i ($kind)" "$f" "$why" "${pre[@]}" $c run "$rb" -i "$f" --audit "$tmp/never.db" --plain --operator alice
  cannot_read "status -i ($kind)" "$f" "$why" "${pre[@]}" $c status -i "$f"
  cannot_read "ck show -i ($kind)" "$f" "$why" "${pre[@]}" $c ck show -i "$f"
  [ $kind = dir ] || cannot_read "zk inspect ($kind)" "$f" "$why" "${pre[@]}" $c zk inspect "$f"
  [ $kind = dir ] || cannot_read "resume --audit ($kind)" "$f" "$why" "${pre[@]}" $c resume --audit "$f" --plain --operator alice
  [ $kind = dir ] || cannot_read "notes --audit ($kind)" "$f" "$why" "${pre[@]}" $c notes --audit "$f" --operator alice hi
  [ $kind = dir ] || cannot_read "audit verify ($kind)" "$f" "$why" "${pre[@]}" $c audit verify --audit "$f"
done
check "a failed run made no audit file" test ! -e "$tmp/never.db"
cannot_read "zk inspect (dir)" "$tmp/adir" "not a regular file" $c zk inspect "$tmp/adir"
cannot_read "audit verify (dir)" "$tmp/adir" "not a regular file" $c audit verify --audit "$tmp/adir"
cannot_read "resume --audit (dir)" "$tmp/adir" "Is a directory" $c resume --audit "$tmp/adir" --plain --operator alice
cannot_read "notes --audit (dir)" "$tmp/adir" "not a regular file" $c notes --audit "$tmp/adir" --operator alice hi
sqlite3 "$tmp/other2.db" "CREATE TABLE t(x)"; sum=$(sha256sum <"$tmp/other2.db")
$c notes --audit "$tmp/other2.db" --operator alice hi >"$tmp/o" 2>&1
check "notes refuses another program's database" grep -q "is not a cutover audit" "$tmp/o"
check_eq "and adds nothing to it" "$sum" "$(sha256sum <"$tmp/other2.db")"
finish
