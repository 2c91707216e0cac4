#!/usr/bin/env bash
# Sets up, builds and runs every test: the release build, the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer, the concurrency and
# crash tests under ThreadSanitizer, and a short libFuzzer run per target.
# The long forms are in scripts/reliability.sh (see tests/README.md).
#   scripts/test.sh            all of it (what CI runs)
#   RINGDB_FAST=1 scripts/test.sh   release build only
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
# One seed for every randomized run that reads it (the crash driver): printed
# here so a failure replays with RINGDB_SEED=<seed> scripts/test.sh.
export RINGDB_SEED="${RINGDB_SEED:-$(date +%s)}"
echo "== seed: RINGDB_SEED=$RINGDB_SEED"
# Stage headers carry the wall clock and the minutes since the start, so a
# slow CI run shows which stage took the time.
START=$SECONDS
stage() { echo "== $* [$(date -u +%T), $(( (SECONDS - START) / 60 )) min $(( (SECONDS - START) % 60 )) s in]"; }
PASSED=0  # tests run, summed over the stages (each stage stops the script on a failure)
count() { PASSED=$((PASSED + $(cd "$1" && ctest -N "${@:2}" | sed -n 's/^Total Tests: //p'))); }
# The release and ASan suites run one test more than there are cores: many
# of their tests wait on the device (a third of the machine sat idle during
# the release suite at -j2). On the 2-core VM, -j3 took the release suite
# from 184 to 163 s and ASan's from 312 to 274 s (single runs, not back to
# back), every test passing: the tests are written to pass on a loaded
# machine, and this keeps them honest about it. The TSan suite is bound by
# the CPU (TSan's checks): at -j3 its tests took 777 s in all against 487 s
# at -j2, and the stage ran longer, so it runs one test per core.
JOBS=$(( $(nproc) + 1 ))

stage "release build"
# A unity build (8 files per compile, as in the sanitizer stages below):
# 2 min 23 s instead of 5 min 49 s on a 2-core VM. A unity build can hide a
# source file's missing #include behind its neighbour's; a plain cmake
# build (one file per compile, CMake's default) still shows it.
ringdb_build build -DRINGDB_WERROR=ON -DCMAKE_UNITY_BUILD=ON
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900)
count build

stage "install, then build examples/hello.cc against the installed package"
prefix="$(mktemp -d)"
cmake --install build --prefix "$prefix" >/dev/null
cmake -S examples -B "$prefix/hello-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/hello-build" >/dev/null
"$prefix/hello-build/hello" | grep -qx "hello, world"
PYTHONPATH="$prefix/lib/python3/dist-packages" /usr/bin/python3 -c \
  'import ringdb, sys; sys.exit(0 if ringdb.version().startswith("ringdb ") else 1)'
# pkg-config: the C API's test program built with nothing but the .pc file.
PKG_CONFIG_PATH="$(dirname "$(find "$prefix" -name ringdb.pc | head -1)")"
export PKG_CONFIG_PATH
cc -std=c11 -o "$prefix/c_api_test" "$ROOT/tests/c/c_api_test.c" \
  $(pkg-config --cflags --libs ringdb) -Wl,-rpath,"$(pkg-config --variable=libdir ringdb)"
"$prefix/c_api_test" "$prefix/c_api_db"
unset PKG_CONFIG_PATH
rm -rf "$prefix" /tmp/hello.ringdb
echo "embedding example, pkg-config build of the C API test and installed Python package: OK"

stage "Python package (pytest, Debian's python3)"
RINGDB_LIBRARY="$ROOT/build/libringdb.so" PYTHONPATH="$ROOT/python" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/python/tests"
PASSED=$((PASSED + $(RINGDB_LIBRARY="$ROOT/build/libringdb.so" PYTHONPATH="$ROOT/python" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider --collect-only "$ROOT/python/tests" | grep -c '::')))

if [ "${RINGDB_FAST:-0}" != 1 ]; then
  stage "AddressSanitizer + UndefinedBehaviorSanitizer build"
  # Debug (assertions on) at -O1: the suite runs about twice as fast as at
  # -O0 and ASan still reports every access it checks. -g1 (line tables
  # only) is all a sanitizer's stack trace uses, and compiles faster than -g.
  # The sanitizer builds are unity builds too: the ASan build takes 216 s
  # instead of 407 s. The test sources build at -O0 (RINGDB_TEST_FLAGS_DEBUG,
  # tests/CMakeLists.txt), still under both sanitizers: they were 264 of the
  # build's 329 s of compiling at -O1 and take 109 s at -O0, while the suite
  # ran 139 s against 156 s (one run each, 2-core VM; the library stays -O1).
  ringdb_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O1" \
    -DCMAKE_C_FLAGS_DEBUG="-g1 -O1" -DRINGDB_SANITIZE=address,undefined \
    -DRINGDB_BUILD_BENCH=OFF -DRINGDB_WERROR=ON -DCMAKE_UNITY_BUILD=ON -DRINGDB_TEST_FLAGS_DEBUG=-O0
  # Under both sanitizers the power-cut tests run 20 cycles (the release
  # suite runs their default 60), and the ASan suite leaves out the tests
  # that check statistics (a predicted miss ratio, leaf fill after a load):
  # the release suite runs them, and their code runs under ASan in other
  # tests. CI had grown to 26 min 38 s on the 2-core VM (the aim is under
  # 25); with these and TSAN_SKIP below the next run took 21 min 24 s (ASan
  # tests 340 -> 248 s, TSan's 334 -> 201 s; part of it the VM, whose
  # unchanged release suite took 175 -> 171 s and ASan build 339 -> 296 s).
  # The suites parameterized over the I/O backend (Backends/...) run on
  # io_uring only here: their pread runs are in the release suite, and the
  # pread backend still runs under both sanitizers in the log, stress-matrix
  # and fault-backend tests. The full-disk test runs its two modes without
  # the reserved log space (manual and automatic resume), and the row
  # cache's race its LRU variant only (as under TSan). CI took 25 min 27 s
  # on the project's runner at c27494e (aim: under 25). On the 2-core VM
  # these took the ASan tests from 703 in 472 s (summed 1394 s) to 659 in
  # 354 s (summed 1042 s), and TSan's from 237 to 214 s; CI from 24 min 16 s
  # to 21 min 11 s. A parameterized test's ctest name goes on after its
  # own name with "  # GetParam() = ...", hence the patterns end in
  # "( |$)", not "$" (with "$" they had matched none of those).
  export RINGDB_POWERCUT_CYCLES=20
  ASAN_SKIP='^(CacheInsightTest\.PredictedMissRatioMatchesThePool|Zipf/MrcAccuracyTest\..*|BTreeFillTest\.(RandomLoadKeepsLeavesAboveEightyPercent|DeleteHeavyLoadKeepsLeavesFilled)|Backends/.*/(Pread|pread.*)|Modes/FullDiskTest\..*/(Resume|AutoResume)DefaultReserve|Policies/RowCacheConcurrencyTest\.GetsNeverSeeAReplacedValue/.(clock|s3fifo).)( |$)'
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$JOBS" --timeout 1200 -E "$ASAN_SKIP")
  count build-asan -E "$ASAN_SKIP"

  stage "ThreadSanitizer build: every multi-threaded test (ctest label concurrency)"
  ringdb_build build-tsan -DRINGDB_SANITIZE=thread -DRINGDB_BUILD_BENCH=OFF -DRINGDB_BUILD_TOOLS=OFF \
    -DRINGDB_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
  # Deadlock detection is on: frame latches are one atomic word per frame
  # (bufferpool/page_state.h), not mutexes reused across pages, so TSan's
  # lock-order graph holds only the engine's real mutexes. Data races are
  # always reported.
  TSAN_DETECT_DEADLOCKS="${TSAN_DETECT_DEADLOCKS:-1}"
  TSAN_OPTIONS_CI="detect_deadlocks=$TSAN_DETECT_DEADLOCKS halt_on_error=1 second_deadlock_stack=1"
  labelled=$(cd build-tsan && ctest -N -L concurrency | sed -n 's/^Total Tests: //p')
  if [ "${labelled:-0}" -lt 20 ]; then
    echo "TSan stage: only ${labelled:-0} tests carry the concurrency label; the labels are lost" >&2
    exit 1
  fi
  # Two tests repeat their race under every backend or pool policy; under
  # TSan they run one variant fewer each way (the stress matrix below still
  # crosses every backend, policy and pool size): the row cache's readers
  # and writers under the LRU pool only, MultiGet's concurrent writer over
  # io_uring and pread only.
  # The multi-threaded power-cut tests run over io_uring only (their
  # threads race in the engine, above the backend), and the full-disk
  # test's automatic resume without its reserve-space twin.
  TSAN_SKIP='^(Policies/RowCacheConcurrencyTest\.GetsNeverSeeAReplacedValue/.(clock|s3fifo).|Backends/BTreeMultiGetTest\.ConcurrentWriterBatchesAreSeenWhole/(buffered|fault_io_uring_)_.*|Backends/MultiThreadPowerCutTest\..*/Pread|Modes/FullDiskTest\..*/AutoResumeDefaultReserve)( |$)'
  (cd build-tsan && TSAN_OPTIONS="$TSAN_OPTIONS_CI" \
     ctest -L concurrency --output-on-failure -j"$(nproc)" --timeout 1200 -E "$TSAN_SKIP")
  count build-tsan -L concurrency -E "$TSAN_SKIP"

  stage "clang build of the library: the lock annotations checked (-Wthread-safety, -Werror)"
  # gcc ignores the annotations of util/thread_annotations.h; clang checks
  # them (CMakeLists.txt adds -Wthread-safety), and -Werror makes a broken
  # lock rule fail CI. The library alone, at -O0: 7 s in CI on the 2-core VM.
  CC=clang CXX=clang++ ringdb_build build-clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_UNITY_BUILD=ON \
    -DRINGDB_BUILD_TESTS=OFF -DRINGDB_BUILD_BENCH=OFF -DRINGDB_BUILD_TOOLS=OFF -DRINGDB_WERROR=ON

  stage "short fuzz run"
  bash scripts/fuzz_short.sh  # FUZZ_SECONDS per target, default 10
fi
stage "done"
echo "ringdb: $PASSED passed, 0 failed"
