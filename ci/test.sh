#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
# every suite: Linux (warnings as errors), Linux under ASan+UBSan, the
# portable POSIX path (what Cygwin and macOS run), and Win32 under Wine; the
# README's install without doctest or Google Benchmark; then the kill -9
# soak on the Linux build and a bounded run of every fuzz target
# (docs/testing.md). Ends with one summary line over all of them (a soak
# scenario or a fuzz target counts as one test).
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh cmake make ninja-build g++ pkg-config doctest-dev libbenchmark-dev python3-yaml \
  g++-mingw-w64-x86-64-posix wine wine64 clang libclang-rt-dev libc++-dev libc++abi-dev libboost-dev

log_dir=build/logs
mkdir -p "$log_dir"
passed=0
failed=0
failures=()

# run_suite LABEL CONFIGURE-AND-TEST-COMMAND...: runs it, keeps ctest's summary.
run_suite() {
  local label=$1
  shift
  echo "== $label =="
  local status=0
  "$@" 2>&1 | tee "$log_dir/$label.log" || status=$?
  local summary
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log_dir/$label.log" | tail -1 || true)
  if [ -n "$summary" ]; then
    local total bad
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
    bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
  fi
  if [ "$status" -ne 0 ] || [ -z "$summary" ]; then
    failures+=("$label")
    [ -n "$summary" ] || failed=$((failed + 1))
  fi
}

# run_stage LABEL COMMAND...: a stage that ends with "NAME: N passed, N failed".
run_stage() {
  local label=$1
  shift
  echo "== $label =="
  local status=0 began=$SECONDS
  "$@" 2>&1 | tee "$log_dir/$label.log" || status=$?
  local summary
  summary=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed$' "$log_dir/$label.log" | tail -1 || true)
  if [ -n "$summary" ]; then
    passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$summary")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$summary")))
  else
    failed=$((failed + 1))
  fi
  [ "$status" -eq 0 ] && [ -n "$summary" ] || failures+=("$label")
  echo "$label took $((SECONDS - began)) s"
}

linux() {
  cmake --preset ci >/dev/null && cmake --build --preset ci && ctest --preset ci
}
sanitizers() {
  cmake --preset asan >/dev/null && cmake --build --preset asan && ctest --preset asan
}
portable() {
  cmake --preset portable >/dev/null && cmake --build --preset portable && ctest --preset portable
}

run_suite linux linux
run_stage readme-install ci/readme-install.sh
run_stage soak ci/soak.sh build/ci 60
run_suite asan sanitizers
run_suite portable portable
run_suite wine ci/test-wine.sh
run_stage fuzz ci/fuzz.sh 56 build/fuzz

echo
echo "== summary =="
[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "ctest: $passed passed, $failed failed"
[ ${#failures[@]} -eq 0 ]
