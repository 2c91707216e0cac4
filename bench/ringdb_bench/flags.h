// Command-line flags, in db_bench's style (gflags). Only flags.cc sees
// gflags; the rest of the bench reads the parsed BenchFlags.
//
// Thread-safety: parse once on the main thread before anything else.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "workload.h"

namespace ringdb_bench {

struct BenchFlags {
  std::vector<std::string> benchmarks;
  std::vector<std::string> engines;
  std::vector<std::string> io_backends;
  std::vector<std::string> policies;
  BenchSettings settings;
  size_t key_size = 16;
  size_t value_size = 100;
  uint64_t cache_size = 0;
  double mem_ratio = 10;        // data / budget in the "@disk" phases
  std::string db;
  bool keep = false;
  std::string json;
  std::string chart;
  bool progress = false;
  bool fio = true;
  double fio_runtime = 5;
  bool rocksdb_buffered = false;
  uint64_t rocksdb_write_buffer_size = 0;
  bool rocksdb_partitioned_index = true;
  // ringdb's Options::delete_buffer_bytes; UINT64_MAX: its default.
  uint64_t ringdb_delete_buffer = UINT64_MAX;
  // Shares of the budget given to a row cache (taken out of the pool or
  // block cache): --ringdb_row_cache, --rocksdb_row_cache.
  // kRowCacheAuto: ringdb's adaptive split (--ringdb_row_cache=auto).
  static constexpr double kRowCacheAuto = -1;
  double ringdb_row_cache = kRowCacheAuto;
  double rocksdb_row_cache = 0;
  int rocksdb_max_write_buffer_number = 2;
  std::string warmup = "read";  // read, cold or none (see --warmup)
  bool flush_writes = true;     // see --flush_writes
  std::string mrc;              // --mrc: the phase whose curve is checked; empty: off
  std::vector<double> mrc_grid;  // --mrc_grid: factors of that phase's budget
};

// Parses and checks the flags (removing them from argv). Returns -1 to go
// on, or the process's exit code: 0 after --help, 1 after printing why a
// flag is wrong.
int ParseFlags(int* argc, char*** argv, BenchFlags* flags);

// Every flag of the bench as name=value (for the JSON report).
std::vector<std::pair<std::string, std::string>> FlagValues();

// Splits "a,b,,c" into {"a","b","c"} (bench/common/bench_util.h).
using bench_common::SplitList;

}  // namespace ringdb_bench
