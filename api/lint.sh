#!/usr/bin/env bash
# Lints api/openapi.yaml with Spectral's OpenAPI ruleset (.spectral.yaml): any
# error or warning fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(api/tools/install.sh)
"$bin/spectral" --version
"$bin/spectral" lint --ruleset .spectral.yaml --fail-severity warn api/openapi.yaml
