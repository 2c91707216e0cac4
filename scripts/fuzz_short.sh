#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs
# each for a short time (FUZZ_SECONDS, default 10, what CI runs) from its
# checked-in seed corpus. The short CI form; scripts/reliability.sh runs the
# long one.
# scripts/setup.sh installs clang and libFuzzer, so a missing one is a
# failure (exit 1), not a skip; FUZZ_ALLOW_SKIP=1 turns it into a skip
# (exit 0, with a message) on a machine that was not set up that way.
# FUZZ_MERGE=1 grows the checked-in corpus: after a clean run, the old
# corpus and what the run found are minimized together (-merge=1) and cut to
# a byte budget (FUZZ_CORPUS_BYTES per target, default 350000; greedy on
# coverage edges and features per byte, tests/fuzz/pick_corpus.py) into
# tests/fuzz/corpus/<target>/, to be committed. ctest FuzzCorpus.<target>
# replays that corpus in every build (tests/fuzz/CMakeLists.txt).
#   scripts/fuzz_short.sh                 every target, 10 s each
#   FUZZ_SECONDS=60 scripts/fuzz_short.sh db_open_fuzz
#   FUZZ_MERGE=1 FUZZ_SECONDS=180 nice scripts/fuzz_short.sh   grow the corpus
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-10}"
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(shell_parse_fuzz wal_reader_fuzz db_open_fuzz)

missing() {
  if [ "${FUZZ_ALLOW_SKIP:-0}" = 1 ]; then
    echo "fuzz: SKIPPED: $1"
    exit 0
  fi
  echo "fuzz: FAILED: $1 (scripts/setup.sh installs it; FUZZ_ALLOW_SKIP=1 to skip)" >&2
  exit 1
}
command -v clang++ >/dev/null || missing "clang++ not found (apt-get install clang libclang-rt-dev)"
echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
  clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null ||
  missing "clang++ cannot link -fsanitize=fuzzer (install libclang-rt-<version>-dev)"

CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DRINGDB_FUZZ=ON \
  -DRINGDB_SANITIZE=address,undefined -DRINGDB_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON >/dev/null
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
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
      corpus="$ROOT/tests/fuzz/corpus/$t"
      mkdir -p "$work/merged"
      "$BUILD/tests/fuzz/$t" -merge=1 -max_len="$max_len" -rss_limit_mb=4096 \
        -merge_control_file="$work/merge.ctl" "$work/merged" "$corpus" "$work/corpus" \
        >"$work/merge.log" 2>&1 || { echo "fuzz $t: merge failed, see $work" >&2; exit 1; }
      python3 "$ROOT/tests/fuzz/pick_corpus.py" "$work/merge.ctl" \
        "${FUZZ_CORPUS_BYTES:-350000}" >"$work/chosen" || { echo "fuzz $t: nothing picked" >&2; exit 1; }
      mkdir -p "$work/new"
      while IFS= read -r f; do cp "$f" "$work/new/"; done <"$work/chosen"
      rm -rf "$corpus" && mv "$work/new" "$corpus"
      echo "fuzz $t: corpus now $(ls "$corpus" | wc -l) files, $(cat "$corpus"/* | wc -c) bytes"
    fi
    rm -rf "$work"
  else
    echo "fuzz $t: FAILED; log and crashing input kept in $work:"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -20 || tail -30 "$log"
    status=1
  fi
done
exit $status
