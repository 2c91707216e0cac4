// PolicySimulator: one eviction policy driven alone, without a pool, over a
// stream of page ids: a small simulated cache of a given number of frames
// that counts hits and misses. Used by the miss-ratio curve's
// mini-simulations (bufferpool/mrc.h, fed a spatially sampled stream with
// the cache scaled by the sampling rate) and by tests as the full-size
// reference.
//
// The simulator plays the pool's part: a page -> frame map, a free list,
// OnAccess on a hit, and on a miss either a free frame or one Victim (every
// frame may be evicted: nothing is pinned) followed by OnRemove; then
// OnInsert, preceded by PageAwarePolicy::SetFramePage when the policy
// implements it (s3fifo's ghost entries need page ids).
//
// Thread-safety: none; the owner serializes every call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ringdb/eviction_policy.h"

namespace ringdb {

class PolicySimulator {
 public:
  // A cache of `frames` (>= 1) frames run by the built-in policy `name`.
  // Returns nullptr for an unknown name.
  static std::unique_ptr<PolicySimulator> Create(std::string_view name, uint32_t frames);

  // One request for page `page`: true on a hit.
  bool Access(uint64_t page);

  // Removes `page` from the cache if it is there (it left the sample).
  void Drop(uint64_t page);

  const std::string& name() const { return name_; }
  uint32_t frames() const { return static_cast<uint32_t>(page_of_.size()); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  double MissRatio() const {
    uint64_t t = hits_ + misses_;
    return t == 0 ? 0.0 : static_cast<double>(misses_) / static_cast<double>(t);
  }
  // Approximate heap bytes held (maps, the policy's per-frame arrays).
  size_t MemoryBytes() const;

 private:
  PolicySimulator() = default;

  std::string name_;
  std::unique_ptr<EvictionPolicy> policy_;
  std::unordered_map<uint64_t, FrameIndex> frame_of_;
  std::vector<uint64_t> page_of_;  // per frame; kNoPage when free
  std::vector<FrameIndex> free_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace ringdb
