#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs
# each for a short time (FUZZ_SECONDS, default 20) from its checked-in seed
# corpus. The short CI form; scripts/reliability.sh runs the long one.
# Skips (exit 0, with a message) when clang or libFuzzer is missing.
#   scripts/fuzz_short.sh                 every target, 20 s each
#   FUZZ_SECONDS=60 scripts/fuzz_short.sh db_open_fuzz
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(shell_parse_fuzz wal_reader_fuzz db_open_fuzz)

if ! command -v clang++ >/dev/null; then
  echo "fuzz: SKIPPED: clang++ not found (apt-get install clang libclang-rt-dev)"
  exit 0
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz: SKIPPED: clang++ cannot link -fsanitize=fuzzer (install libclang-rt-<version>-dev)"
  exit 0
fi

CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DRINGDB_FUZZ=ON \
  -DRINGDB_SANITIZE=address,undefined -DRINGDB_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target "${TARGETS[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${TARGETS[@]}"; do
  work="$BUILD/fuzz-work/$t"
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  cp "$ROOT/tests/fuzz/corpus/$t/"* "$work/corpus/"
  max_len=4096
  [ "$t" = db_open_fuzz ] && max_len=65536
  [ "$t" = wal_reader_fuzz ] && max_len=16384
  log="$work/fuzz.log"
  if "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len="$max_len" \
       -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
       -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 || true)
    echo "fuzz $t: OK (${runs:-no run count}, ${SECONDS_PER_TARGET} s)"
    rm -rf "$work"
  else
    echo "fuzz $t: FAILED; log and crashing input kept in $work:"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -20 || tail -30 "$log"
    status=1
  fi
done
exit $status
