# Sourced by .ci/run: starts a throwaway PostgreSQL for the test run on a free loopback
# port and exports IMPACTCTL_TEST_POSTGRES_DSN, so the store suite and the replica tests
# run against PostgreSQL as well as SQLite. The server stops, and its directory is
# removed, when the sourcing shell exits.
#
# Run alone for a development server (it stays up until that shell exits):
#   source .ci/postgres.sh && go test ./server/... -run Postgres
# With IMPACTCTL_PG_DURABLE=1 it keeps PostgreSQL's durable defaults (fsync on).
#
# Without initdb and pg_ctl on the PATH it prints a note and leaves the DSN unset: the
# PostgreSQL tests then skip.

impactctl_pg_start() {
  if [ -n "${IMPACTCTL_TEST_POSTGRES_DSN:-}" ]; then
    echo "postgres: using IMPACTCTL_TEST_POSTGRES_DSN from the environment"
    return 0
  fi
  if ! command -v initdb >/dev/null || ! command -v pg_ctl >/dev/null; then
    echo "postgres: initdb and pg_ctl are not on the PATH; the PostgreSQL tests will skip" >&2
    return 0
  fi
  # PostgreSQL refuses to run as root: run it as the postgres user there.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    as=(runuser -u postgres --)
  fi
  IMPACTCTL_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/impactctl-pg.XXXXXX")
  if [ ${#as[@]} -gt 0 ]; then
    chown postgres: "$IMPACTCTL_PG_DIR"
  fi
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  (umask 077 && printf '%s\n' "$password" >"$IMPACTCTL_PG_DIR/pwfile")
  if [ ${#as[@]} -gt 0 ]; then
    chown postgres: "$IMPACTCTL_PG_DIR/pwfile"
  fi
  "${as[@]}" initdb --pgdata="$IMPACTCTL_PG_DIR/data" --username=impactctl \
    --pwfile="$IMPACTCTL_PG_DIR/pwfile" --auth=scram-sha-256 --encoding=UTF8 --no-locale \
    >"$IMPACTCTL_PG_DIR/initdb.log" 2>&1 || {
    cat "$IMPACTCTL_PG_DIR/initdb.log" >&2
    return 1
  }
  rm -f "$IMPACTCTL_PG_DIR/pwfile"
  # Stop it when the shell exits, after whatever EXIT trap was already set.
  local prev
  prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
  trap "impactctl_pg_stop${prev:+; $prev}" EXIT
  # A free loopback port: probe a few at random, start on the first that is closed,
  # and try another if something took it in between.
  # Tests need no durability: fsync off makes their many small commits cheap.
  # IMPACTCTL_PG_DURABLE=1 keeps PostgreSQL's defaults, for benchmarks.
  local durability="-c fsync=off"
  if [ "${IMPACTCTL_PG_DURABLE:-}" = 1 ]; then
    durability=""
  fi
  local port attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue
    fi
    if "${as[@]}" pg_ctl --pgdata="$IMPACTCTL_PG_DIR/data" --log="$IMPACTCTL_PG_DIR/server.log" \
      --wait --timeout=60 --silent \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $IMPACTCTL_PG_DIR -c max_connections=200 $durability" \
      start; then
      export IMPACTCTL_TEST_POSTGRES_DSN="postgres://impactctl:$password@127.0.0.1:$port/postgres?sslmode=disable"
      echo "postgres: PostgreSQL $("${as[@]}" pg_ctl --version | awk '{print $3}') on 127.0.0.1:$port for this run"
      return 0
    fi
  done
  cat "$IMPACTCTL_PG_DIR/server.log" >&2
  echo "postgres: could not start PostgreSQL" >&2
  return 1
}

impactctl_pg_stop() {
  if [ -n "${IMPACTCTL_PG_DIR:-}" ] && [ -d "$IMPACTCTL_PG_DIR/data" ]; then
    local as=()
    if [ "$(id -u)" = 0 ]; then
      as=(runuser -u postgres --)
    fi
    "${as[@]}" pg_ctl --pgdata="$IMPACTCTL_PG_DIR/data" --mode=immediate --silent stop >/dev/null 2>&1 || true
  fi
  if [ -n "${IMPACTCTL_PG_DIR:-}" ]; then
    rm -rf "$IMPACTCTL_PG_DIR"
  fi
}

impactctl_pg_start
