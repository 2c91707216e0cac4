// GhostList: the identities of what a cache evicted last, without the data
// (ARC's ghost lists), so the cache can tell whether a miss is a recent
// key coming back (the row cache's skew test, engine/db_cache_balance.cc).
//
// Entries are 64-bit ids (a key's hash, a page id) with a weight (bytes,
// or 1). Add appends one, or moves it to the newest end if it is there
// already; when the weights sum past the capacity, the oldest leave first.
// So the list holds the most recently added distinct ids, as an LRU cache
// of that capacity would. Take removes one (S3-FIFO's ghost queue,
// bufferpool/eviction/s3fifo.cc, forgets a page that came back).
//
// Not thread-safe: the owner guards it (GUARDED_BY its mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>

namespace ringdb {

class GhostList {
 public:
  // Weight held at most; 0 empties the list and keeps it empty.
  void SetCapacity(uint64_t capacity) {
    capacity_ = capacity;
    if (capacity == 0) {
      fifo_.clear();
      live_.clear();
      weight_ = 0;
    }
    Trim();
  }
  uint64_t capacity() const { return capacity_; }

  void Add(uint64_t id, uint64_t weight) {
    if (capacity_ == 0 || weight > capacity_) return;
    auto [it, added] = live_.try_emplace(id, Live{seq_, weight});
    if (!added) {
      // The old entry in the FIFO goes stale (Trim skips it).
      weight_ -= it->second.weight;
      it->second = Live{seq_, weight};
    }
    fifo_.push_back(Entry{id, seq_});
    seq_++;
    weight_ += weight;
    Trim();
    // Stale entries are dropped when they reach the front; a few ids added
    // over and over could still pile them up, so compact past twice the
    // live count.
    if (fifo_.size() > 2 * live_.size() + 64) Compact();
  }

  bool Contains(uint64_t id) const { return live_.find(id) != live_.end(); }

  // Removes `id`; false when it was not there. Its FIFO entry goes stale.
  bool Take(uint64_t id) {
    auto it = live_.find(id);
    if (it == live_.end()) return false;
    weight_ -= it->second.weight;
    live_.erase(it);
    if (fifo_.size() > 2 * live_.size() + 64) Compact();
    return true;
  }

  size_t size() const { return live_.size(); }
  uint64_t weight() const { return weight_; }

 private:
  struct Entry {
    uint64_t id;
    uint64_t seq;
  };
  struct Live {
    uint64_t seq;
    uint64_t weight;
  };
  void Trim() {
    while (!fifo_.empty()) {
      const Entry e = fifo_.front();
      auto it = live_.find(e.id);
      const bool current = it != live_.end() && it->second.seq == e.seq;
      if (current && weight_ <= capacity_) break;
      fifo_.pop_front();
      if (current) {
        weight_ -= it->second.weight;
        live_.erase(it);
      }
    }
  }
  void Compact() {
    std::deque<Entry> kept;
    for (const Entry& e : fifo_) {
      auto it = live_.find(e.id);
      if (it != live_.end() && it->second.seq == e.seq) kept.push_back(e);
    }
    fifo_.swap(kept);
  }

  uint64_t capacity_ = 0;
  uint64_t weight_ = 0;
  uint64_t seq_ = 0;
  std::deque<Entry> fifo_;
  std::unordered_map<uint64_t, Live> live_;
};

}  // namespace ringdb
