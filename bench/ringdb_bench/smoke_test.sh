#!/usr/bin/env bash
# End-to-end checks of ringdb_bench's table and flags (ctest RingdbBench.*):
# output paths refused before the run, sizes with units, the found% / MB/s /
# p99.99 / max columns, the note for a read phase that found nothing, and a
# chart that leaves no .dat/.gp behind, --mrc and the memory table, and
# the compact phase with the disk column, fio's ceiling and the point reads
# set against it (when fio is installed). Runs ringdb (and RocksDB and LMDB
# where built in), a few thousand keys.
# Usage: smoke_test.sh PATH/TO/ringdb_bench
set -euo pipefail
bench="$1"
dir="$(mktemp -d /tmp/ringdb_bench_smoke.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
small=(--engines=ringdb --fio=false --duration=2 --num=2000 --cache_size=8MiB --db="$dir/db")

# Output paths are checked before anything runs.
if out=$("$bench" "${small[@]}" --benchmarks=fillrandom --json="$dir/no/such/dir/o.json" 2>&1); then
  fail "--json into a missing directory was accepted"
fi
grep -q "checked before the run" <<<"$out" || fail "no early --json error: $out"
grep -q "ops/s" <<<"$out" && fail "the run started before the --json check: $out"
mkdir "$dir/adir"
"$bench" "${small[@]}" --benchmarks=fillrandom --chart="$dir/adir" >/dev/null 2>&1 &&
  fail "--chart naming a directory was accepted"

# Sizes take units; nonsense is refused.
"$bench" "${small[@]}" --benchmarks=fillrandom --cache_size=lots >/dev/null 2>&1 &&
  fail "--cache_size=lots was accepted"

# A read on an empty database says so; after a fill it finds everything.
out=$("$bench" "${small[@]}" --benchmarks=readrandom,fillrandom,readrandom \
  --json="$dir/o.json" 2>&1)
header=$(grep -m1 '^workload' <<<"$out")
for col in "MB/s" "found%" "p99.99 us" "max us"; do
  grep -qF "$col" <<<"$header" || fail "no '$col' column: $header"
done
grep -q "NOTE: .*readrandom found none of the keys" <<<"$out" || fail "no empty-read note: $out"
found_col=$(awk '/^workload/ { for (i = 1; i <= NF; i++) if ($i == "found%") print i - 1 }' <<<"$out")
[ -n "$found_col" ] || fail "found% column not located"
# Rows: workload engine ops/s MB/s found% ... (the header's "p50 us" splits
# later, so found% is the 5th field of a row).
mapfile -t found < <(awk '$1 == "readrandom" { print $5 }' <<<"$out")
[ "${found[0]:-}" = "0.0" ] || fail "first readrandom found% is '${found[0]:-}', want 0.0: $out"
[ "${found[1]:-}" = "100.0" ] || fail "second readrandom found% is '${found[1]:-}', want 100.0"
grep -q '"p99.99"' "$dir/o.json" || fail "no p99.99 in the JSON"
grep -q '"user_mb_per_second"' "$dir/o.json" || fail "no user_mb_per_second in the JSON"

# The chart leaves only the PNG.
if command -v gnuplot >/dev/null 2>&1; then
  "$bench" "${small[@]}" --benchmarks=fillrandom --chart="$dir/c.png" >/dev/null 2>&1 ||
    fail "chart run failed"
  [ -s "$dir/c.png" ] || fail "no chart"
  [ ! -e "$dir/c.png.dat" ] && [ ! -e "$dir/c.png.gp" ] || fail "stray .dat/.gp next to the chart"
fi
# The header says how caches were warmed and whether deferred writes count.
grep -q "^warm-up before read phases (--warmup=read)" <<<"$out" || fail "no warm-up line: $out"
grep -q "^writes left in memory (--flush_writes=true)" <<<"$out" || fail "no flush line: $out"
"$bench" "${small[@]}" --benchmarks=readrandom --warmup=lukewarm >/dev/null 2>&1 &&
  fail "--warmup=lukewarm was accepted"

# fillrandom's WA counts the pages it left dirty (written by the flush after
# it) only with --flush_writes: more device bytes than without.
wr_of() { awk '$1 == "fillrandom" { print $15 }' <<<"$1"; }
with=$(wr_of "$("$bench" "${small[@]}" --benchmarks=fillrandom 2>&1)")
without=$(wr_of "$("$bench" "${small[@]}" --benchmarks=fillrandom --flush_writes=false 2>&1)")
awk -v a="$with" -v b="$without" 'BEGIN { exit !(a > b) }' ||
  fail "fillrandom wr MiB with the flush ($with) not above without it ($without)"

# --mrc: predicted beside measured per grid size, in the report, the JSON
# and a chart; the memory table for every row. A phase that writes, or one
# not in --benchmarks, is refused.
mrc=(--policies=lru --benchmarks=fillrandom,readrandom@disk --mrc=readrandom@disk --mrc_grid=0.5,1,2)
out=$("$bench" "${small[@]}" "${mrc[@]}" --json="$dir/m.json" 2>&1) || fail "--mrc run failed: $out"
grep -q "^Miss-ratio curve of ringdb.* on readrandom@disk" <<<"$out" || fail "no --mrc table: $out"
rows=$(awk '/^Miss-ratio curve/ { on = 1; next } on && $1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9.]+$/ { n++ }
            on && /^$/ { on = 0 } END { print n + 0 }' <<<"$out")
[ "$rows" = 3 ] || fail "--mrc table has $rows measured rows, want 3: $out"
grep -q '"predicted_miss_ratio"' "$dir/m.json" || fail "no predicted_miss_ratio in the JSON"
grep -q '"measured_miss_ratio": *[0-9]' "$dir/m.json" || fail "no measured_miss_ratio in the JSON"
grep -q "^Memory per engine row" <<<"$out" || fail "no memory table: $out"
grep -q '"total_bytes"' "$dir/m.json" || fail "no memory total in the JSON"
# The engine's statistics must not walk the tree (it would warm the pool
# before every phase and count in its hits, misses and curve).
grep -qE '"ringdb\.(btree\.fill[a-z-]*|estimate-num-keys)"' "$dir/m.json" &&
  fail "the bench read a property that walks the tree"
"$bench" "${small[@]}" --benchmarks=fillrandom --mrc=fillrandom >/dev/null 2>&1 &&
  fail "--mrc on a writing phase was accepted"
"$bench" "${small[@]}" --benchmarks=fillrandom --mrc=ycsbc >/dev/null 2>&1 &&
  fail "--mrc on a phase not in --benchmarks was accepted"
if command -v gnuplot >/dev/null 2>&1; then
  "$bench" "${small[@]}" "${mrc[@]}" --chart="$dir/m.png" >/dev/null 2>&1 || fail "--mrc chart run failed"
  [ -s "$dir/m-mrc.png" ] && [ -s "$dir/m-memory.png" ] || fail "no mrc or memory chart: $(ls "$dir")"
  [ -z "$(ls "$dir" | grep -E '\.(dat|gp)$')" ] || fail "stray .dat/.gp: $(ls "$dir")"
fi

# compact: one op, reported as its seconds and the disk space before and
# after (its progress line, a COMPACT note, the JSON), no ops/s or MB/s;
# every phase has its disk MiB (the last column). It changes no key: a
# readrandom after it finds what one without it finds.
compact_ok() {  # compact_ok ENGINE OUTPUT JSON
  grep -qE "^$1.* compact +: +[0-9.]+ s, disk [0-9.]+ -> [0-9.]+ MiB" <<<"$2" ||
    fail "no compact line for $1: $2"
  grep -qE "^  COMPACT: compact $1.* took [0-9.]+ s; disk [0-9.]+ -> [0-9.]+ MiB" <<<"$2" ||
    fail "no COMPACT note for $1: $2"
  awk -v e="$1" '$1 == "compact" && index($2, e) == 1 { print $3, $4; exit }' <<<"$2" |
    grep -qx -- "- -" || fail "compact row of $1 shows ops/s or MB/s: $2"
  grep -q '"maintenance": *true' "$3" || fail "no maintenance phase in the JSON of $1"
  grep -qE '"allocated_bytes_after": *[1-9]' "$3" || fail "no disk usage in the JSON of $1"
}
found_after() {  # found_after ENGINE [PHASE]: found% of a readrandom after deletes (and PHASE)
  "$bench" "${small[@]}" --engines="$1" \
    --benchmarks="fillrandom,deleterandom${2:+,$2},readrandom" 2>&1 |
    awk '$1 == "readrandom" && !n++ { print $5 }'  # the phase table's row, not the memory table's
}
out=$("$bench" "${small[@]}" --benchmarks=fillrandom,deleterandom,compact --json="$dir/c.json" 2>&1) ||
  fail "compact run failed: $out"
compact_ok ringdb "$out" "$dir/c.json"
grep -m1 '^workload' <<<"$out" | grep -q "disk MiB$" || fail "no disk MiB column: $out"
a=$(found_after ringdb compact) b=$(found_after ringdb)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "readrandom found $a% after compact, $b% without"
"$bench" "${small[@]}" --benchmarks=fillrandom,compact --mrc=compact >/dev/null 2>&1 &&
  fail "--mrc on compact was accepted"
# LMDB cannot compact in place: its phase is skipped, which is no error.
if out=$("$bench" "${small[@]}" --engines=lmdb --benchmarks=fillrandom,compact 2>&1); then
  grep -q "compact .*skipped.*no in-place compaction" <<<"$out" || fail "lmdb compact not skipped: $out"
else
  grep -q "built without LMDB" <<<"$out" || fail "lmdb compact run failed: $out"
fi

# fio's ceiling at the readers' own depth, and each point-read phase that
# read from the device set against it (reads/op, ceiling, share).
if command -v fio >/dev/null 2>&1; then
  out=$("$bench" --engines=ringdb --fio=true --fio_runtime=1 --threads=2 --duration=2 \
    --num=30000 --cache_size=16MiB --db="$dir/db" --benchmarks=fillrandom,readrandom@disk \
    --json="$dir/f.json" 2>&1) || fail "fio run failed: $out"
  grep -q "^fio randread 4k O_DIRECT io_uring 2 x QD1 *: *[0-9]* IOPS" <<<"$out" ||
    fail "no 2 x QD1 fio line: $out"
  grep -q "^Point reads against the device (fio 2 x QD1: [0-9]* IOPS)" <<<"$out" ||
    fail "no point-read ceiling table: $out"
  row=$(grep -E "^readrandom@disk +ringdb.* [0-9]+%$" <<<"$out") || fail "no ceiling row: $out"
  awk '{ if (!($4 > 0.5 && $4 < 2)) exit 1 }' <<<"$row" || fail "reads/op off: $row"
  grep -q '"jobs": *2' "$dir/f.json" || fail "no fio jobs in the JSON"
  [ ! -e "$dir/db/fio.randread.tmp" ] || fail "fio's file left behind"
fi

if "$bench" --helpshort 2>/dev/null | grep -q rocksdb; then
  out=$("$bench" "${small[@]}" --engines=rocksdb --benchmarks=fillrandom,deleterandom,compact \
    --json="$dir/c.json" 2>&1) || fail "rocksdb compact run failed: $out"
  compact_ok rocksdb "$out" "$dir/c.json"
  pair=(--engines=ringdb,rocksdb --fio=false --duration=5 --num=30000 --cache_size=16MiB
        --db="$dir/db" --benchmarks=fillrandom,readrandom)
  # Without a warm-up RocksDB's first read phase after the fill reads its
  # files while ringdb reads its pool: the ratio is marked. With the
  # default warm-up both start warm and it is not.
  out=$("$bench" "${pair[@]}" --warmup=none 2>&1)
  grep -q "readrandom: .*not like for like" <<<"$out" || fail "uneven reads not marked: $out"
  out=$("$bench" "${pair[@]}" 2>&1)
  grep -q "not like for like" <<<"$out" && fail "marked after an equal warm-up: $out"
  # The ratio chart beside the ops/s chart, no stray sources.
  if command -v gnuplot >/dev/null 2>&1; then
    "$bench" "${pair[@]}" --chart="$dir/r.png" >/dev/null 2>&1 || fail "ratio chart run failed"
    [ -s "$dir/r.png" ] && [ -s "$dir/r-ratio.png" ] || fail "no ratio chart"
    [ -z "$(ls "$dir" | grep -E '\.(dat|gp)$')" ] || fail "stray .dat/.gp: $(ls "$dir")"
  fi
fi
echo "ringdb_bench smoke: OK"
