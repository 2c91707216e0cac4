// BufferPool::Frame: the per-frame header, kept apart from the aligned
// page memory. Private to bufferpool/*.cc. See buffer_pool.cc for the
// frame states and which lock guards which field.
#pragma once

#include <atomic>
#include <shared_mutex>

#include "bufferpool/buffer_pool.h"

namespace ringdb {

struct BufferPool::Frame {
  enum class State : uint8_t { kFree, kLoading, kReady, kOrphan };
  PageId page;                     // guarded by mu_
  uint32_t pins = 0;               // guarded by mu_
  State state = State::kFree;      // guarded by mu_
  bool writing = false;            // guarded by mu_: write-back in flight
  bool prefetched = false;         // guarded by mu_: read ahead, not yet used
  Status load_status;              // guarded by mu_: why a load failed
  std::atomic<bool> dirty{false};  // set under the exclusive latch
  std::atomic<Lsn> lsn{0};
  std::shared_mutex latch;
};

}  // namespace ringdb
