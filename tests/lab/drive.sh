# Sourced by lab tests: drive `cutover run --plain` through its prompts.
# answer PROMPT prints the answer for one prompt; tests may override it.
# step_of "confirm ID [yes/no]: " prints ID, what confirms any step.
step_of() { local id=${1#confirm }; echo "${id%% *}"; }
answer() {
  case $1 in
    "second operator: ") echo "${SECOND_OPERATOR:-bob}" ;;
    "note (Enter for none): ") echo "" ;;
    "reason: ") echo "test" ;;
    choice*) echo abort ;;
    "confirm "*) step_of "$1" ;; # the step's id: yes confirms only steps marked simple
    *) echo yes ;;
  esac
}
# drive OUTFILE CMD...: run CMD with a pipe for stdin, answer each prompt as it appears.
drive() {
  local out=$1; shift
  local fifo; fifo=$(mktemp -u /tmp/cutover-drive-XXXXXX); mkfifo "$fifo"
  "$@" <"$fifo" >"$out" 2>&1 &
  local pid=$! answered=0 n p
  exec 9>"$fifo"
  local re='(confirm [a-z0-9-]+ \[yes/no\]|second operator|done [a-z0-9-]+ \[yes/no\]|note \(Enter for none\)|choice \[[a-z/]+\]|reason): '
  while kill -0 "$pid" 2>/dev/null; do
    n=$(grep -o -E "$re" "$out" | wc -l)
    if [ "$n" -gt "$answered" ]; then
      p=$(grep -o -E "$re" "$out" | tail -1)
      answer "$p" >&9
      answered=$n
      # a prompt answered wrong is asked again: never loop for ever
      [ "$answered" -lt 200 ] || { echo "drive: more than 200 prompts; stopping" >&2; kill "$pid"; }
    fi
    sleep 0.05
  done
  exec 9>&-
  rm -f "$fifo"
  wait "$pid"
}
