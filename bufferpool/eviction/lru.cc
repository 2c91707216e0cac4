// LRU: evicts the least recently used unpinned frame.
//
// One FrameList ordered by recency: OnInsert and OnAccess move the frame to
// the front, Victim walks from the back and names the first frame the filter
// accepts. Every operation is O(1) except Victim, which is O(number of
// refused frames it passes). Not scan resistant: a scan longer than the pool
// replaces every page.
//
// Thread-safety: none; called under the pool mutex.
#include "bufferpool/eviction/policy_util.h"

namespace ringdb {
namespace {

class LruPolicy final : public EvictionPolicy {
 public:
  const char* Name() const override { return "lru"; }

  void Init(uint32_t num_frames) override {
    num_frames_ = num_frames;
    list_.Init(num_frames);
  }

  void OnInsert(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (list_.contains(frame)) {
      list_.MoveToFront(frame);
    } else {
      list_.PushFront(frame);
    }
  }

  void OnAccess(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (list_.contains(frame)) list_.MoveToFront(frame);
  }

  void OnRemove(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (list_.contains(frame)) list_.Remove(frame);
  }

  bool Victim(const FrameFilter& filter, FrameIndex* victim) override {
    for (FrameIndex f = list_.back(); f != FrameList::kNil; f = list_.toward_front(f)) {
      if (filter.CanEvict(f)) {
        *victim = f;
        return true;
      }
    }
    return false;
  }

 private:
  uint32_t num_frames_ = 0;
  FrameList list_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewLruPolicy() { return std::make_unique<LruPolicy>(); }

}  // namespace ringdb
