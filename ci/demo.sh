#!/usr/bin/env bash
# The README's demo: processes sharing a segment, a mutex whose owner dies,
# the spooler (a server printing what its clients send) seen by `shmkit list`,
# a topic fanning 1 MiB frames out to three subscribers, and a registry in a
# managed segment whose writer is killed holding its lock.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh cmake ninja-build g++
cmake --preset demo >/dev/null
cmake --build --preset demo --target quickstart owner_death spooler_server spooler_client \
  producer_consumer frames shared_registry shmkit_cli >/dev/null
examples=build/demo/examples

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
"$examples/owner_death" hold "acct-$$" & holder=$!
"$examples/owner_death" wait-held "acct-$$" && kill -9 "$holder" && { wait "$holder" || echo "(kill -9 $holder)"; } 2>/dev/null
"$examples/owner_death" recover "acct-$$"
echo
echo "== a Ring, zero-copy: a producer crashes, a new one attaches (generation 2) =="
examples/producer_consumer/run_demo.sh "$examples" "ring-$$"
echo
echo "== the spooler: a server that prints what its clients send =="
spool="spool-$$"
"$examples/spooler_server" "$spool" 2 &
server=$!
(echo "hello from a slow client"; sleep 1; echo "its last line") |
  "$examples/spooler_client" "$spool" &
slow=$!
for _ in $(seq 200); do "$shmkit" info "$spool.00000" >/dev/null 2>&1 && break; sleep 0.05; done
echo "== shmkit list, while the spooler serves a client =="
"$shmkit" list --prefix "$spool"
"$examples/spooler_client" "$spool" "hello from a second client"
wait "$slow"
wait "$server"
echo
echo "== a topic: 1 MiB frames at 100 Hz to three subscribers, one of them slow =="
examples/frames/run_demo.sh "$examples" "frames-$$" "$shmkit"
echo
echo "== a registry in a managed segment: a writer killed holding its lock, the next repairs =="
examples/shared_registry/run_demo.sh "$examples" "registry-$$" "$shmkit"
