#!/usr/bin/env bash
# Checks the real server's traffic against api/openapi.yaml with a validator no
# one here wrote: Prism's validation proxy stands between the real CLI (and curl,
# for what the CLI never asks) and `impactctl serve --demo`, and an ordinary run
# of valid requests under each root (agency, brand, an agency's passthrough to a
# managed brand) touches every operation of the contract. Prism's log then must
# show no violation, and every operation touched (api/tools/report.cjs).
#
# Bad input and hostile requests stay out: they break the contract on purpose.
# The one error answer here is a plain 404, which must itself match.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(api/tools/install.sh)
HARNESS=conformance HARNESS_LOGS="cli.err server.log prism.log"
source api/tools/harness.sh

go build -o "$work/impactctl" ./cmd/impactctl

# The server, default rate limits on, so their headers are checked too.
"$work/impactctl" serve --demo --db "$work/demo.db" --addr 127.0.0.1:0 \
  --ready-file "$work/ready.json" 2>"$work/server.log" &
pids+=($!)
wait_for "$work/ready.json" AuthToken
ready() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
upstream=$(ready Url)

# Prism without --errors: it forwards everything and logs each violation.
"$bin/prism" proxy --host 127.0.0.1 --port 0 api/openapi.yaml "$upstream" >"$work/prism.log" 2>&1 &
pids+=($!)
wait_for "$work/prism.log" "Prism is listening on"
proxy=$(sed -n 's/.*Prism is listening on \(http:[^ ]*\).*/\1/p' "$work/prism.log" | tail -n 1)

# The CLI: environment credentials through the proxy, no prompts, nothing of the user's.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^IMPACTCTL_' || true)
export HOME=$work XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data CI=true
export IMPACTCTL_CONFIG=$work/config.yaml IMPACTCTL_API_URL=$proxy
export IMPACTCTL_ACCOUNT_SID IMPACTCTL_AUTH_TOKEN
IMPACTCTL_ACCOUNT_SID=$(ready AccountSid)
IMPACTCTL_AUTH_TOKEN=$(ready AuthToken)
agency=$IMPACTCTL_ACCOUNT_SID
root=() # global flags naming the root: none, or --brand ID

# run ARGS: impactctl under the current root, which must succeed; stdout kept aside.
run() {
  "$work/impactctl" "${root[@]}" "$@" >>"$work/cli.out" 2>>"$work/cli.err" || fail "impactctl $* failed"
}
# get ARGS: as run, printing stdout.
get() {
  "$work/impactctl" "${root[@]}" "$@" 2>>"$work/cli.err" || fail "impactctl $* failed"
}

# exercise LABEL LOW: every token operation under the current root, on tokens it
# makes (LOW is the kind's lowest API version); the demo's own tokens only read.
exercise() {
  local label=$1 low=$2 user a b c
  echo "conformance: $label root"
  run auth status
  run account show
  run users list
  user=$(get users list --limit 1 -o json --jq '.[0].Id')
  run scopes list
  run tokens list
  run tokens list --state enabled --name a --created-after 2000-01-01 --created-before 2100-01-01 \
    --unused-for 1d --not-reset-for 1d --page-size 2 --limit 5
  a=$(get tokens create --name "Conformance $label" --description "Made by the conformance run" \
    --api-version "$low" --scope reports.read --developer-email dev@example.com \
    --primary-contact "$user" --secret-file "$work/$label-a.secret" --yes -o json --jq .AccountSid)
  b=$(get tokens create --from "$a" --name "Conformance $label copy" \
    --secret-file "$work/$label-b.secret" --yes -o json --jq .AccountSid)
  c=$(get tokens create --name "Conformance $label bulk" \
    --secret-file "$work/$label-c.secret" --yes -o json --jq .AccountSid)
  run tokens show "$a"
  run tokens show "$a" --reveal
  run tokens edit "$a" --name "Conformance $label edited" --description "" --api-version latest \
    --primary-contact "" --yes
  run scopes set "$a" 'reports.*' --yes
  run scopes clear "$a" --yes
  run contacts add "$a" ops@example.com --yes
  run contacts remove "$a" dev@example.com --yes
  run contacts list "$a"
  # One token goes through its own endpoints, two through the bulk ones.
  run tokens disable "$a" --yes
  run tokens enable "$a" --yes
  run tokens reset "$a" --secret-file "$work/$label-a.secret" --yes
  run tokens edit "$a" --expires-in 90d --yes
  run tokens list --expiring-within 100d
  run tokens reset "$a" --overlap 1h --secret-file "$work/$label-a.secret" --yes
  run tokens end-overlap "$a" --yes
  run tokens disable "$b" "$c" --yes
  run tokens enable "$b" "$c" --yes
  mkdir -m 700 "$work/$label-secrets"
  run tokens reset "$b" "$c" --secret-dir "$work/$label-secrets" --yes
  run tokens rotate "$b" "$c" --overlap 1h --expires-in 30d --secret-dir "$work/$label-secrets" --yes
  run tokens delete "$a" --yes
  run tokens delete "$b" "$c" --yes
  # The events of all that: a deleted token's history, and the account's.
  run tokens history "$a"
  run audit list --type deleted --since 1d -o json
  deleted=$a
}

# The agency's own root, and what only it has.
exercise agency 2
run brands list
brand=$(get brands list -o json --jq '.[0].Id')
curl -fsS -u "$IMPACTCTL_ACCOUNT_SID:$IMPACTCTL_AUTH_TOKEN" -H 'Accept: application/json' \
  "$proxy/Agencies/$agency/Advertisers/$brand" >>"$work/cli.out" || fail "GET Advertisers/$brand failed"
# The ordinary error answer: the token just deleted is not found (exit 6).
status=0
"$work/impactctl" tokens show "$deleted" >/dev/null 2>>"$work/cli.err" || status=$?
[ "$status" = 6 ] || fail "tokens show of a deleted token exited $status, want 6"

# The agency's passthrough to the brand.
root=(--brand "$brand")
exercise passthrough 11

# The brand's own root, with the brand admin's credentials read through the passthrough.
brand_admin=$(get tokens list --name admin -o json --jq '.[0].AccountSid')
brand_secret=$(get tokens show "$brand_admin" --reveal -o json --jq .AuthToken)
root=()
IMPACTCTL_ACCOUNT_SID=$brand_admin
IMPACTCTL_AUTH_TOKEN=$brand_secret
exercise brand 11

NODE_PATH="$bin/.." node api/tools/report.cjs api/openapi.yaml "$work/prism.log"
