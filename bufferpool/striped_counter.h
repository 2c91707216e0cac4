// StripedCounter: a statistics counter that many threads bump without
// sharing a cache line, and ThreadStripe(), a small per-thread number for
// spreading such writes. Private to bufferpool/.
//
// Each thread adds to one of kStripes cache-line-sized cells, picked by
// ThreadStripe(); Sum() adds the cells up (a snapshot, not atomic across
// cells). Threads beyond kStripes share cells, still correctly (fetch_add).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ringdb {

// 0, 1, 2, ... in the order threads first ask; stable for a thread's life.
inline uint32_t ThreadStripe() {
  static std::atomic<uint32_t> next{0};
  thread_local const uint32_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

class StripedCounter {
 public:
  static constexpr size_t kStripes = 16;

  void Add(uint64_t n) {
    cells_[ThreadStripe() % kStripes].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Sum() const {
    uint64_t sum = 0;
    for (const Cell& c : cells_) sum += c.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Cell {
    std::atomic<uint64_t> value{0};
  };
  Cell cells_[kStripes];
};

}  // namespace ringdb
