#!/usr/bin/env bash
# Runs the kill -9 soak (tests/soak/) from a Linux build directory.
# Usage: ci/soak.sh [BUILD_DIR (build/ci)] [SECONDS (60)] [extra shmkit_soak arguments...]
# Ends with "soak: N passed, N failed" (one per scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/ci}
seconds=${2:-60}
shift $(( $# > 2 ? 2 : $# ))
binary="$build_dir/tests/shmkit_soak"
[ -x "$binary" ] || cmake --build "$build_dir" --target shmkit_soak
status=0
output=$("$binary" --seconds "$seconds" "$@" 2>&1) || status=$?
echo "$output"
passed=$(grep -cE '^soak [a-z]+ .*: ok$' <<<"$output" || true)
failed=$(grep -cE '^soak [a-z]+ .*: FAILED$' <<<"$output" || true)
# A driver that died before printing its scenarios is one failure.
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "soak: $passed passed, $failed failed"
[ "$status" -eq 0 ]
