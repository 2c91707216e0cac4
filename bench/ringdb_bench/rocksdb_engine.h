// RocksDbEngine: the KvEngine adapter over RocksDB, configured to match
// ringdb's setting (see NewRocksDbEngine).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "kv_engine.h"

namespace ringdb_bench {

struct RocksDbSettings {
  // false: use_direct_reads and use_direct_io_for_flush_and_compaction (the
  // default, like ringdb); true: through the kernel page cache.
  bool buffered = false;
  // Memtable size and count. The memtables are memory RocksDB uses on top of
  // the block cache: up to write_buffer_size * max_write_buffer_number.
  size_t write_buffer_size = 4ull << 20;
  int max_write_buffer_number = 2;
  int max_background_jobs = 2;
  // true: a two-level index and partitioned filters, the top level pinned
  // and the partitions cached at high priority. A file's single index and
  // filter block (hundreds of KiB for a 64 MiB file) does not stay in a
  // small cache split into shards: a read then fetches it again, which is
  // not how RocksDB is run when they do not fit.
  bool partitioned_index = true;
  // Share of the budget given to options.row_cache (an LRU cache of pairs
  // for Get), taken out of the block cache. 0: none (RocksDB's default).
  double row_cache_fraction = 0;
};

// RocksDB with: no compression at any level, a 10-bit Bloom filter, an LRU
// block cache of EngineConfig::cache_bytes holding index and filter blocks
// too, the WAL on, ticker statistics only (block cache hits and misses).
std::unique_ptr<KvEngine> NewRocksDbEngine(const RocksDbSettings& settings);

// "MAJOR.MINOR.PATCH" of the headers compiled against.
std::string RocksDbVersion();

}  // namespace ringdb_bench
