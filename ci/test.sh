#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs
# every suite: Linux (warnings as errors), Linux under ASan+UBSan, the
# portable POSIX path (what Cygwin and macOS run), and Win32 under Wine.
# Ends with one summary line over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-deps.sh cmake ninja-build g++ pkg-config doctest-dev libbenchmark-dev python3-yaml \
  g++-mingw-w64-x86-64-posix wine wine64

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
run_suite asan sanitizers
run_suite portable portable
run_suite wine ci/test-wine.sh

echo
echo "== summary =="
[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "ctest: $passed passed, $failed failed"
[ ${#failures[@]} -eq 0 ]
