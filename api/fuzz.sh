#!/usr/bin/env bash
# A spec-driven contract and fuzz run with tools no one here wrote: Portman turns
# api/openapi.yaml into requests with contract tests (status, content type, JSON
# body, schema, headers) for every operation under each root, plus variations of
# each one with bad input (every required field, header and query parameter
# missing; too short; too long; below the minimum and above the maximum; and,
# from api/tools/fuzz-config.cjs, every one given empty and given the wrong type),
# each expecting 400 in the contract's error shape. Newman sends them to
# `impactctl serve --demo` on loopback, and the run fails on any failed check.
#
# The tokens the run changes and deletes are its own, made first; the demo's
# admins only read and authenticate. Rate limits are off: the run sends some
# 450 requests with one token.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(api/tools/install.sh fuzz)
HARNESS=fuzz HARNESS_LOGS="cli.err server.log portman.log"
KEEP_WORK=${KEEP_WORK:-${FUZZ_KEEP:-}}
source api/tools/harness.sh

go build -o "$work/impactctl" ./cmd/impactctl

"$work/impactctl" serve --demo --db "$work/demo.db" --addr 127.0.0.1:0 --rate-limit 0 \
  --ready-file "$work/ready.json" 2>"$work/server.log" &
pids+=($!)
wait_for "$work/ready.json" AuthToken
ready() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
url=$(ready Url)

# The CLI makes the run's tokens: environment credentials, nothing of the user's.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^IMPACTCTL_' || true)
export HOME=$work XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data CI=true
export IMPACTCTL_CONFIG=$work/config.yaml IMPACTCTL_API_URL=$url
export IMPACTCTL_ACCOUNT_SID IMPACTCTL_AUTH_TOKEN
IMPACTCTL_ACCOUNT_SID=$(ready AccountSid)
IMPACTCTL_AUTH_TOKEN=$(ready AuthToken)
get() { "$work/impactctl" "$@" 2>>"$work/cli.err" || fail "impactctl $* failed"; }
# token NAME ARGS: a new token's Account SID (its secret kept in the work directory).
token() {
  local name=$1
  shift
  get tokens create "$@" --name "Fuzz $name" --secret-file "$work/$name.secret" --yes -o json --jq .AccountSid
}

export FUZZ_AGENCY_SID=$IMPACTCTL_ACCOUNT_SID FUZZ_AGENCY_TOKEN=$IMPACTCTL_AUTH_TOKEN
FUZZ_ADVERTISER_ID=$(get brands list -o json --jq '.[0].Id')
export FUZZ_ADVERTISER_ID FUZZ_BRAND_CONTACT
FUZZ_BRAND_CONTACT=$(get --brand "$FUZZ_ADVERTISER_ID" users list -o json --jq '.[0].Id')
export FUZZ_AGENCY_TARGET FUZZ_AGENCY_VICTIM FUZZ_PASS_TARGET FUZZ_PASS_VICTIM
FUZZ_AGENCY_TARGET=$(token agency-target)
FUZZ_AGENCY_VICTIM=$(token agency-victim)
FUZZ_PASS_TARGET=$(token passthrough-target --brand "$FUZZ_ADVERTISER_ID")
FUZZ_PASS_VICTIM=$(token passthrough-victim --brand "$FUZZ_ADVERTISER_ID")
export FUZZ_BRAND_SID FUZZ_BRAND_TOKEN FUZZ_BRAND_TARGET FUZZ_BRAND_VICTIM
FUZZ_BRAND_SID=$(get --brand "$FUZZ_ADVERTISER_ID" tokens list --name admin -o json --jq '.[0].AccountSid')
FUZZ_BRAND_TOKEN=$(get --brand "$FUZZ_ADVERTISER_ID" tokens show "$FUZZ_BRAND_SID" --reveal -o json --jq .AuthToken)
IMPACTCTL_ACCOUNT_SID=$FUZZ_BRAND_SID IMPACTCTL_AUTH_TOKEN=$FUZZ_BRAND_TOKEN
FUZZ_BRAND_TARGET=$(token brand-target)
FUZZ_BRAND_VICTIM=$(token brand-victim)

# Portman writes the collection; the configuration (holding the run's secrets)
# stays in the work directory.
(umask 077 && NODE_PATH="$bin/.." node api/tools/fuzz-config.cjs api/openapi.yaml >"$work/portman-config.json")
# Portman keeps its scratch files in the current directory: the work directory.
echo "fuzz: portman writes the requests" >&2
spec=$PWD/api/openapi.yaml
(cd "$work" && "$bin/portman" --local "$spec" --baseUrl "$url" --portmanConfigFile portman-config.json \
  --output collection.json >portman.log 2>&1) || fail "portman failed"

# Newman sends it (api/tools/fuzz-report.cjs runs it and sums it up).
echo "fuzz: newman sends them" >&2
NODE_PATH="$bin/.." node api/tools/fuzz-report.cjs "$work/collection.json"
