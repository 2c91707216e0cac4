#include "flags.h"

#include "lmdb_engine.h"
#include "parse_size.h"

#include <gflags/gflags.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>

DEFINE_string(benchmarks,
              "fillseq,fillrandom,overwrite,fillsync,readrandom,multiget,readseq,seekrandom,"
              "readwhilewriting,ycsba,ycsbb,ycsbc,ycsbd,ycsbe,ycsbf,"
              "readrandom@disk,multiget@disk,seekrandom@disk,ycsbc@disk,deleterandom",
              "Comma-separated workloads, run in order on each engine. A name with the "
              "suffix @disk runs with the budget cut to (user data)/--mem_ratio, so the data "
              "is >= mem_ratio x the budget (the DB is reopened for it). Names: fillseq, "
              "fillrandom, overwrite, fillsync, readrandom, multiget, readseq, seekrandom, "
              "readwhilewriting, deleterandom, ycsba..ycsbf, and compact (not in the default: "
              "compacts the whole database once and reports its seconds and disk usage)");
DEFINE_string(engines, "ringdb,rocksdb,lmdb",
              "Engines to run, in order: ringdb, rocksdb, lmdb (lmdb: in-memory workloads only; "
              "left out of the default when the bench was built without LMDB)");
DEFINE_string(io_backends, "io_uring",
              "ringdb io backends to sweep: io_uring, pread, buffered (one row each)");
DEFINE_string(policies, "clock",
              "ringdb eviction policies to sweep: lru, clock, midpoint, sieve, s3fifo");
DEFINE_uint64(num, 200000, "Number of keys the fills write");
DEFINE_int64(reads, -1, "Operations of the read and YCSB workloads (-1: --num)");
DEFINE_int64(deletes, -1, "Operations of deleterandom (-1: --num / 10)");
DEFINE_int32(key_size, 16, "Key size in bytes (decimal digits, zero-padded)");
DEFINE_int32(value_size, 100, "Value size in bytes");
DEFINE_int32(threads, 1, "Threads of every workload but fillseq and fillsync");
DEFINE_int32(fillsync_threads, 4, "Writer threads of fillsync (group commit shows)");
DEFINE_string(cache_size, "64MiB",
              "Memory budget (bytes, or 64MiB, 1GiB, 512KiB, 100MB): ringdb "
              "buffer_pool_bytes = RocksDB block cache");
DEFINE_double(mem_ratio, 10, "Data / budget ratio of the @disk phases");
DEFINE_bool(sync, false, "WriteOptions::sync for every write (fillsync always syncs)");
DEFINE_int32(batch_size, 1, "Writes per WriteBatch in the fills");
DEFINE_int32(multiget_batch, 32, "Keys per MultiGet");
DEFINE_int32(seek_nexts, 100, "Next calls after each Seek of seekrandom");
DEFINE_string(db, "/tmp/ringdb_bench", "Directory for the databases (one subdirectory per engine)");
DEFINE_bool(keep, false, "Keep the databases after the run");
DEFINE_uint64(seed, 301, "Seed of every random choice (same for every engine)");
DEFINE_double(duration, 5, "Cap in seconds per workload (0: none)");
DEFINE_double(zipf_theta, 0.99, "Zipfian constant of the YCSB workloads");
DEFINE_bool(verify, true, "Check every value read against the value written");
DEFINE_bool(hold_snapshot, false,
            "Hold one snapshot of the database through each phase (taken before it starts, "
            "released after it ends): the cost of a long-lived snapshot for the writers");
DEFINE_string(json, "", "Write the results as JSON to this file");
DEFINE_string(chart, "", "Draw ops/s per workload and engine into this PNG (gnuplot)");
DEFINE_bool(progress, false, "Progress bar on stderr (default: on when stderr is a terminal)");
DEFINE_bool(fio, true, "Measure the device's 4 KiB O_DIRECT random-read IOPS with fio first");
DEFINE_double(fio_runtime, 5, "Seconds per fio job");
DEFINE_bool(rocksdb_buffered, false,
            "Run RocksDB through the page cache (no use_direct_reads / direct flush and "
            "compaction) to show the page cache growing");
DEFINE_string(rocksdb_write_buffer_size, "4MiB",
              "RocksDB write_buffer_size, as --cache_size (its memtables are memory on top "
              "of the budget)");
DEFINE_int32(rocksdb_max_write_buffer_number, 2, "RocksDB max_write_buffer_number");
DEFINE_string(rocksdb_index, "partitioned",
              "RocksDB index and filter blocks: partitioned = two-level index and partitioned "
              "filters, top level pinned, partitions cached at high priority (RocksDB's "
              "advice when they do not fit the cache, as in @disk phases); full = one index "
              "and one filter block per file, cached like data blocks");
DEFINE_string(ringdb_delete_buffer, "auto",
              "ringdb Options::delete_buffer_bytes: auto = its default (a quarter of the "
              "budget; deletes whose leaf is not cached wait there), or a size as "
              "--cache_size (0: every delete reads its leaf)");
DEFINE_string(ringdb_row_cache, "auto",
              "Share of the budget (0 to 0.9) given to ringdb's Options::row_cache_bytes, a "
              "cache of hot key-value pairs for Get; it is taken out of buffer_pool_bytes, so "
              "the budget stays the same (the delete buffer stays a quarter of the budget). "
              "auto (the default, as in ringdb's Options): Options::kAutoRowCacheBytes, the "
              "engine splits the budget between the pool and the row cache as the reads show");
DEFINE_double(rocksdb_row_cache, 0,
              "Share of the budget (0 to 0.9) given to RocksDB's row_cache (an LRU cache of "
              "key-value pairs for Get); it is taken out of the block cache");
DEFINE_string(warmup, "read",
              "How each engine's cache is prepared before a read phase, the same for every "
              "engine (untimed): read = one full scan of the keys before every in-memory read "
              "phase (@disk phases start from what the reopen and earlier phases left); cold = "
              "close and reopen the engine and drop its files from the page cache "
              "(posix_fadvise) before every read phase; none = nothing (each phase inherits "
              "the previous one's cache, which differs between engines)");
DEFINE_string(mrc, "",
              "Check ringdb's miss-ratio curve on this workload of --benchmarks (one that "
              "only reads, e.g. ycsbc@disk): it runs from a cold reopen without the "
              "--duration cap, records ringdb.cache.mrc, and is rerun cold at each "
              "--mrc_grid size; the report shows predicted against measured miss ratios "
              "(and --chart draws them into <chart>-mrc.png)");
DEFINE_string(mrc_grid, "0.25,0.5,1,2,4",
              "Pool sizes of the --mrc reruns, as factors of the phase's budget");
DEFINE_bool(flush_writes, true,
            "After each phase that writes, flush what it left in memory (ringdb: a "
            "checkpoint and the compaction its idle compactor would start; RocksDB: memtable flush and the compactions it starts; LMDB: "
            "mdb_env_sync), untimed, and count those device bytes in the phase's wr MiB and "
            "WA; false: they land in a later phase or at Close");

namespace ringdb_bench {
namespace {

int Fail(const std::string& why) {
  std::fprintf(stderr, "ringdb_bench: %s\n", why.c_str());
  return 1;
}

bool IsOurs(const gflags::CommandLineFlagInfo& info) {
  // librocksdb.so defines its tools' flags too; show and record ours only.
  return info.filename.find("ringdb_bench") != std::string::npos;
}

// gflags' --help would list every flag linked in, RocksDB's tools' among
// them; this lists ours.
void PrintHelp(const std::string& usage) {
  std::printf("%s\nFlags:\n", usage.c_str());
  std::vector<gflags::CommandLineFlagInfo> all;
  gflags::GetAllFlags(&all);
  for (const auto& i : all) {
    if (!IsOurs(i)) continue;
    std::printf("  --%s (%s) default: %s\n      %s\n", i.name.c_str(), i.type.c_str(),
                i.default_value.empty() ? "\"\"" : i.default_value.c_str(), i.description.c_str());
  }
}

}  // namespace

int ParseFlags(int* argc, char*** argv, BenchFlags* f) {
  std::string usage =
      "ringdb_bench [--flag=value ...]: ringdb, RocksDB and LMDB side by side.\nWorkloads:\n";
  for (const auto& [name, what] : WorkloadNames()) usage += "  " + name + ": " + what + "\n";
  for (int i = 1; i < *argc; i++) {
    const std::string a = (*argv)[i];
    if (a == "--help" || a == "-help" || a == "-h" || a == "--helpshort") {
      PrintHelp(usage);
      return 0;
    }
  }
  gflags::SetUsageMessage(usage);
  gflags::SetVersionString("0.1");
  gflags::ParseCommandLineFlags(argc, argv, true);

  f->benchmarks = SplitList(FLAGS_benchmarks);
  f->engines = SplitList(FLAGS_engines);
  f->io_backends = SplitList(FLAGS_io_backends);
  f->policies = SplitList(FLAGS_policies);
  if (f->benchmarks.empty()) return Fail("--benchmarks is empty");
  gflags::CommandLineFlagInfo engines_info;
  const bool engines_default =
      gflags::GetCommandLineFlagInfo("engines", &engines_info) && engines_info.is_default;
  if (!HaveLmdb() && engines_default) {
    std::erase(f->engines, std::string("lmdb"));
    std::fprintf(stderr, "ringdb_bench: built without LMDB (liblmdb-dev): running ringdb and "
                         "rocksdb only\n");
  }
  if (f->engines.empty()) return Fail("--engines is empty");
  for (const std::string& e : f->engines) {
    if (e != "ringdb" && e != "rocksdb" && e != "lmdb") {
      return Fail("unknown engine '" + e + "' in --engines");
    }
    if (e == "lmdb" && !HaveLmdb()) {
      return Fail("--engines names lmdb, but this bench was built without LMDB (install "
                  "liblmdb-dev and rebuild)");
    }
  }
  if (f->io_backends.empty() || f->policies.empty()) {
    return Fail("--io_backends and --policies need at least one entry");
  }
  if (FLAGS_num == 0) return Fail("--num must be > 0");
  if (FLAGS_key_size < 8 || FLAGS_key_size > 1024) return Fail("--key_size must be in [8, 1024]");
  if (FLAGS_value_size < 1 || FLAGS_value_size > (16 << 20)) {
    return Fail("--value_size must be in [1, 16 MiB]");
  }
  if (FLAGS_threads < 1 || FLAGS_fillsync_threads < 1) return Fail("thread counts must be >= 1");
  uint64_t cache_size = 0, write_buffer_size = 0;
  if (!ringdb::cli::ParseSize(FLAGS_cache_size, &cache_size)) {
    return Fail("bad --cache_size '" + FLAGS_cache_size + "' (examples: 64MiB, 1GiB, 1048576)");
  }
  if (!ringdb::cli::ParseSize(FLAGS_rocksdb_write_buffer_size, &write_buffer_size)) {
    return Fail("bad --rocksdb_write_buffer_size '" + FLAGS_rocksdb_write_buffer_size +
                "' (examples: 4MiB, 65536)");
  }
  if (cache_size < (1 << 20)) return Fail("--cache_size must be at least 1 MiB");
  if (FLAGS_rocksdb_index != "partitioned" && FLAGS_rocksdb_index != "full") {
    return Fail("bad --rocksdb_index '" + FLAGS_rocksdb_index + "' (partitioned or full)");
  }
  if (FLAGS_mem_ratio < 1) return Fail("--mem_ratio must be >= 1");
  if (FLAGS_batch_size < 1 || FLAGS_multiget_batch < 1 || FLAGS_seek_nexts < 0) {
    return Fail("--batch_size and --multiget_batch must be >= 1, --seek_nexts >= 0");
  }
  if (FLAGS_db.empty()) return Fail("--db is empty");
  if (FLAGS_warmup != "read" && FLAGS_warmup != "cold" && FLAGS_warmup != "none") {
    return Fail("unknown --warmup '" + FLAGS_warmup + "' (read, cold or none)");
  }

  if (!FLAGS_mrc.empty() &&
      std::find(f->benchmarks.begin(), f->benchmarks.end(), FLAGS_mrc) == f->benchmarks.end()) {
    return Fail("--mrc=" + FLAGS_mrc + " is not one of --benchmarks");
  }
  for (const std::string& g : SplitList(FLAGS_mrc_grid)) {
    char* end = nullptr;
    const double factor = std::strtod(g.c_str(), &end);
    if (end == g.c_str() || *end != '\0' || !(factor > 0 && factor <= 64)) {
      return Fail("bad --mrc_grid entry '" + g + "' (factors in (0, 64], e.g. 0.25,1,4)");
    }
    f->mrc_grid.push_back(factor);
  }
  if (!FLAGS_mrc.empty() && f->mrc_grid.empty()) return Fail("--mrc_grid is empty");

  BenchSettings& s = f->settings;
  s.num = FLAGS_num;
  s.reads = FLAGS_reads < 0 ? FLAGS_num : static_cast<uint64_t>(FLAGS_reads);
  s.deletes = FLAGS_deletes < 0 ? std::max<uint64_t>(1, FLAGS_num / 10)
                                : static_cast<uint64_t>(FLAGS_deletes);
  s.threads = FLAGS_threads;
  s.fillsync_threads = FLAGS_fillsync_threads;
  s.sync = FLAGS_sync;
  s.batch_size = FLAGS_batch_size;
  s.multiget_batch = FLAGS_multiget_batch;
  s.seek_nexts = FLAGS_seek_nexts;
  s.duration_seconds = FLAGS_duration;
  s.zipf_theta = FLAGS_zipf_theta;
  s.seed = FLAGS_seed;
  s.verify = FLAGS_verify;
  s.hold_snapshot = FLAGS_hold_snapshot;

  f->key_size = static_cast<size_t>(FLAGS_key_size);
  f->value_size = static_cast<size_t>(FLAGS_value_size);
  f->cache_size = cache_size;
  f->mem_ratio = FLAGS_mem_ratio;
  f->db = FLAGS_db;
  f->keep = FLAGS_keep;
  f->json = FLAGS_json;
  f->chart = FLAGS_chart;
  gflags::CommandLineFlagInfo info;
  const bool progress_default =
      gflags::GetCommandLineFlagInfo("progress", &info) && info.is_default;
  f->progress = progress_default ? isatty(STDERR_FILENO) != 0 : FLAGS_progress;
  f->fio = FLAGS_fio;
  f->fio_runtime = FLAGS_fio_runtime;
  f->rocksdb_buffered = FLAGS_rocksdb_buffered;
  f->rocksdb_write_buffer_size = write_buffer_size;
  f->rocksdb_max_write_buffer_number = FLAGS_rocksdb_max_write_buffer_number;
  f->rocksdb_partitioned_index = FLAGS_rocksdb_index == "partitioned";
  if (FLAGS_ringdb_delete_buffer == "0") {
    f->ringdb_delete_buffer = 0;
  } else if (FLAGS_ringdb_delete_buffer != "auto" &&
             !ringdb::cli::ParseSize(FLAGS_ringdb_delete_buffer, &f->ringdb_delete_buffer)) {
    return Fail("bad --ringdb_delete_buffer '" + FLAGS_ringdb_delete_buffer +
                "' (auto, or a size: 0, 4MiB, ...)");
  }
  if (FLAGS_ringdb_row_cache == "auto") {
    f->ringdb_row_cache = BenchFlags::kRowCacheAuto;
  } else {
    char* end = nullptr;
    const double share = std::strtod(FLAGS_ringdb_row_cache.c_str(), &end);
    if (FLAGS_ringdb_row_cache.empty() || end == nullptr || *end != '\0' || !(share >= 0) ||
        share > 0.9) {
      return Fail("bad --ringdb_row_cache '" + FLAGS_ringdb_row_cache +
                  "' (a share of the budget, 0 to 0.9, or auto)");
    }
    f->ringdb_row_cache = share;
  }
  if (FLAGS_rocksdb_row_cache < 0 || FLAGS_rocksdb_row_cache > 0.9) {
    return Fail("bad --rocksdb_row_cache " + std::to_string(FLAGS_rocksdb_row_cache) +
                " (a share of the budget, 0 to 0.9)");
  }
  f->rocksdb_row_cache = FLAGS_rocksdb_row_cache;
  f->warmup = FLAGS_warmup;
  f->flush_writes = FLAGS_flush_writes;
  f->mrc = FLAGS_mrc;
  return -1;
}

std::vector<std::pair<std::string, std::string>> FlagValues() {
  std::vector<gflags::CommandLineFlagInfo> all;
  gflags::GetAllFlags(&all);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& i : all) {
    if (!IsOurs(i)) continue;
    out.emplace_back(i.name, i.current_value);
  }
  return out;
}

}  // namespace ringdb_bench
