// Options for opening a database and for single reads and writes.
//
// Plain structs: fill them on one thread, then hand them to DB::Open / the
// DB methods, which copy what they need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ringdb/eviction_policy.h"

namespace ringdb {

// How pages move between the buffer pool and the disk.
enum class IoBackendKind : uint8_t {
  kIoUring,   // O_DIRECT through io_uring with registered buffers (default).
  kPread,     // O_DIRECT with pread/pwrite; the fallback when io_uring is
              // unavailable.
  kBuffered,  // Through the kernel page cache. For comparisons only: the
              // page cache then holds a second copy of every page.
};

struct Options {
  // Create the database when `path` does not exist.
  bool create_if_missing = true;
  // Fail when the database already exists.
  bool error_if_exists = false;
  // Open for reading only: writes return InvalidArgument, nothing is written
  // to the files (not even recovery's checkpoint).
  bool read_only = false;

  // The memory budget for cached pages, in bytes. The pool is allocated once
  // at Open and never grows. At least 16 pages.
  size_t buffer_pool_bytes = 64ull << 20;

  // Page size in bytes: a power of two from 4096 to 65536. Fixed when the
  // database is created; on an existing database a different value is
  // ignored (the stored one wins).
  uint32_t page_size = 4096;

  // Eviction policy by name: "lru", "clock", "midpoint", "sieve", "s3fifo".
  std::string eviction_policy = "clock";
  // A user-supplied policy; when set it wins over `eviction_policy`.
  std::shared_ptr<EvictionPolicy> eviction_policy_object;

  IoBackendKind io_backend = IoBackendKind::kIoUring;

  // Lock the buffer pool in memory (mlock) when RLIMIT_MEMLOCK allows.
  bool lock_pool_memory = true;

  // Write a checkpoint once the log grows past this many bytes.
  uint64_t checkpoint_log_bytes = 256ull << 20;

  // Receives one-line notices (fallbacks, recovery). Default: stderr.
  std::function<void(std::string_view)> info_log;
};

struct ReadOptions {
  // Verify page checksums on reads from disk (always on; kept for API
  // familiarity).
  bool verify_checksums = true;
};

struct WriteOptions {
  // When true the write is durable (its log record fdatasync'd) before the
  // call returns. When false it may be lost in a crash, but a batch is
  // never half-applied.
  bool sync = false;
};

}  // namespace ringdb
