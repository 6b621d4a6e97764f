# Sourced by .ci/run: builds Mailpit (a real SMTP server with an HTTP API) once into
# $HOME/.cache/impactctl-tools, starts it on free loopback ports, and exports
#   IMPACTCTL_TEST_MAILPIT_SMTP  host:port of its SMTP listener
#   IMPACTCTL_TEST_MAILPIT_API   http://host:port of its HTTP API
# so the mail tests send real updates through it and read what arrived. It stops, and
# its directory is removed, when the sourcing shell exits.
#
# Run alone for a development server (it stays up until that shell exits):
#   source .ci/mailpit.sh && go test ./server -run Mailpit
#
# Under CI=true a Mailpit that cannot be built or started fails the run; elsewhere it
# prints a note, the variables stay unset and the Mailpit tests skip.

IMPACTCTL_MAILPIT_VERSION=v1.33.1

impactctl_mailpit_fail() {
  echo "mailpit: $*" >&2
  if [ "${CI:-}" = true ]; then
    return 1
  fi
  echo "mailpit: the Mailpit tests will skip" >&2
  return 0
}

impactctl_mailpit_start() {
  if [ -n "${IMPACTCTL_TEST_MAILPIT_SMTP:-}" ] && [ -n "${IMPACTCTL_TEST_MAILPIT_API:-}" ]; then
    echo "mailpit: using IMPACTCTL_TEST_MAILPIT_SMTP and _API from the environment"
    return 0
  fi
  local tools="$HOME/.cache/impactctl-tools"
  local bin="$tools/mailpit"
  # Built from the module proxy it calls itself "dev": a file beside it records the version.
  if [ ! -x "$bin" ] || [ "$(cat "$tools/mailpit.version" 2>/dev/null)" != "$IMPACTCTL_MAILPIT_VERSION" ]; then
    mkdir -p "$tools"
    echo "mailpit: building github.com/axllent/mailpit@$IMPACTCTL_MAILPIT_VERSION into $tools"
    GOBIN="$tools" go install "github.com/axllent/mailpit@$IMPACTCTL_MAILPIT_VERSION" ||
      { impactctl_mailpit_fail "could not build Mailpit"; return; }
    echo "$IMPACTCTL_MAILPIT_VERSION" >"$tools/mailpit.version"
  fi
  IMPACTCTL_MAILPIT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/impactctl-mailpit.XXXXXX")
  local prev
  prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
  trap "impactctl_mailpit_stop${prev:+; $prev}" EXIT
  local smtp http attempt i
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    smtp=$((20000 + RANDOM % 40000))
    http=$((20000 + RANDOM % 40000))
    if [ "$smtp" = "$http" ] || (exec 3<>"/dev/tcp/127.0.0.1/$smtp") 2>/dev/null ||
      (exec 3<>"/dev/tcp/127.0.0.1/$http") 2>/dev/null; then
      continue
    fi
    "$bin" --smtp "127.0.0.1:$smtp" --listen "127.0.0.1:$http" --database "$IMPACTCTL_MAILPIT_DIR/mail.db" \
      --max 0 --quiet --disable-version-check >"$IMPACTCTL_MAILPIT_DIR/mailpit.log" 2>&1 &
    IMPACTCTL_MAILPIT_PID=$!
    for i in $(seq 1 100); do
      if ! kill -0 "$IMPACTCTL_MAILPIT_PID" 2>/dev/null; then
        break
      fi
      if curl -fs "http://127.0.0.1:$http/api/v1/messages" >/dev/null 2>&1 &&
        (exec 3<>"/dev/tcp/127.0.0.1/$smtp") 2>/dev/null; then
        export IMPACTCTL_TEST_MAILPIT_SMTP="127.0.0.1:$smtp"
        export IMPACTCTL_TEST_MAILPIT_API="http://127.0.0.1:$http"
        echo "mailpit: Mailpit $IMPACTCTL_MAILPIT_VERSION with SMTP on 127.0.0.1:$smtp, API on 127.0.0.1:$http for this run"
        return 0
      fi
      sleep 0.1
    done
    kill "$IMPACTCTL_MAILPIT_PID" 2>/dev/null || true
    wait "$IMPACTCTL_MAILPIT_PID" 2>/dev/null || true
    IMPACTCTL_MAILPIT_PID=
  done
  cat "$IMPACTCTL_MAILPIT_DIR/mailpit.log" >&2
  impactctl_mailpit_fail "could not start Mailpit"
}

impactctl_mailpit_stop() {
  if [ -n "${IMPACTCTL_MAILPIT_PID:-}" ]; then
    kill "$IMPACTCTL_MAILPIT_PID" 2>/dev/null || true
    wait "$IMPACTCTL_MAILPIT_PID" 2>/dev/null || true
  fi
  if [ -n "${IMPACTCTL_MAILPIT_DIR:-}" ]; then
    rm -rf "$IMPACTCTL_MAILPIT_DIR"
  fi
}

impactctl_mailpit_start
