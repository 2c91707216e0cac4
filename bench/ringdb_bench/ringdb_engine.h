// RingdbEngine: the KvEngine adapter over ringdb's public API
// (include/ringdb/*.h only). One instance is one (io backend, eviction
// policy) combination of a sweep.
#pragma once

#include <memory>
#include <string>

#include "kv_engine.h"

namespace ringdb_bench {

// `io_backend`: "io_uring", "pread" or "buffered"; `policy`: an eviction
// policy name; `row_cache_fraction`: the share of the budget given to
// Options::row_cache_bytes (taken out of buffer_pool_bytes). Returns nullptr and sets *error for an unknown backend.
std::unique_ptr<KvEngine> NewRingdbEngine(const std::string& io_backend,
                                          const std::string& policy,
                                          uint64_t delete_buffer_bytes,
                                          double row_cache_fraction, std::string* error);

// ringdb::Version().
std::string RingdbVersion();

}  // namespace ringdb_bench
