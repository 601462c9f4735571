#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, fuzz/), replays the inputs
# in fuzz/regressions/TARGET/, then fuzzes every target for a bounded time.
# A crash, a sanitizer report, an exception or a wait past its deadline fails
# the run; the input that caused it is left in build/logs/fuzz/.
#
# Usage: ci/fuzz.sh [TOTAL_SECONDS (56)] [BUILD_DIR (build/fuzz)]
#   SHMKIT_FUZZ_JOBS=N   targets fuzzed side by side (default: twice the core
#                        count, as an iteration spends most of its time in
#                        1 ms waits and system calls); the targets run in
#                        rounds of N, and each gets TOTAL_SECONDS / rounds
#                        seconds, so the fuzzing takes TOTAL_SECONDS however
#                        many targets there are.
#   SHMKIT_FUZZ_TARGETS="ring queue"   only these.
# Ends with "fuzz: N passed, N failed" (one per target).
set -euo pipefail
cd "$(dirname "$0")/.."

total_seconds=${1:-56}
build_dir=${2:-build/fuzz}
log_dir=build/logs/fuzz
read -r -a targets <<<"${SHMKIT_FUZZ_TARGETS:-segment mutex event semaphore ring channel server queue topic process_mutex managed}"
jobs=${SHMKIT_FUZZ_JOBS:-$((2 * $(nproc 2>/dev/null || echo 1)))}
[ "$jobs" -ge 1 ] || jobs=1
[ "$jobs" -le ${#targets[@]} ] || jobs=${#targets[@]}
rounds=$(( (${#targets[@]} + jobs - 1) / jobs ))
per_target=$(( total_seconds / rounds ))
[ "$per_target" -ge 1 ] || per_target=1

mkdir -p "$log_dir"
rm -f "$log_dir"/*.result

started=$(date +%s)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSHMKIT_WARNINGS_AS_ERRORS=ON -DSHMKIT_BUILD_FUZZERS=ON \
  -DSHMKIT_BUILD_TESTS=OFF -DSHMKIT_BUILD_EXAMPLES=OFF -DSHMKIT_BUILD_BENCHMARKS=OFF \
  -DSHMKIT_BUILD_TOOLS=OFF -DSHMKIT_INSTALL=OFF >/dev/null
cmake --build "$build_dir" --target fuzzers
built=$(date +%s)

# fuzz_one TARGET: replays its regressions, then fuzzes it; writes
# $log_dir/TARGET.result as "STATUS EXECUTIONS".
fuzz_one() {
  local target=$1
  local binary="$build_dir/fuzz/fuzz_$target"
  local log="$log_dir/$target.log"
  local corpus="$build_dir/corpus/$target"
  local status=0 pid
  mkdir -p "$corpus"
  : >"$log"
  local regressions=(fuzz/regressions/"$target"/*)
  if [ -e "${regressions[0]}" ]; then
    echo "== replaying ${#regressions[@]} regression inputs" >>"$log"
    "$binary" -artifact_prefix="$log_dir/$target-regression-" "${regressions[@]}" >>"$log" 2>&1 &
    pid=$!
    wait "$pid" || status=$?
    # A process that crashed leaves its objects behind: "fz<tag><pid in hex>-<n>".
    rm -f /dev/shm/fz?"$(printf %x "$pid")"-*
  fi
  if [ "$status" -eq 0 ]; then
    echo "== fuzzing for $per_target s" >>"$log"
    "$binary" -max_total_time="$per_target" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$log_dir/$target-" "$corpus" >>"$log" 2>&1 &
    pid=$!
    wait "$pid" || status=$?
    rm -f /dev/shm/fz?"$(printf %x "$pid")"-*
  fi
  local executions
  executions=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{s += $2} END {print s + 0}' || true)
  echo "$status $executions" >"$log_dir/$target.result"
}

running=0
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

passed=0
failed=0
executions=0
for target in "${targets[@]}"; do
  read -r status count <"$log_dir/$target.result" || { status=1; count=0; }
  executions=$((executions + count))
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    printf 'fuzz %-9s %8d executions, ok\n' "$target" "$count"
  else
    failed=$((failed + 1))
    printf 'fuzz %-9s %8d executions, FAILED (exit %d): see %s\n' "$target" "$count" "$status" \
      "$log_dir/$target.log"
    grep -E '^fuzz: |ERROR: |SUMMARY: ' "$log_dir/$target.log" | head -5 | sed 's/^/    /' || true
    ls "$log_dir/$target"-*crash-* "$log_dir/$target"-*timeout-* "$log_dir/$target"-*oom-* \
      2>/dev/null | sed 's/^/    input: /' || true
  fi
done
finished=$(date +%s)
echo "fuzz: $executions executions over ${#targets[@]} targets (${per_target} s each, $jobs at a time);" \
  "build $((built - started)) s, fuzzing $((finished - built)) s"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
