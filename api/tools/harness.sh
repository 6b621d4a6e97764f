# Sourced by api/conformance.sh and api/fuzz.sh after setting HARNESS (the name
# their messages start with) and HARNESS_LOGS (the files of $work whose last lines
# a failure shows): a work directory, background processes stopped on exit, and
# fail / wait_for. With KEEP_WORK=1 the work directory is kept.

work=$(mktemp -d)
pids=()
harness_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then
    echo "$HARNESS: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap harness_cleanup EXIT

fail() {
  echo "$HARNESS: $*" >&2
  for f in $HARNESS_LOGS; do
    [ -s "$work/$f" ] && { echo "--- last lines of $f" >&2; tail -n 15 "$work/$f" >&2; }
  done
  exit 1
}

# wait_for FILE PATTERN: until FILE holds a line matching PATTERN (60 s at most).
wait_for() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  fail "timed out waiting for $2 in $(basename "$1")"
}
