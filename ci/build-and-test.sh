#!/usr/bin/env bash
# Configure, build and run ctest in one build directory; used by the GitHub
# workflows on every platform that has bash (Linux, macOS, Cygwin, MSYS2).
# Usage: ci/build-and-test.sh BUILD_DIR [extra cmake arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1
shift
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMKIT_BUILD_TESTS=ON \
  -DSHMKIT_WARNINGS_AS_ERRORS=ON "$@"
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j2
