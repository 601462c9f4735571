#!/usr/bin/env bash
# 1 MiB frames at 100 Hz to three subscribers, one of them slow; `shmkit list`
# and `shmkit info` show the topic while it runs.
# Usage: run_demo.sh BIN_DIR [NAME|-] [SHMKIT]   (used by ci/demo.sh and by ctest)
set -euo pipefail
bin=$1
name=${2:--}
[[ $name != - ]] || name=frames-$$
shmkit=${3:-}
frames=200  # 2 s at 100 Hz
out=$(mktemp -d)
trap 'rm -rf "$out"; "$bin/frames" remove "$name" >/dev/null 2>&1 || true' EXIT

"$bin/frames" publish "$name" "$frames" 100 3 >"$out/publisher" &
publisher=$!
"$bin/frames" subscribe "$name" fast-1 >"$out/fast-1" &
one=$!
"$bin/frames" subscribe "$name" fast-2 >"$out/fast-2" &
two=$!
# 40 ms per frame: it can take 25 of the 100 frames a second.
"$bin/frames" subscribe "$name" slow 40 >"$out/slow" &
slow=$!

if [[ -n "$shmkit" ]]; then
  # Once the frames flow, half-way through the run.
  for _ in $(seq 400); do grep -q "publishing" "$out/publisher" && break; sleep 0.05; done
  sleep 1
  echo "== shmkit list, while the frames flow =="
  "$shmkit" list --prefix "$name"
  echo "== shmkit info $name =="
  "$shmkit" info "$name"
fi

status=0
for pid in "$publisher" "$one" "$two" "$slow"; do wait "$pid" || status=1; done
cat "$out/publisher" "$out/fast-1" "$out/fast-2" "$out/slow"
[[ $status -eq 0 ]] || { echo "a process failed" >&2; exit 1; }
# Every frame was received or counted as dropped, intact and in order; the
# slow subscriber dropped some (the fast ones, on an idle machine, none).
for who in fast-1 fast-2 slow; do
  line=$(grep "subscriber $who:" "$out/$who")
  [[ $line == *"every frame intact and in order"* ]] || { echo "$who: $line" >&2; exit 1; }
  received=$(sed -E 's/.*received ([0-9]+) frames.*/\1/' <<<"$line")
  dropped=$(sed -E 's/.*dropped ([0-9]+) .*/\1/' <<<"$line")
  ((received + dropped == frames)) || { echo "$who lost frames: $line" >&2; exit 1; }
  if [[ $who == slow ]] && ((dropped == 0)); then echo "slow dropped nothing" >&2; exit 1; fi
done
