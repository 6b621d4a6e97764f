# Sourced by .ci/run: starts a throwaway Secret Service (a session D-Bus and
# gnome-keyring-daemon, unlocked) for the keyring tests, and exports
# DBUS_SESSION_BUS_ADDRESS and IMPACTCTL_TEST_KEYRING=1. Both stop when the
# sourcing shell exits. Under CI=true a keyring that does not start fails the
# run; elsewhere the keyring tests skip and say how to run them.
#
# Run alone (Debian: apt-get install gnome-keyring dbus dbus-bin):
#   source .ci/keyring.sh && go test ./commands -run 'TestScripts/keyring'

impactctl_keyring_fail() {
  echo "keyring: $*" >&2
  if [ "${CI:-}" = true ]; then
    return 1
  fi
  echo "keyring: the keyring tests will skip" >&2
  return 0
}

impactctl_keyring_start() {
  if ! command -v gnome-keyring-daemon >/dev/null || ! command -v dbus-daemon >/dev/null; then
    if [ "${CI:-}" = true ] && command -v apt-get >/dev/null; then
      echo "keyring: installing gnome-keyring and dbus"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnome-keyring dbus dbus-bin; } >/dev/null ||
        { impactctl_keyring_fail "could not install gnome-keyring and dbus"; return; }
    else
      impactctl_keyring_fail "gnome-keyring-daemon and dbus-daemon are not installed"
      return
    fi
  fi
  IMPACTCTL_KEYRING_HOME=$(mktemp -d "${TMPDIR:-/tmp}/impactctl-keyring.XXXXXX")
  mkdir -p "$IMPACTCTL_KEYRING_HOME/.cache" "$IMPACTCTL_KEYRING_HOME/.local/share"
  local out
  out=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 --nopidfile) ||
    { impactctl_keyring_fail "dbus-daemon did not start"; return; }
  export DBUS_SESSION_BUS_ADDRESS=$(printf '%s\n' "$out" | sed -n 1p)
  IMPACTCTL_DBUS_PID=$(printf '%s\n' "$out" | sed -n 2p)
  local prev
  prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
  trap "impactctl_keyring_stop${prev:+; $prev}" EXIT
  # The daemon keeps its keyrings under HOME: a throwaway one.
  printf 'impactctl-test' | HOME=$IMPACTCTL_KEYRING_HOME timeout 20 gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
    { impactctl_keyring_fail "gnome-keyring-daemon did not start"; return; }
  export IMPACTCTL_TEST_KEYRING=1
  echo "keyring: a Secret Service is running on $DBUS_SESSION_BUS_ADDRESS"
}

impactctl_keyring_stop() {
  pkill -u "$(id -u)" -f 'gnome-keyring-daemon --unlock --components=secrets' 2>/dev/null || true
  [ -n "${IMPACTCTL_DBUS_PID:-}" ] && kill "$IMPACTCTL_DBUS_PID" 2>/dev/null || true
  [ -n "${IMPACTCTL_KEYRING_HOME:-}" ] && rm -rf "$IMPACTCTL_KEYRING_HOME"
  return 0
}

impactctl_keyring_start
