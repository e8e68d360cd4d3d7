#!/usr/bin/env bash
# Runs every fuzz target in the module for a fixed time each.
# Usage: scripts/fuzz.sh [time per target, default 15s]
set -euo pipefail
cd "$(dirname "$0")/.."
per=${1:-15s}
total=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target for $per"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$per" "$pkg"
    total=$((total + 1))
  done
done
echo "fuzz: $total targets ran clean"
