// Building blocks shared by the built-in eviction policies, and their
// factory functions (NewEvictionPolicy in registry.cc picks among them).
//
// FrameList is an intrusive doubly linked list over frame indices: its links
// live in two arrays indexed by frame, so linking, unlinking and moving a
// frame are O(1) and never allocate. A frame is in at most one FrameList at a
// time. "Front" is the end where a policy puts its newest (or most recent)
// frames, "back" the end it evicts from.
//
// Common contract of the built-in policies (on top of eviction_policy.h):
// - A frame index >= num_frames is a programmer error and aborts.
// - OnAccess and OnRemove on a frame the policy does not track are ignored;
//   OnInsert on a frame it already tracks restarts that frame as new.
// - Victim never removes the frame it names: until the pool calls OnRemove,
//   or its filter refuses that frame, the LRU-ordered policies (lru,
//   midpoint) and s3fifo may name the same frame again. A caller that
//   gathers several victims before removing any must make its filter refuse
//   the frames it has already chosen.
// - Victim examines each tracked frame a bounded number of times and returns
//   false exactly when no tracked frame passes the filter.
//
// Thread-safety: none; the pool calls policies under its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "io/check.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {

class FrameList {
 public:
  static constexpr FrameIndex kNil = ~0u;

  // Forgets all links and sizes the arrays for frames [0, num_frames).
  void Init(uint32_t num_frames) {
    next_.assign(num_frames, kNil);
    prev_.assign(num_frames, kNil);
    linked_.assign(num_frames, 0);
    front_ = back_ = kNil;
    size_ = 0;
  }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool contains(FrameIndex f) const { return linked_[f] != 0; }
  FrameIndex front() const { return front_; }
  FrameIndex back() const { return back_; }
  // Neighbours: toward_back(f) is older, toward_front(f) is newer; kNil past
  // the ends. Require: contains(f).
  FrameIndex toward_back(FrameIndex f) const { return next_[f]; }
  FrameIndex toward_front(FrameIndex f) const { return prev_[f]; }

  // Require: !contains(f).
  void PushFront(FrameIndex f) { InsertBefore(front_, f); }
  void PushBack(FrameIndex f) { InsertBefore(kNil, f); }

  // Links f just in front of `pos` (pos == kNil: at the back).
  // Require: !contains(f), pos == kNil or contains(pos).
  void InsertBefore(FrameIndex pos, FrameIndex f) {
    RINGDB_CHECK(!linked_[f]);
    FrameIndex before = pos == kNil ? back_ : prev_[pos];
    prev_[f] = before;
    next_[f] = pos;
    if (before == kNil) {
      front_ = f;
    } else {
      next_[before] = f;
    }
    if (pos == kNil) {
      back_ = f;
    } else {
      prev_[pos] = f;
    }
    linked_[f] = 1;
    ++size_;
  }

  // Require: contains(f).
  void Remove(FrameIndex f) {
    RINGDB_CHECK(linked_[f]);
    if (prev_[f] == kNil) {
      front_ = next_[f];
    } else {
      next_[prev_[f]] = next_[f];
    }
    if (next_[f] == kNil) {
      back_ = prev_[f];
    } else {
      prev_[next_[f]] = prev_[f];
    }
    next_[f] = prev_[f] = kNil;
    linked_[f] = 0;
    --size_;
  }

  void MoveToFront(FrameIndex f) {
    Remove(f);
    PushFront(f);
  }

 private:
  std::vector<FrameIndex> next_;
  std::vector<FrameIndex> prev_;
  std::vector<uint8_t> linked_;
  FrameIndex front_ = kNil;
  FrameIndex back_ = kNil;
  uint32_t size_ = 0;
};

// Aborts when `frame` is outside [0, num_frames).
inline void CheckFrame(FrameIndex frame, uint32_t num_frames) {
  RINGDB_CHECK(frame < num_frames);
}

// Midpoint-insertion LRU tuning (see midpoint.cc).
struct MidpointOptions {
  // Share of the list that forms the old sublist, in eighths (InnoDB's
  // innodb_old_blocks_pct defaults to 37%, about 3/8).
  uint32_t old_eighths = 3;
  // A page in the old sublist moves to the young head on an access only
  // when at least this many requests (OnInsert and OnAccess calls) came
  // since it entered. 0 means max(1, num_frames / 8).
  uint32_t promote_after_requests = 0;
};

std::unique_ptr<EvictionPolicy> NewLruPolicy();
std::unique_ptr<EvictionPolicy> NewClockPolicy();
std::unique_ptr<EvictionPolicy> NewMidpointPolicy(const MidpointOptions& options);
std::unique_ptr<EvictionPolicy> NewSievePolicy();
std::unique_ptr<EvictionPolicy> NewS3FifoPolicy();

}  // namespace ringdb
