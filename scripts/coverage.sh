#!/usr/bin/env bash
# Line and branch coverage of the library layers (engine/, bufferpool/,
# io/) by the test suite: builds with clang's source-based coverage in
# build-cov, runs ctest (COVERAGE_CTEST_ARGS to narrow it, e.g. "-E Stress"),
# and prints llvm-cov's totals for those folders (per-file table with
# COVERAGE_FILES=1). Not part of CI.
#   scripts/coverage.sh              this checkout
#   scripts/coverage.sh /path/to/src another checkout of ringdb (e.g. an
#                                    older commit, to compare)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$(cd "${1:-$HERE}" && pwd)"
BUILD="${COVERAGE_BUILD_DIR:-$SRC/build-cov}"
LLVM_COV="${LLVM_COV:-llvm-cov}"
LLVM_PROFDATA="${LLVM_PROFDATA:-llvm-profdata}"
for tool in clang++ "$LLVM_COV" "$LLVM_PROFDATA"; do
  command -v "$tool" >/dev/null || { echo "coverage: $tool not found (apt-get install clang llvm)" >&2; exit 1; }
done

flags="-fprofile-instr-generate -fcoverage-mapping"
CC=clang CXX=clang++ cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DRINGDB_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
nice cmake --build "$BUILD" -j"$(nproc)"

profiles="$BUILD/profiles"
rm -rf "$profiles" && mkdir -p "$profiles"
# %p: one file per process (the crash driver and shell tests start many);
# %m merges runs of the same binary.
# shellcheck disable=SC2086
(cd "$BUILD" && LLVM_PROFILE_FILE="$profiles/%p-%m.profraw" \
   ctest -j"$(nproc)" --timeout 1200 ${COVERAGE_CTEST_ARGS:-} >"$BUILD/ctest.log" 2>&1) ||
  echo "coverage: some tests failed (see $BUILD/ctest.log); coverage is of what ran"
"$LLVM_PROFDATA" merge -sparse "$profiles"/*.profraw -o "$BUILD/ringdb.profdata"

# Every binary that links the library contributes.
objects=()
while IFS= read -r exe; do objects+=(-object "$exe"); done < <(
  find "$BUILD" -type f -perm -u+x \( -name '*_tests' -o -name crash_driver -o -name ringdb_stress \
       -o -name ringdb -o -name make_fuzz_corpus \) | sort)
first="${objects[1]}"
rest=("${objects[@]:2}")

# totals LABEL DIR...: covered/total lines and branches of the files under DIRs.
totals() {
  local label="$1"; shift
  local files=()
  for d in "$@"; do
    while IFS= read -r f; do files+=("$f"); done < <(find "$SRC/$d" -name '*.cc' -o -name '*.h')
  done
  "$LLVM_COV" export -summary-only -instr-profile="$BUILD/ringdb.profdata" "$first" "${rest[@]}" \
      "${files[@]}" 2>/dev/null |
    python3 -c '
import json, sys
t = json.load(sys.stdin)["data"][0]["totals"]
l, b = t["lines"], t["branches"]
print("%-11s lines %6d/%-6d %6.1f%%   branches %6d/%-6d %6.1f%%" % (sys.argv[1],
      l["covered"], l["count"], l["percent"], b["covered"], b["count"], b["percent"]))
' "$label"
}

echo "== coverage of $SRC ($(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo "not a git checkout"))"
for dir in engine bufferpool io; do totals "$dir/" "$dir"; done
totals "all three" engine bufferpool io
if [ "${COVERAGE_FILES:-0}" = 1 ]; then
  files=()
  for d in engine bufferpool io; do
    while IFS= read -r f; do files+=("$f"); done < <(find "$SRC/$d" -name '*.cc')
  done
  "$LLVM_COV" report -instr-profile="$BUILD/ringdb.profdata" "$first" "${rest[@]}" "${files[@]}"
fi
