#!/usr/bin/env bash
# Cross-compiles shmkit for Windows with mingw-w64 and runs the whole test
# suite under Wine. Re-runnable: the build and the Wine prefix live in
# build/mingw-wine and are reused. Installs nothing (ci/test.sh does that).
# Extra arguments go to ctest, e.g. ci/test-wine.sh -R win32
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build/mingw-wine

cmake --preset mingw-wine >/dev/null
cmake --build "$build_dir"

# One private prefix: Wine's named objects live per prefix, so nothing here
# can see or disturb another Wine session on the machine.
export WINEPREFIX="$PWD/$build_dir/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="  # no Mono / Gecko installer prompts
export WINEARCH=win64
mkdir -p "$WINEPREFIX"

# wineserver would exit 3 s after its last client, so a segment created by
# one test process could vanish between tests; -p keeps it up until -k.
stop_server() { wineserver -k 2>/dev/null || true; }
stop_server  # left over from an interrupted run: `wineserver -p` fails while one runs
trap stop_server EXIT
wineserver -p
# Creates the prefix on the first run, updates it on later ones; returns when
# the prefix is ready.
wineboot --init

ctest --test-dir "$build_dir" -j2 --output-on-failure "$@"
