#!/usr/bin/env bash
# Lints the project's GitHub Actions workflows, the rotation recipe in
# docs/ci, and (through `uses: ./` in ci.yml) the action itself, with
# actionlint, installed from the Go module proxy into a tools cache.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${IMPACTCTL_TOOLS:-$HOME/.cache/impactctl-tools}
if [ ! -x "$tools/actionlint" ]; then
  GOBIN=$tools go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
fi
"$tools/actionlint" .github/workflows/*.yml docs/ci/github-rotate-token.yml
echo "actionlint: the workflows, the recipe and the action are clean"
