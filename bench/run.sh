#!/usr/bin/env bash
# The client's benchmark: builds impactctl, starts the reference server on a
# fresh database, seeds 10,000 and then 100,000 tokens, and prints each figure
# as a ratio against a baseline measured in the same run. A benchmark, not a
# test: nothing here fails on a slow machine. See docs/PERFORMANCE.md.
#
#   bench/run.sh            # RUNS=10 by default: runs per hyperfine measure
#
# Needs go, curl, jq, sqlite3, bc, hyperfine and GNU time
# (apt-get install -y curl jq sqlite3 bc hyperfine time).
set -euo pipefail

RUNS=${RUNS:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in go curl jq sqlite3 bc hyperfine /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/impactctl-bench.XXXXXX")
chmod 700 "$work"
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

bin=$work/impactctl
(cd "$root" && go build -o "$bin" ./cmd/impactctl)
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
mkdir -m 700 -p "$work/db" "$work/config" "$work/data"

# start_server DB [FLAGS…]: serves DB on a free port and exports its admin
# credentials.
start_server() {
	local db=$1
	shift
	rm -f "$work/ready.json"
	"$bin" serve --db "$db" --addr 127.0.0.1:0 --ready-file "$work/ready.json" "$@" 2>>"$work/server.log" &
	server_pid=$!
	for _ in $(seq 300); do
		[ -s "$work/ready.json" ] && break
		sleep 0.1
	done
	[ -s "$work/ready.json" ] || { echo "bench: the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
	url=$(jq -r .Url "$work/ready.json")
	sid=$(jq -r .AccountSid "$work/ready.json")
	secret=$(jq -r .AuthToken "$work/ready.json")
	tokens="$url/Agencies/$sid/ApiTokens"
	# A profile, as after `auth login`: it knows the token is an agency's,
	# so a command makes the same requests as curl.
	mkdir -m 700 -p "$XDG_CONFIG_HOME/impactctl"
	umask 077
	printf 'profiles:\n  default:\n    api_url: %s\n    account_sid: %s\n    auth_token: %s\n    kind: agency\n' \
		"$url" "$sid" "$secret" >"$XDG_CONFIG_HOME/impactctl/config.yaml"
	umask 022
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# seed N BATCH: adds N tokens to the demo agency, written straight into the
# database with the server stopped (bench/seed.sql), and restarts it.
seed() {
	stop_server
	local t0=$(date +%s.%N)
	sqlite3 "$work/db/bench.db" -cmd ".parameter set :template '$sid'" \
		-cmd ".parameter set :n $1" -cmd ".parameter set :batch $2" <"$root/bench/seed.sql"
	printf 'seeded %d tokens in %.2f s\n' "$1" "$(echo "$(date +%s.%N) - $t0" | bc)"
	start_server "$work/db/bench.db" --rate-limit 0
}

# median FILE: the median wall time of the first and second command of a
# hyperfine export, one line "A B".
medians() { jq -r '[.results[].median] | map(tostring) | join(" ")' "$1"; }

# compare NAME GOAL A B: times A against B (hyperfine, $RUNS runs each) and
# prints A/B.
compare() {
	local name=$1 goal=$2 a=$3 b=$4
	shift 4
	hyperfine -N -w 2 -r "$RUNS" --export-json "$work/h.json" "$@" "$a" "$b" >/dev/null
	read -r ta tb < <(medians "$work/h.json")
	printf '%-46s %6.3fx  (%.3f s vs %.3f s; goal %s)\n' "$name" "$(echo "$ta / $tb" | bc -l)" "$ta" "$tb" "$goal"
}

# peak CMD…: the median of three peak RSS readings of CMD, in KiB, its
# output thrown away.
peak() {
	local m=()
	for _ in 1 2 3; do
		/usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1 </dev/null
		m+=("$(cat "$work/rss")")
	done
	printf '%s\n' "${m[@]}" | sort -n | sed -n 2p
}

mib() { echo "scale=1; $1 / 1024" | bc; }

echo "impactctl client benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sm), $RUNS runs a measure"

# The demo world, then 10,000 tokens.
start_server "$work/db/bench.db" --demo --rate-limit 0
seed 10000 1
total=$(curl -s -u "$sid:$secret" "$tokens?PageSize=1" | jq -r '."@total"')
echo "the agency holds $total tokens"

# One call: tokens show against curl's same request.
one=IRB0001000000000000000000000000001
compare "tokens show -o json / curl" "<= 1.0x" \
	"$bin tokens show $one -o json" \
	"curl -s -u $sid:$secret $tokens/$one"
rss=$(peak "$bin" tokens show "$one" -o json)
crss=$(peak curl -s -u "$sid:$secret" "$tokens/$one")
printf '%-46s %6.3fx  (%s MiB vs %s MiB; goal <= 25 MiB)\n' "tokens show peak RSS / curl" \
	"$(echo "$rss / $crss" | bc -l)" "$(mib "$rss")" "$(mib "$crss")"

# A listing of 10,000: the CLI against one curl process reading the same
# pages of 1,000 over one connection.
pages=$(((total + 999) / 1000))
{
	echo "user = \"$sid:$secret\""
	for p in $(seq "$pages"); do
		echo "url = \"$tokens?Page=$p&PageSize=1000\""
		echo 'output = "/dev/null"'
	done
} >"$work/list.curl"
compare "tokens list -o json, 10k / curl" "<= 1.0x" \
	"$bin tokens list -o json" "curl -s -K $work/list.curl"

# Disabling 1,000 tokens: one command against one curl process sending the
# 1,000 single POST …/Disable over one connection. Both start from enabled
# tokens (re-enabled before every run); each disables its own thousand.
seq -f "IRB0001%027g" 1 1000 >"$work/bulk.sids"
{
	echo "user = \"$sid:$secret\""
	echo 'request = "POST"'
	for n in $(seq 1001 2000); do
		echo "url = \"$tokens/$(printf 'IRB0001%027d' "$n")/Disable\""
		echo 'output = "/dev/null"'
	done
} >"$work/disable.curl"
seq -f "IRB0001%027g" 1001 2000 >"$work/curl.sids"
compare "tokens disable of 1,000 / curl's singles" "<= 0.05x" \
	"sh -c '$bin tokens disable --stdin --yes -o json <$work/bulk.sids'" \
	"curl -s -K $work/disable.curl" \
	--prepare "sh -c '$bin tokens enable --stdin --yes -o json <$work/bulk.sids >/dev/null; $bin tokens enable --stdin --yes -o json <$work/curl.sids >/dev/null'"

# Memory at 10,000, then at 100,000.
declare -A at10k
for mode in table json jsonl; do
	at10k[$mode]=$(peak "$bin" tokens list -o "$mode")
done
seed 90000 2
for mode in table json jsonl; do
	m=$(peak "$bin" tokens list -o "$mode")
	printf '%-46s %6.3fx  (%s MiB vs %s MiB; goal <= 1.5x)\n' "peak RSS, tokens list -o $mode, 100k / 10k" \
		"$(echo "$m / ${at10k[$mode]}" | bc -l)" "$(mib "$m")" "$(mib "${at10k[$mode]}")"
done
stop_server

# --local against the same list from a running server over a copy of the
# same database.
"$bin" --local tokens list >/dev/null
mkdir -m 700 "$work/copy"
cp "$XDG_DATA_HOME/impactctl/local.db" "$XDG_DATA_HOME/impactctl/local.db.key" "$work/copy/"
start_server "$work/copy/local.db" --rate-limit 0
compare "--local tokens list / the same from a server" "<= 1.1x" \
	"$bin --local tokens list" "$bin tokens list"
stop_server
