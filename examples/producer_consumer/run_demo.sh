#!/usr/bin/env bash
# A producer crashes and is restarted; the consumer sees the generations.
# Usage: run_demo.sh BIN_DIR [NAME]   (used by ci/demo.sh and by ctest)
set -euo pipefail
bin=$1
name=${2:-ring-$$}
out=$(mktemp)
trap 'rm -f "$out"; "$bin/producer_consumer" remove "$name" || true' EXIT

# The first producer starts before any consumer and crashes after 3 messages.
"$bin/producer_consumer" produce "$name" 3 crash || true
# The consumer starts on a ring whose producer is dead: it reads the 3
# leftovers, then waits for the restarted producer instead of failing.
"$bin/producer_consumer" consume "$name" 5 >"$out" &
consumer=$!
"$bin/producer_consumer" produce "$name" 2
wait "$consumer"
cat "$out"
grep -q "consumer: \[generation 1, its producer is gone\] message 2 of generation 1" "$out" ||
  { echo "missing: generation 1's leftovers" >&2; exit 1; }
grep -q "consumer: \[generation 2.*\] message 1 of generation 2" "$out" ||
  { echo "missing: generation 2's messages" >&2; exit 1; }
