#!/usr/bin/env bash
# The long forms of the reliability suites (tests/README.md):
#   1. the SIGKILL crash test: CRASH_CYCLES cycles (default 2000) of
#      crash_driver, in a release build (build-stress);
#   2. the corruption and concurrency stress tests, REPEAT times (default 20)
#      with fresh seeds for the concurrency part;
#   3. every multi-threaded test (ctest label concurrency) under
#      ThreadSanitizer (build-tsan);
#   4. every fuzz target for FUZZ_SECONDS (default 600) each (build-fuzz).
# Select parts with RELIABILITY_PARTS (default "crash stress tsan fuzz").
# Everything runs with -j2 and keeps its files under /tmp and the build dirs.
#   CRASH_CYCLES=200 FUZZ_SECONDS=60 scripts/reliability.sh
#   RELIABILITY_PARTS=crash CRASH_SEED=1234 scripts/reliability.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARTS="${RELIABILITY_PARTS:-crash stress tsan fuzz}"
CRASH_CYCLES="${CRASH_CYCLES:-2000}"
CRASH_THREADS="${CRASH_THREADS:-4}"
CRASH_SEED="${CRASH_SEED:-${RINGDB_SEED:-$(date +%s)}}"
# CRASH_NO_SYNC=1 (the default) adds a second crash run that requires every acknowledged
# write to survive, sync or not (the process-crash promise of sync = false).
CRASH_NO_SYNC="${CRASH_NO_SYNC:-1}"
REPEAT="${REPEAT:-20}"
# Milliseconds each stress-matrix cell runs (tests/stress/stress_matrix_test.cc).
export RINGDB_STRESS_MS="${RINGDB_STRESS_MS:-2000}"
FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
cd "$ROOT"
status=0

want() { [[ " $PARTS " == *" $1 "* ]]; }

if want crash || want stress; then
  echo "== release build (build-stress)"
  cmake -S "$ROOT" -B build-stress -G Ninja -DRINGDB_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-stress -j2 --target crash_driver ringdb_stress stress_tests
fi

if want crash; then
  echo "== crash test: $CRASH_CYCLES cycles, seed $CRASH_SEED"
  db="/tmp/ringdb_reliability_crash_$$"
  if ! build-stress/tests/stress/crash_driver --cycles "$CRASH_CYCLES" --seed "$CRASH_SEED" \
         --threads "$CRASH_THREADS" --kill_min_ms "${CRASH_KILL_MIN_MS:-20}" \
         --kill_max_ms "${CRASH_KILL_MAX_MS:-3000}" --db "$db"; then
    echo "crash test FAILED (database and journals kept, see above)"
    status=1
  fi
  if [ "$CRASH_NO_SYNC" = 1 ]; then
    echo "== crash test, --no_sync: $CRASH_CYCLES cycles, seed $CRASH_SEED"
    if ! build-stress/tests/stress/crash_driver --cycles "$CRASH_CYCLES" --seed "$CRASH_SEED" \
           --threads "$CRASH_THREADS" --kill_min_ms "${CRASH_KILL_MIN_MS:-20}" \
           --kill_max_ms "${CRASH_KILL_MAX_MS:-3000}" --db "$db.nosync" --no_sync; then
      echo "crash test --no_sync FAILED (database and journals kept, see above)"
      status=1
    fi
  fi
fi

if want stress; then
  echo "== corruption + concurrency tests, $REPEAT repetitions"
  if ! build-stress/tests/stress/stress_tests --gtest_repeat="$REPEAT" --gtest_brief=1 \
         --gtest_filter="${STRESS_FILTER:-*}"; then
    status=1
  fi
fi

if want tsan; then
  echo "== ThreadSanitizer (build-tsan)"
  cmake -S "$ROOT" -B build-tsan -G Ninja -DRINGDB_SANITIZE=thread -DRINGDB_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-tsan -j2
  # Deadlock detection on (TSAN_DETECT_DEADLOCKS=0 turns it off); data races
  # are always reported.
  if ! (cd build-tsan && TSAN_OPTIONS="detect_deadlocks=${TSAN_DETECT_DEADLOCKS:-1} second_deadlock_stack=1" \
          ctest -L concurrency --output-on-failure --timeout 1200 --repeat until-fail:3); then
    status=1
  fi
fi

if want fuzz; then
  echo "== fuzzing, $FUZZ_SECONDS s per target"
  if ! FUZZ_SECONDS="$FUZZ_SECONDS" "$ROOT/scripts/fuzz_short.sh"; then
    status=1
  fi
fi

exit $status
