// CLOCK (second chance): a hand sweeps the frames in index order; a frame
// whose reference bit is set loses the bit and is passed over, the first
// frame without it becomes the victim.
//
// The bit is set when a page enters a frame (the load counts as a reference,
// as in the textbook algorithm and PostgreSQL's usage count of 1) and on
// every access. After naming a victim the hand moves past it, so the page
// that next fills that frame is the last one the hand reaches. Frames the
// filter refuses keep their bit and are passed over. Victim ends after at
// most two sweeps: the first clears every evictable frame's bit, the second
// finds one. OnInsert/OnAccess/OnRemove are O(1).
//
// Thread-safety: OnAccess from any thread at any time (it sets the
// reference bit only when clear: a relaxed atomic store); the other methods
// under the pool's policy serialization.
#include "bufferpool/eviction/policy_util.h"

namespace ringdb {
namespace {

class ClockPolicy final : public EvictionPolicy {
 public:
  const char* Name() const override { return "clock"; }

  void Init(uint32_t num_frames) override {
    num_frames_ = num_frames;
    tracked_.assign(num_frames, 0);
    referenced_.Init(num_frames);
    hand_ = 0;
    num_tracked_ = 0;
  }

  void OnInsert(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (!tracked_[frame]) ++num_tracked_;
    tracked_[frame] = 1;
    referenced_.set(frame, 1);
  }

  // An untracked frame's bit is harmless: OnInsert sets it anyway.
  void OnAccess(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    referenced_.SetIfDifferent(frame, 1);
  }

  void OnRemove(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (tracked_[frame]) --num_tracked_;
    tracked_[frame] = 0;
    referenced_.set(frame, 0);
  }

  bool Victim(const FrameFilter& filter, FrameIndex* victim) override {
    if (num_tracked_ == 0) return false;
    const uint64_t max_steps = 2ull * num_frames_;
    for (uint64_t step = 0; step < max_steps; ++step) {
      FrameIndex f = hand_;
      hand_ = hand_ + 1 == num_frames_ ? 0 : hand_ + 1;
      if (!tracked_[f] || !filter.CanEvict(f)) continue;
      if (referenced_.get(f)) {
        referenced_.set(f, 0);
        continue;
      }
      *victim = f;
      return true;
    }
    return false;
  }

 private:
  uint32_t num_frames_ = 0;
  std::vector<uint8_t> tracked_;
  AtomicBytes referenced_;
  FrameIndex hand_ = 0;
  uint32_t num_tracked_ = 0;
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewClockPolicy() { return std::make_unique<ClockPolicy>(); }

}  // namespace ringdb
