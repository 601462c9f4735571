#!/usr/bin/env bash
# The README's install command on a machine without doctest or Google
# Benchmark: configure, build and install must work, and the configure step
# must say once each what it skipped. The two frameworks are hidden with
# CMAKE_DISABLE_FIND_PACKAGE_<name> (cmake/Finddoctest.cmake honours it
# too), so nothing is uninstalled. Default generator and options, as the
# README has them; only the build and install folders are this script's.
# Ends with "readme-install: N passed, N failed" for ci/test.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build/readme-install
prefix=$PWD/$build/prefix
rm -rf "$build"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...
  if "${@:2}"; then
    passed=$((passed + 1))
  else
    echo "FAILED: $1"
    failed=$((failed + 1))
  fi
}
count_is() {  # count_is N PATTERN FILE
  [ "$(grep -c -- "$2" "$3")" -eq "$1" ]
}

mkdir -p "$build"
log=$build/configure.log
check "configure" bash -o pipefail -c "cmake -S . -B '$build' -DCMAKE_INSTALL_PREFIX='$prefix' \
  -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON | tee '$log'"
check "one message for the skipped tests" count_is 1 "doctest not found: the test suites are not built" "$log"
check "one message for the skipped benchmarks" count_is 1 "Google Benchmark not found: the benchmarks are not built" "$log"
check "build" cmake --build "$build"
check "install" cmake --install "$build"
for installed in include/shmkit/shmkit.hpp include/shmkit/export.hpp lib/libshmkit.a \
  lib/pkgconfig/shmkit.pc lib/cmake/shmkit/shmkitConfig.cmake lib/cmake/shmkit/shmkitConfigVersion.cmake \
  bin/shmkit; do
  check "installed $installed" test -e "$prefix/$installed"
done

echo "readme-install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
