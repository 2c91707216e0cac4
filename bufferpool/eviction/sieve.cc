// SIEVE (Zhang et al., NSDI '24): a FIFO queue, one visited bit per frame
// and a hand that moves from the oldest frame toward the newest.
//
// New frames enter at the front (newest end) with the bit clear; an access
// sets the bit and moves nothing. Victim starts at the hand (at the back
// when it has none): a visited frame loses its bit and the hand moves on
// toward the front, wrapping to the back; the first unvisited frame the
// filter accepts is the victim, and the hand stays on its newer neighbour,
// where the next search resumes. Frames the filter refuses keep their bit.
// So pages that were used stay where they are, and new pages that are never
// used again leave first. Victim ends within two passes over the queue;
// the other operations are O(1).
//
// Thread-safety: OnAccess from any thread at any time (it sets the visited
// bit only when clear: a relaxed atomic store); the other methods under the
// pool's policy serialization.
#include "bufferpool/eviction/policy_util.h"

namespace ringdb {
namespace {

class SievePolicy final : public EvictionPolicy {
 public:
  const char* Name() const override { return "sieve"; }

  void Init(uint32_t num_frames) override {
    num_frames_ = num_frames;
    queue_.Init(num_frames);
    visited_.Init(num_frames);
    hand_ = FrameList::kNil;
  }

  void OnInsert(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (queue_.contains(frame)) Unlink(frame);
    queue_.PushFront(frame);
    visited_.set(frame, 0);
  }

  // An untracked frame's bit is harmless: OnInsert clears it.
  void OnAccess(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    visited_.SetIfDifferent(frame, 1);
  }

  void OnRemove(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (queue_.contains(frame)) Unlink(frame);
  }

  bool Victim(const FrameFilter& filter, FrameIndex* victim) override {
    const uint64_t max_steps = 2ull * queue_.size();
    FrameIndex f = hand_ == FrameList::kNil ? queue_.back() : hand_;
    for (uint64_t step = 0; step < max_steps; ++step) {
      FrameIndex newer = queue_.toward_front(f);
      if (newer == FrameList::kNil) newer = queue_.back();
      if (filter.CanEvict(f)) {
        if (!visited_.get(f)) {
          *victim = f;
          hand_ = newer == f ? FrameList::kNil : newer;
          return true;
        }
        visited_.set(f, 0);
      }
      f = newer;
    }
    hand_ = f;
    return false;
  }

 private:
  void Unlink(FrameIndex frame) {
    if (hand_ == frame) hand_ = queue_.toward_front(frame);
    queue_.Remove(frame);
    visited_.set(frame, 0);
  }

  uint32_t num_frames_ = 0;
  FrameList queue_;
  AtomicBytes visited_;
  FrameIndex hand_;  // next frame Victim examines; kNil: start at the back
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewSievePolicy() { return std::make_unique<SievePolicy>(); }

}  // namespace ringdb
