#!/usr/bin/env bash
# Two engineers, two tmux clients: the second confirmation is taken only from
# another client than the first, and from the operator's own Unix login where
# the inventory gives one. The clients are real: each is `tmux attach` under
# `script` (a terminal of its own), run as a local user this test creates, and
# each engineer types into their own client's terminal -- never send-keys,
# which no client typed. Operators carry Chinese display names, as the seed's
# on-call pair do. Then one shared login for both: the client rule still holds.
set -u
export LC_ALL=C.UTF-8
. "$(dirname "$0")/testlib.sh"
[ "$(id -u)" = 0 ] || { not_ok "this scenario runs as root (it creates two local users)"; finish; exit 1; }
for u in cutover-yw cutover-zml; do id "$u" >/dev/null 2>&1 || useradd -M -s /bin/sh "$u" || not_ok "user $u was created"; done
W=$(mktemp -d /tmp/cutover-users-XXXXXX); chmod 755 "$W"
SOCK=$W/none.sock; S=users
cleanup() {
  for sock in "$W"/tmux-*.sock; do tmux -S "$sock" kill-server 2>/dev/null; done
  for p in "${holders[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  [ -n "${KEEP:-}" ] || rm -rf "$W"
}
holders=(); trap cleanup EXIT
lab_fresh

cat >"$W/two.yaml" <<YAML
runbook: two
kind: migration
steps:
  - {id: both, title: 两人确认 / needs two, action: shell, targets: [local], params: {command: "echo both >> $W/ran"}, confirm: two}
  - {id: again, title: 再来一次 / two again, action: shell, targets: [local], params: {command: "echo again >> $W/ran"}, confirm: two}
YAML
with_logins() { sed 's/^operators: \[alice, bob\]$/operators:\n  - {name: 姚伟, login: cutover-yw}\n  - {name: 周梦林, login: cutover-zml}/' "$INV"; }
shared() { sed 's/^operators: \[alice, bob\]$/operators: [姚伟, 周梦林]/' "$INV"; }
with_logins >"$W/inv-logins.yaml"; shared >"$W/inv-shared.yaml"
grep -q "login: cutover-zml" "$W/inv-logins.yaml" || not_ok "the inventory with logins was made"

screen() { tmux -S "$SOCK" capture-pane -p -t $S; }
wait_screen() { # pattern [seconds]
  for _ in $(seq $((${2:-30} * 5))); do screen | grep -q -- "$1" && return 0; sleep 0.2; done
  echo "  (the screen never showed '$1'; it shows:)"; screen | sed 's/^/  | /' | head -30; return 1
}
wait_sql() { # query expected [seconds]
  # the console may not have made the file yet: say nothing until it has
  for _ in $(seq $((${3:-30} * 5))); do [ "$(q "$A" "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.2; done
  echo "  ($1 gave '$(q "$A" "$1")', not '$2')"; return 1
}
# console INVENTORY [RUNBOOK [ENV]]: a tmux server on a socket of its own runs the console; other users may attach
console() {
  tmux -S "$SOCK" kill-server 2>/dev/null
  SOCK=$W/tmux-$(basename "$A" .db).sock # a fresh path: the old server may still hold its own
  tmux -S "$SOCK" new-session -d -s $S -x 200 -y 40 \
    "LANG=C.UTF-8 LAB_DIR=$LAB_DIR ${3:-} $CUT run ${2:-$W/two.yaml} -i $1 --audit $A --operator 姚伟 --operator 周梦林; sleep 600"
  chmod 777 "$SOCK"
  for u in cutover-yw cutover-zml; do tmux -S "$SOCK" server-access -a "$u" 2>/dev/null; done
}
# attach NAME USER: a client of its own, typed into through the FIFO $W/NAME.in; its tty in TTY[NAME]
declare -A TTY
attach() {
  local f=$W/$1.in before
  before=$(clients | awk '{print $3}' | sort)
  rm -f "$f"; mkfifo -m 666 "$f"
  sleep 900 >"$f" 2>/dev/null & holders+=($!) # keeps the client's input open between keystrokes
  TERM=xterm runuser -u "$2" -- script -qfec "stty cols 200 rows 40; tmux -S $SOCK attach -t $S" /dev/null <"$f" >/dev/null 2>&1 &
  holders+=($!)
  for _ in $(seq 100); do
    TTY[$1]=$(comm -13 <(printf '%s\n' "$before") <(clients | awk '{print $3}' | sort) | head -1)
    [ -n "${TTY[$1]}" ] && return 0; sleep 0.1
  done
  not_ok "client $1 attached as $2"
}
clients() { tmux -S "$SOCK" list-clients -F '#{client_activity} #{client_user} #{client_tty}' 2>/dev/null; }
# tmux counts activity in whole seconds: before one client types, wait until
# the clock has passed every client's last keystroke, so the typist is the
# only one active in the newest second.
own_second() {
  local last; last=$(clients | cut -d' ' -f1 | sort -n | tail -1)
  for _ in $(seq 30); do [ "$(date +%s)" -gt "${last:-0}" ] && return 0; sleep 0.1; done
}
# NAME TEXT: TEXT and Enter typed at NAME's client (bounded: a client gone must not hang the test)
type_as() { own_second; timeout 5 bash -c 'printf "%s\r" "$1" >"$2"' _ "$2" "$W/$1.in" || echo "  (client $1 is gone)"; }
enter_as() { type_as "$1" ""; }

# ---- two logins, Chinese names ---------------------------------------------------------------
A=$W/logins.db
console "$W/inv-logins.yaml"
attach yw cutover-yw; attach zml cutover-zml; attach yw2 cutover-yw
check_eq "three clients are attached, as two users" "cutover-yw cutover-yw cutover-zml" "$(clients | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//')"
check "the console names both engineers as attached" wait_screen "attached: .*cutover-yw.*cutover-zml\|attached: .*cutover-zml.*cutover-yw"
enter_as yw
check "Enter from 姚伟's client opens the confirmation" wait_screen "confirm both"
wait_screen "to confirm: type both; then a second operator" 15 >/dev/null
type_as yw both
check "the step id from 姚伟's client asks for a second operator" wait_screen "second operator"
type_as yw 周梦林
check "周梦林's name typed at 姚伟's client is refused" wait_sql \
  "select count(*) from events where kind='refused' and json_extract(payload,'\$.why') like '%confirms from their own tmux client%'" 1
check "the console says why" wait_screen "confirms from their own tmux client"
enter_as yw; wait_screen "to confirm: type both" 15 >/dev/null
type_as yw both; wait_screen "second operator" 10 >/dev/null
type_as yw2 周梦林
check "周梦林's name typed at another client of 姚伟's login is refused" wait_sql \
  "select count(*) from events where kind='refused' and json_extract(payload,'\$.why') like '%周梦林 confirms from their own login (cutover-zml)%'" 1
check "nothing ran" test ! -s "$W/ran"
enter_as yw; wait_screen "to confirm: type both" 15 >/dev/null
type_as yw both; wait_screen "second operator" 10 >/dev/null
type_as zml 周梦林
check "周梦林 confirming at their own client runs it" wait_sql \
  "select count(*) from events where kind='step_end' and step='both' and json_extract(payload,'\$.ok')" 1 60
check_eq "the confirmation names 姚伟 and 周梦林" '["姚伟","周梦林"]' \
  "$(q "$A" "select json_extract(payload,'\$.operators') from events where kind='confirm' and step='both'")"
check_eq "and the client each typed at" "${TTY[yw]} ${TTY[zml]}" \
  "$(q "$A" "select json_extract(payload,'\$.first_from') || ' ' || json_extract(payload,'\$.second_from') from events where kind='confirm' and step='both'")"

# ---- one shared login: the two-client rule still holds -----------------------------------------
A=$W/shared.db; rm -f "$W/ran"
console "$W/inv-shared.yaml"
attach one cutover-yw; attach two cutover-yw
check_eq "two clients under one login" "cutover-yw cutover-yw" "$(clients | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')"
wait_screen "confirm both\|both" 30 >/dev/null
enter_as one; wait_screen "to confirm: type both" 15 >/dev/null
type_as one both; wait_screen "second operator" 10 >/dev/null
type_as one 周梦林
check "one client alone cannot confirm twice, one login or not" wait_sql \
  "select count(*) from events where kind='refused' and json_extract(payload,'\$.why') like '%confirms from their own tmux client%'" 1
enter_as one; wait_screen "to confirm: type both" 15 >/dev/null
type_as one both; wait_screen "second operator" 10 >/dev/null
type_as two 周梦林
check "the second client confirms it" wait_sql \
  "select count(*) from events where kind='step_end' and step='both' and json_extract(payload,'\$.ok')" 1 60
check_eq "it ran once" 1 "$(grep -c both "$W/ran")"

# ---- presence: one engineer attached -------------------------------------------------------------
A=$W/alone-warn.db
console "$W/inv-shared.yaml" "$here/alone.yaml"
attach solo cutover-yw
enter_as solo
check "one client attached: the dialog warns before a step that changes data" \
  wait_screen "warning: this step changes data and 1 engineer is attached"
A=$W/alone-refuse.db
console "$W/inv-shared.yaml" "$here/alone.yaml" CUTOVER_REFUSE_ALONE=1
attach solo2 cutover-yw
enter_as solo2; wait_screen "to confirm: type wipe" 15 >/dev/null
type_as solo2 wipe
check "with CUTOVER_REFUSE_ALONE=1 it is refused, before anyone is asked for more" wait_sql \
  "select count(*) from events where kind='refused' and json_extract(payload,'\$.why') like 'refused: wipe changes data and 1 engineer is attached%'" 1
check_eq "nothing was confirmed" 0 "$(q "$A" "select count(*) from events where kind='confirm'")"
finish
