#!/usr/bin/env bash
# Sets up, builds and runs every test: the release build, then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer.
#   scripts/test.sh            all of it (what CI runs)
#   RINGDB_FAST=1 scripts/test.sh   release build only
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

echo "== release build"
ringdb_build build
(cd build && ctest --output-on-failure -j2 --timeout 900)

echo "== install, then build examples/hello.cc against the installed package"
prefix="$(mktemp -d)"
cmake --install build --prefix "$prefix" >/dev/null
cmake -S examples -B "$prefix/hello-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/hello-build" >/dev/null
"$prefix/hello-build/hello" | grep -qx "hello, world"
rm -rf "$prefix" /tmp/hello.ringdb
echo "embedding example: OK"

if [ "${RINGDB_FAST:-0}" != 1 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
  ringdb_build build-asan -DCMAKE_BUILD_TYPE=Debug -DRINGDB_SANITIZE=address,undefined \
    -DRINGDB_BUILD_BENCH=OFF
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j2 --timeout 1200)
fi
