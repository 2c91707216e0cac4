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
// - OnAccess may run on many threads at once, concurrently with the other
//   methods (see eviction_policy.h): it touches only atomics, with relaxed
//   loads and a store only when the value changes (AtomicBytes), or
//   records the access in an AccessBuffer that the serialized methods
//   drain.
//
// Thread-safety: FrameList none (used under the policy's serialization);
// AtomicBytes and AccessBuffer as stated on each.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "bufferpool/striped_counter.h"
#include "util/check.h"
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

  // The frame nearest the back that `filter` lets go, into *victim: the
  // Victim of a policy that evicts in list order (lru, midpoint). False
  // when the filter refuses every frame.
  bool OldestEvictable(const FrameFilter& filter, FrameIndex* victim) const {
    for (FrameIndex f = back_; f != kNil; f = prev_[f]) {
      if (filter.CanEvict(f)) {
        *victim = f;
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<FrameIndex> next_;
  std::vector<FrameIndex> prev_;
  std::vector<uint8_t> linked_;
  FrameIndex front_ = kNil;
  FrameIndex back_ = kNil;
  uint32_t size_ = 0;
};

// One byte per frame that OnAccess may set from any thread while the
// serialized methods read and write it: relaxed atomics (a lost update is a
// lost hint, never a broken structure).
class AtomicBytes {
 public:
  void Init(uint32_t n) {
    bytes_ = std::make_unique<std::atomic<uint8_t>[]>(n);
    for (uint32_t i = 0; i < n; i++) bytes_[i].store(0, std::memory_order_relaxed);
  }
  uint8_t get(FrameIndex f) const { return bytes_[f].load(std::memory_order_relaxed); }
  void set(FrameIndex f, uint8_t v) { bytes_[f].store(v, std::memory_order_relaxed); }
  // Stores only when the value differs, so a hot frame's hits write nothing.
  void SetIfDifferent(FrameIndex f, uint8_t v) {
    if (get(f) != v) set(f, v);
  }

 private:
  std::unique_ptr<std::atomic<uint8_t>[]> bytes_;
};

// Accesses recorded without a lock, for the list-ordered policies (lru,
// midpoint) that cannot reorder their list in OnAccess: each thread appends
// to one of kStripes small rings (picked by ThreadStripe()), and the
// policy's serialized methods Drain() them, in order per ring, before they
// look at the list. Lossy on purpose, like Caffeine's read buffers: a full
// ring, or a ring another thread is appending to at that instant, drops the
// access (so a hot page that stays hot costs no write once its ring is
// full, until the next drain). One thread's accesses are replayed exactly
// in order as long as fewer than kSlots come between drains.
//
// Thread-safety: Record() from any thread; Drain() by one thread at a time
// (the policy's serialization).
class AccessBuffer {
 public:
  static constexpr uint32_t kStripes = 16;
  static constexpr uint32_t kSlots = 128;

  void Record(FrameIndex f) {
    Stripe& s = stripes_[ThreadStripe() % kStripes];
    uint32_t tail = s.tail.load(std::memory_order_relaxed);
    if (tail - s.head.load(std::memory_order_acquire) >= kSlots) return;  // full
    if (!s.tail.compare_exchange_strong(tail, tail + 1, std::memory_order_relaxed)) return;
    s.slots[tail % kSlots].store(f + 1, std::memory_order_release);
  }

  // Calls fn(frame) for each recorded access.
  template <typename Fn>
  void Drain(Fn&& fn) {
    for (Stripe& s : stripes_) {
      uint32_t head = s.head.load(std::memory_order_relaxed);
      const uint32_t tail = s.tail.load(std::memory_order_acquire);
      for (; head != tail; head++) {
        uint32_t v = s.slots[head % kSlots].exchange(0, std::memory_order_acquire);
        if (v == 0) break;  // claimed but not written yet: next drain
        fn(static_cast<FrameIndex>(v - 1));
      }
      s.head.store(head, std::memory_order_release);
    }
  }

 private:
  struct alignas(64) Stripe {
    std::atomic<uint32_t> head{0};  // written by Drain
    std::atomic<uint32_t> tail{0};  // claimed by Record
    std::atomic<uint32_t> slots[kSlots] = {};  // frame + 1; 0 = empty
  };
  Stripe stripes_[kStripes];
};

// An optional extension of EvictionPolicy for built-in policies that use
// page ids (s3fifo's ghost entries): whoever drives the policy calls
// SetFramePage(frame, page) just before OnInsert(frame), under the same
// serialization. A driver that never calls it leaves such a policy working
// without page ids (s3fifo then has no ghosts).
class PageAwarePolicy {
 public:
  virtual ~PageAwarePolicy() = default;
  virtual void SetFramePage(FrameIndex frame, uint64_t page) = 0;
};

// Aborts when `frame` is outside [0, num_frames).
inline void CheckFrame(FrameIndex frame, uint32_t num_frames) {
  RINGDB_CHECK(frame < num_frames);
}

// What LRU and midpoint share: one FrameList in recency order (Victim
// takes the oldest evictable frame, at the back) and accesses recorded
// lock-free in an AccessBuffer, which the policy replays on its list
// (ApplyAccesses) before each list operation. The policy keeps the list in
// order in OnInsert, OnRemove and ApplyAccesses.
// Thread-safety: as EvictionPolicy (OnAccess from any thread).
class RecencyListPolicy : public EvictionPolicy {
 public:
  void OnAccess(FrameIndex frame) final {
    CheckFrame(frame, num_frames_);
    accesses_.Record(frame);
  }

  bool Victim(const FrameFilter& filter, FrameIndex* victim) final {
    ApplyAccesses();
    return list_.OldestEvictable(filter, victim);
  }

 protected:
  // Replays the recorded accesses on list_, in order (accesses_.Drain).
  virtual void ApplyAccesses() = 0;

  uint32_t num_frames_ = 0;
  FrameList list_;  // back: the oldest frame
  AccessBuffer accesses_;
};

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
