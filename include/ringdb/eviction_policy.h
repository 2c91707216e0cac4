// EvictionPolicy: decides which unpinned buffer-pool frame gives up its page.
//
// The buffer pool tells a policy when a frame receives a page (OnInsert),
// when a cached page is used again (OnAccess) and when a frame loses its page
// (OnRemove), and asks it for victims (Victim). Policies see frame numbers in
// [0, num_frames), never page contents.
//
// Thread-safety, what a policy may assume:
// - OnAccess is called on page hits with NO lock held, possibly from many
//   threads at once, and concurrently with every other method (including
//   Victim, OnInsert and OnRemove on the same frame). It must be cheap and
//   lock-free and must not block: typically a relaxed atomic reference bit
//   or small counter per frame, written only when it changes (so hits on a
//   hot page write no shared cache line), or an entry in a lossy per-thread
//   buffer that the other methods apply later. It must tolerate being
//   called for a frame that was just removed or re-filled (a stale hint).
// - Init, OnInsert, OnRemove and Victim are serialized by the pool (one
//   call at a time, by one thread at a time, under the pool's policy
//   mutex), so the structure they share (lists, hands) needs no lock of its
//   own, but anything OnAccess writes must be read through atomics.
// - Victim is called repeatedly by one evicting thread to gather a batch;
//   FrameFilter::CanEvict may be called only from inside Victim.
// - No method may block on I/O or call back into the pool.
// A policy written for the old contract (every method under one mutex)
// keeps working if its OnAccess only touches data that is safe to race
// with the other methods; if not, it must take a lock of its own in
// OnAccess (correct, but then hits contend on that lock).
// Built-in policies are created by name with NewEvictionPolicy(); an
// application may implement its own and hand it to
// Options::eviction_policy_object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringdb {

using FrameIndex = uint32_t;

// The pool's answer to "may this frame be evicted now?" (false while pinned
// or latched, being read or written, already named in this batch, or
// holding a page whose write-back just failed). A snapshot: the pool
// re-checks the frame it is given.
class FrameFilter {
 public:
  virtual ~FrameFilter() = default;
  virtual bool CanEvict(FrameIndex frame) const = 0;
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  // A short stable name, e.g. "lru".
  virtual const char* Name() const = 0;

  // Called once before any other method.
  virtual void Init(uint32_t num_frames) = 0;

  // `frame` now holds a page that was just read or created (a miss).
  virtual void OnInsert(FrameIndex frame) = 0;

  // The page in `frame` was requested again (a hit). Called without any
  // lock, concurrently with everything else (see above).
  virtual void OnAccess(FrameIndex frame) = 0;

  // `frame` no longer holds a page (evicted or dropped). The policy forgets
  // it; OnInsert will follow when it is reused.
  virtual void OnRemove(FrameIndex frame) = 0;

  // Picks a victim among tracked frames for which filter.CanEvict() is true,
  // stores it in *victim and returns true; returns false when none can be
  // evicted. Must return true whenever some tracked frame passes the
  // filter, and never name a frame the filter refuses. Does not remove the
  // frame: the pool calls OnRemove once the eviction really happens (it may
  // instead decide to keep the page, e.g. when it was pinned in the
  // meantime).
  virtual bool Victim(const FrameFilter& filter, FrameIndex* victim) = 0;
};

// Creates a built-in policy: "lru", "clock", "midpoint" (InnoDB-style
// midpoint-insertion LRU), "sieve", "s3fifo". Returns nullptr for an unknown
// name.
std::unique_ptr<EvictionPolicy> NewEvictionPolicy(std::string_view name);

// Names accepted by NewEvictionPolicy, in a stable order.
std::vector<std::string> EvictionPolicyNames();

}  // namespace ringdb
