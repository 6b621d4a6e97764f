#!/usr/bin/env bash
# Installs the contract's third-party checkers at the versions package-lock.json
# pins (Spectral, Prism, yaml), once per lock file, under the user's cache, and
# prints the directory that holds their commands. Later runs reuse the install.
# With an argument, the set in that subdirectory instead (fuzz: Portman, Newman).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${1:-}" ]; then
  here=$here/$1
fi
sum=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/impactctl/api-tools
dir=$cache/$sum
if [ ! -f "$dir/.installed" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/package.json" "$here/package-lock.json" "$tmp/"
  echo "installing the contract checkers into $dir" >&2
  # --ignore-scripts: none of them needs an install script, and one would phone home.
  (cd "$tmp" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >&2)
  touch "$tmp/.installed"
  rm -rf "$dir"
  mv "$tmp" "$dir" || [ -f "$dir/.installed" ] # another run may have won the race
fi
echo "$dir/node_modules/.bin"
