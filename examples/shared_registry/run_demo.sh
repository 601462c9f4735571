#!/usr/bin/env bash
# Processes sharing a registry (a map from names to records in a managed
# segment): two writers at once, then a third killed half-way through a
# transfer while it holds the lock, a fourth that is told and repairs, and a
# reader that verifies everything; `shmkit info` shows the segment.
# Usage: run_demo.sh BIN_DIR [NAME|-] [SHMKIT]   (used by ci/demo.sh and by ctest)
set -euo pipefail
bin=$1
name=${2:--}
[[ $name != - ]] || name=registry-$$
shmkit=${3:-}
registry="$bin/shared_registry"
out=$(mktemp)
trap 'rm -f "$out"; "$registry" remove "$name" >/dev/null 2>&1 || true' EXIT

"$registry" create "$name"
echo "== two writers at once =="
"$registry" writer "$name" w1 400 & one=$!
"$registry" writer "$name" w2 400 & two=$!
wait "$one"
wait "$two"
echo "== w3 is killed half-way through its 150th transfer, holding the lock =="
"$registry" writer "$name" w3 400 150 & victim=$!
"$registry" wait-stalled "$name"
# w4 starts while w3 holds the lock: it waits for it, or finds it dead.
"$registry" writer "$name" w4 400 & next=$!
echo "== kill -9 w3 =="
kill -9 "$victim"
{ wait "$victim" && { echo "w3 was not killed" >&2; exit 1; }; } 2>/dev/null
wait "$next"
if [[ -n "$shmkit" ]]; then
  echo "== shmkit info $name (nobody maps it between steps: it counts as stale) =="
  "$shmkit" info "$name"
fi
echo "== a reader prints and verifies the registry =="
"$registry" show "$name" | tee "$out"
# w1 and w2 400 each, w3 149 (its 150th rolled back), w4 400.
grep -q " 1349 transfers" "$out" || { echo "expected 1349 committed transfers" >&2; exit 1; }
