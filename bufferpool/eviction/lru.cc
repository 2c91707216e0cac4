// LRU: evicts the least recently used unpinned frame.
//
// One FrameList ordered by recency: OnInsert and an access move the frame
// to the front, Victim walks from the back and names the first frame the
// filter accepts. Not scan resistant: a scan longer than the pool replaces
// every page.
//
// Accesses are recorded lock-free in an AccessBuffer and applied to the
// list, in order, at the start of the next OnInsert, OnRemove or Victim. So
// one thread's sequence is exact LRU (up to AccessBuffer::kSlots accesses
// between evictions); with many threads, or more accesses than that, the
// order is approximate: dropped accesses do not refresh their page.
// OnInsert and OnRemove are O(1) plus the drain; Victim is O(number of
// refused frames it passes) plus the drain.
//
// Thread-safety: OnAccess from any thread at any time; the other methods
// under the pool's policy serialization.
#include "bufferpool/eviction/policy_util.h"

namespace ringdb {
namespace {

class LruPolicy final : public RecencyListPolicy {
 public:
  const char* Name() const override { return "lru"; }

  void Init(uint32_t num_frames) override {
    num_frames_ = num_frames;
    list_.Init(num_frames);
  }

  void OnInsert(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    ApplyAccesses();
    if (list_.contains(frame)) {
      list_.MoveToFront(frame);
    } else {
      list_.PushFront(frame);
    }
  }

  void OnRemove(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    ApplyAccesses();
    if (list_.contains(frame)) list_.Remove(frame);
  }

 private:
  void ApplyAccesses() override {
    accesses_.Drain([this](FrameIndex f) {
      if (list_.contains(f)) list_.MoveToFront(f);
    });
  }
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewLruPolicy() { return std::make_unique<LruPolicy>(); }

}  // namespace ringdb
