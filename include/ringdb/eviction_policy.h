// EvictionPolicy: decides which unpinned buffer-pool frame gives up its page.
//
// The buffer pool tells a policy when a frame receives a page (OnInsert),
// when a cached page is used again (OnAccess) and when a frame loses its page
// (OnRemove), and asks it for victims (Victim). Policies see frame numbers in
// [0, num_frames), never page contents.
//
// Thread-safety: the pool calls every method with its own mutex held, so a
// policy needs no locking of its own, must not block, and must not call back
// into the pool. Built-in policies are created by name with
// NewEvictionPolicy(); an application may implement its own and hand it to
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
// or being read or written).
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

  // The page in `frame` was requested again (a hit).
  virtual void OnAccess(FrameIndex frame) = 0;

  // `frame` no longer holds a page (evicted or dropped). The policy forgets
  // it; OnInsert will follow when it is reused.
  virtual void OnRemove(FrameIndex frame) = 0;

  // Picks a victim among tracked frames for which filter.CanEvict() is true,
  // stores it in *victim and returns true; returns false when none can be
  // evicted. Does not remove the frame: the pool calls OnRemove once the
  // eviction really happens (it may instead decide to keep the page, e.g.
  // when it was pinned in the meantime).
  virtual bool Victim(const FrameFilter& filter, FrameIndex* victim) = 0;
};

// Creates a built-in policy: "lru", "clock", "midpoint" (InnoDB-style
// midpoint-insertion LRU), "sieve", "s3fifo". Returns nullptr for an unknown
// name.
std::unique_ptr<EvictionPolicy> NewEvictionPolicy(std::string_view name);

// Names accepted by NewEvictionPolicy, in a stable order.
std::vector<std::string> EvictionPolicyNames();

}  // namespace ringdb
