#!/usr/bin/env bash
# Runs the spooler with two clients and checks that it printed what they sent.
# Usage: run_demo.sh BIN_DIR [NAME]   (used by ci/demo.sh and by ctest)
set -euo pipefail
bin=$1
name=${2:-spool-$$}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$bin/spooler_server" "$name" 3 >"$out" &
server=$!
"$bin/spooler_client" "$name" "hello from client A" "second line"
printf 'piped line one\npiped line two\n' | "$bin/spooler_client" "$name"
wait "$server"
cat "$out"
for line in "hello from client A" "second line" "piped line one" "piped line two"; do
  grep -q "spooler: $line" "$out" || { echo "missing: $line" >&2; exit 1; }
done
