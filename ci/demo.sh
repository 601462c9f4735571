#!/usr/bin/env bash
# The README's demo: two processes share one named segment.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh cmake ninja-build g++
cmake --preset demo >/dev/null
cmake --build --preset demo --target quickstart owner_death shmkit_cli >/dev/null

quickstart=build/demo/examples/quickstart
shmkit=build/demo/tools/shmkit
name="demo-$$"
echo "== two processes, one segment called '$name' =="
"$quickstart" write "$name" "Hello from process $$ via shared memory" &
writer=$!
# The writer waits for a reader, so the segment is there to be listed.
for _ in $(seq 200); do "$shmkit" info "$name" >/dev/null 2>&1 && break; sleep 0.05; done
echo "== shmkit list, while the writer waits for a reader =="
"$shmkit" list --prefix "$name"
"$quickstart" read "$name"
wait "$writer"
echo "== done: the segment is removed =="
echo
echo "== a process dies holding a NamedMutex; the next one is told and repairs =="
build/demo/examples/owner_death crash "acct-$$" || true
build/demo/examples/owner_death recover "acct-$$"
