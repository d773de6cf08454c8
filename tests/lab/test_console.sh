#!/usr/bin/env bash
# The full-screen console, driven as the operators drive it: inside tmux,
# keys in with send-keys, the screen read back with capture-pane, against the
# lab (tests/lab/console.yaml). A step runs only after its id is typed; a
# `two` step needs a second, different operator; notes reach the audit; the
# nodes pane follows a leader change and shows a hung node as "no answer"
# while keys keep being answered; 80x24 and back keeps the layout; a Chinese
# title does not push the columns after it.
set -u
export LC_ALL=C.UTF-8 # display widths (wc -L) and the glyphs in patterns
. "$(dirname "$0")/testlib.sh"
W=$(mktemp -d /tmp/cutover-console-XXXXXX)
S=cutover-console-test
trap 'tmux kill-session -t $S 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
lab_fresh
A=$W/a.db
tmux kill-session -t $S 2>/dev/null
tmux new-session -d -s $S -x 120 -y 40 \
  "LANG=C.UTF-8 LAB_DIR=$LAB_DIR $CUT run $here/console.yaml -i $INV --audit $A --operator alice --operator bob; echo CONSOLE-EXITED; sleep 600"
screen() { tmux capture-pane -p -t $S; }
keys() { tmux send-keys -t $S "$@"; }
type_line() { tmux send-keys -t $S -l "$1"; tmux send-keys -t $S Enter; }
wait_screen() { # pattern [seconds]
  for _ in $(seq $((${2:-30} * 5))); do screen | grep -q -- "$1" && return 0; sleep 0.2; done
  echo "  (the screen never showed '$1'; it shows:)"; screen | sed 's/^/  | /' | head -40; return 1
}
DB=$A
wait_sql() { # query expected [seconds]
  for _ in $(seq $((${3:-60} * 5))); do [ "$(q "$1")" = "$2" ] && return 0; sleep 0.2; done; return 1
}
step_ok() {
  wait_sql "select count(*) from events where kind='step_end' and step='$1' and json_extract(payload,'\$.ok')" 1 "${2:-90}" && return 0
  echo "  ($1 did not succeed; the screen:)"; screen | sed 's/^/  | /' | head -40; return 1
}

check "the step list appears" wait_screen "wipe-new"
check "the nodes pane lists both ensembles" bash -c "$(declare -f screen wait_screen); S=$S; wait_screen 'new3 ' && screen | grep -q 'old1 '"
check "the leader pane names the old ensemble's leader" wait_screen "leader old  old[123]"
check "the ClickHouse pane shows where ck1's metrika.xml points" wait_screen "ck1 .*metrika.xml -> old"
check "the writers pane lists task 2948" wait_screen "writers.*2948 run"

# a step runs only after its id is typed: "yes" is not enough for a step not marked simple
keys Enter
check "Enter opens the confirmation with the plan" wait_screen "confirm stop-writers"
wait_screen "type the step id to run it" 15 >/dev/null
type_line yes
wait_screen "type stop-writers to run it" 10 >/dev/null # the answer was read
check_eq "'yes' confirms nothing for a step not marked simple" 0 "$(q "select count(*) from events where kind='confirm'")"
check "and the dialog says what to type" wait_screen "type stop-writers to run it"
type_line stop-writers
check "typing the step id runs it" step_ok stop-writers
check_eq "the confirmation is recorded under alice" '["alice"]' \
  "$(q "select json_extract(payload,'\$.operators') from events where kind='confirm' and step='stop-writers'")"

# the note key
keys n; type_line "交接: bob watches the leader pane"
check "the note key writes a note to the audit" wait_sql \
  "select operator || ' ' || json_extract(payload,'\$.text') from events where kind='note'" "alice 交接: bob watches the leader pane" 10

# who is at the keyboard: o switches, and the header says so
keys o
check "o puts bob at the keyboard" wait_screen "at keyboard: bob (on duty: alice,bob)" 5
keys o
check "and o again alice" wait_screen "at keyboard: alice" 5

# a simple step takes yes
wait_screen "^>· leader" 20 >/dev/null
keys Enter; wait_screen "confirm leader" >/dev/null; wait_screen "type the step id to run it" 15 >/dev/null
type_line yes
check "a step marked simple runs on yes" step_ok leader

# a two step: the second operator must be someone else on duty
keys Enter; wait_screen "confirm stop-new" >/dev/null; wait_screen "type the step id to run it" 15 >/dev/null
type_line stop-new
check "a two step asks for a second operator" wait_screen "second operator"
type_line alice
check "the same operator twice is refused" wait_screen "'alice' is not a second operator"
type_line bob
check "with bob it runs" step_ok stop-new
check_eq "and both are on the confirmation" '["alice","bob"]' \
  "$(q "select json_extract(payload,'\$.operators') from events where kind='confirm' and step='stop-new'")"

# a Chinese title does not push the columns after it: the pane border and the
# elapsed column sit at the same display column on every row
wait_screen "^.✓ stop-new " 10 >/dev/null
rows=$(screen | grep -E '^.[✓·] (stop-writers|leader|stop-new|wipe-new) ')
border=$(while IFS= read -r l; do printf '%s\n' "${l%%│*}" | wc -L; done <<<"$rows" | sort -u)
check_eq "the step list's border is at column 52 on every row" 52 "$border"
el=$(while IFS= read -r l; do left=${l%%│*}; t=$(grep -oE '[0-9]+:[0-9]{2} *$' <<<"$left"); printf '%s\n' "${left%"$t"}" | wc -L; done \
  <<<"$(grep -E '✓' <<<"$rows")" | sort -u)
check_eq "the elapsed column starts at column 45 on every finished row" 45 "$el"

# the leader pane follows a leader change
old_leader=$(screen | sed -n 's/.*leader old  \(old[123]\).*/\1/p' | head -1)
kill -9 "$(cat "$LAB_DIR/zk/$old_leader/data/zookeeper_server.pid")"
others=$(for n in 1 2 3; do [ "old$n" != "$old_leader" ] && printf 'old%s\\|' "$n"; done)
check "the leader pane flashes the new leader after the old one is killed" \
  wait_screen "leader old  \(${others%\\|}\) .*NEW LEADER" 60
new_leader=$(screen | sed -n 's/.*leader old  \(old[123]\).*/\1/p' | head -1)
check "and names another node" test -n "$new_leader" -a "$new_leader" != "$old_leader"
check "the killed node shows as down" wait_screen "$old_leader  *down" 20
check "the change was recorded as a status event" test "$(q "select count(*) from events where kind='status' and payload like '%\"node\":\"$new_leader\",%\"role\":\"leader\"%'")" -ge 1
"$LAB_DIR/zk/$old_leader/bin/zkServer.sh" start >/dev/null 2>&1

# a hung node: "no answer" with a growing age, and keys still answered at once
hung=$(for n in 1 2 3; do [ "old$n" != "$new_leader" ] && [ "old$n" != "$old_leader" ] && echo "old$n"; done | head -1)
kill -STOP "$(cat "$LAB_DIR/zk/$hung/data/zookeeper_server.pid")"
check "a SIGSTOPped node shows as no answer" wait_screen "$hung  *no answer" 30
t0=$(date +%s%N); keys '?'
check "keys are still answered (? shows the keys)" wait_screen "this list; any key closes it" 2
t1=$(date +%s%N); echo "  (help appeared in $(( (t1 - t0) / 1000000 )) ms with $hung hung)"
keys x
check "its age grows while it hangs" wait_screen "$hung  *no answer *0:0[3-9]\|$hung  *no answer *0:[1-5]" 15
kill -CONT "$(cat "$LAB_DIR/zk/$hung/data/zookeeper_server.pid")"

# tmux shrinks to its smallest client: 80x24 and back
tmux resize-window -t $S -x 80 -y 24
wait_width() { for _ in $(seq 50); do [ "$(screen | wc -L)" -le "$1" ] && screen | grep -q 'stop-writers' && return 0; sleep 0.1; done; }
wait_width 80
check "at 80x24 no line is wider than the window" test "$(screen | wc -L)" -le 80
check "and the steps and the nodes pane are there" bash -c "$(declare -f screen); S=$S; screen | grep -q 'stop-writers' && screen | grep -q 'ZooKeeper nodes'"
tmux resize-window -t $S -x 120 -y 40
for _ in $(seq 50); do [ "$(screen | grep -c '│')" -ge 30 ] && break; sleep 0.1; done
check "back at 120x40 the layout is whole again" bash -c "$(declare -f screen); S=$S; [ \$(screen | grep -c '│') -ge 30 ] && screen | grep -q 'wipe-new'"

# move the new ensemble's data aside, then leave
keys Enter; wait_screen "confirm wipe-new" >/dev/null; wait_screen "type the step id to run it" 15 >/dev/null
type_line wipe-new; wait_screen "second operator" 10 >/dev/null; type_line bob
check "wipe-new runs with two operators" step_ok wipe-new
check "and the data was moved aside, not deleted" bash -c "ls -d $LAB_DIR/zk/new1/data/version-2.moved-* >/dev/null"
check_eq "the run ended succeeded" succeeded "$(q "select outcome from runs order by id desc limit 1")"
# the output search: the header shows the text right after its label, whatever the step id's width
keys /; type_line "version-2"
check "the output search shows its text right after the label" wait_screen "output of [a-z-]*  search: version-2" 5
keys q
check "q leaves the console" wait_screen "CONSOLE-EXITED" 15
check "who did what is in the audit" test "$(q "select count(distinct operator) from events where kind='confirm'")" -eq 1
finish
