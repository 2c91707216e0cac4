// Midpoint-insertion LRU, after InnoDB's buffer pool LRU.
//
// One recency list split in two: the young sublist at the front and the old
// sublist (about 3/8 of the list, MidpointOptions::old_eighths) at the back.
// A new page enters at the head of the old sublist (the midpoint), not at
// the front. An access to a young page moves it to the front. An access to
// an old page moves it to the front only when the page has stayed in the
// pool for a window first; before that it stays where it is. Victims come
// from the back. A scan that touches each page a few times in a row thus
// cycles through the old sublist and leaves the hot young pages alone.
//
// The window: InnoDB measures it in time (innodb_old_blocks_time, 1000 ms).
// Policies here see no clock, and a time window makes results depend on the
// machine's speed, so it is counted in requests instead, a logical clock
// that ticks on every OnInsert and OnAccess: a page is promoted by an access
// only when at least MidpointOptions::promote_after_requests requests came
// since it entered (default max(1, num_frames / 8)). A scan that touches a
// page up to that many times in a row leaves it old; a page used again
// later is promoted. A page stays in the old sublist for about 3/8 of
// num_frames insertions, hence at least as many requests, so the default
// window leaves a reused page a chance before it reaches the back.
//
// As in InnoDB, the old share is of the list's current length: while the
// pool is filling, the oldest pages of the list form the old sublist even
// if they were promoted once.
//
// The boundary is a pointer to the first old frame; after every change it
// moves by at most a step or two to keep the old sublist at its share, so
// every operation is O(1) except Victim, which is O(refused frames passed).
//
// Accesses are recorded lock-free in an AccessBuffer and applied, in order
// (each one ticking the request clock), at the start of the next OnInsert,
// OnRemove or Victim: exact for one thread's sequence of up to
// AccessBuffer::kSlots accesses between those calls, approximate beyond.
//
// Thread-safety: OnAccess from any thread at any time; the other methods
// under the pool's policy serialization.
#include <algorithm>

#include "bufferpool/eviction/policy_util.h"

namespace ringdb {
namespace {

class MidpointPolicy final : public RecencyListPolicy {
 public:
  explicit MidpointPolicy(const MidpointOptions& options) : options_(options) {
    RINGDB_CHECK(options_.old_eighths >= 1 && options_.old_eighths <= 7);
  }

  const char* Name() const override { return "midpoint"; }

  void Init(uint32_t num_frames) override {
    num_frames_ = num_frames;
    list_.Init(num_frames);
    old_.assign(num_frames, 0);
    inserted_at_.assign(num_frames, 0);
    old_head_ = FrameList::kNil;
    old_len_ = 0;
    requests_ = 0;
    window_ = options_.promote_after_requests != 0 ? options_.promote_after_requests
                                                   : std::max<uint32_t>(1, num_frames / 8);
  }

  void OnInsert(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    ApplyAccesses();
    if (list_.contains(frame)) Unlink(frame);
    list_.InsertBefore(old_head_, frame);
    old_[frame] = 1;
    old_head_ = frame;
    ++old_len_;
    inserted_at_[frame] = ++requests_;
    Rebalance();
  }

  void OnRemove(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    ApplyAccesses();
    if (!list_.contains(frame)) return;
    Unlink(frame);
    Rebalance();
  }

 private:
  void ApplyAccesses() override {
    accesses_.Drain([this](FrameIndex f) { Access(f); });
  }

  // One access to `frame`, in request order.
  void Access(FrameIndex frame) {
    if (!list_.contains(frame)) return;
    ++requests_;
    if (!old_[frame]) {
      list_.MoveToFront(frame);
      return;
    }
    if (requests_ - inserted_at_[frame] < window_) return;
    Unlink(frame);
    list_.PushFront(frame);
    Rebalance();
  }

  // Takes `frame` out of the list and out of its sublist.
  void Unlink(FrameIndex frame) {
    if (old_[frame]) {
      if (old_head_ == frame) old_head_ = list_.toward_back(frame);
      old_[frame] = 0;
      --old_len_;
    }
    list_.Remove(frame);
  }

  // Moves the boundary until the old sublist holds its share of the list.
  void Rebalance() {
    const uint32_t size = list_.size();
    const uint32_t target = size == 0 ? 0 : std::max<uint32_t>(1, size * options_.old_eighths / 8);
    while (old_len_ < target) {
      // The youngest-but-last frame, just in front of the boundary, turns old.
      FrameIndex f = old_head_ == FrameList::kNil ? list_.back() : list_.toward_front(old_head_);
      old_[f] = 1;
      old_head_ = f;
      ++old_len_;
    }
    while (old_len_ > target) {
      old_[old_head_] = 0;
      old_head_ = list_.toward_back(old_head_);
      --old_len_;
    }
  }

  const MidpointOptions options_;
  // list_ (RecencyListPolicy): front: young head; back: old tail.
  std::vector<uint8_t> old_;     // 1 when the frame is in the old sublist
  std::vector<uint64_t> inserted_at_;  // requests_ when it entered
  FrameIndex old_head_ = FrameList::kNil;  // first old frame; kNil: none
  uint32_t old_len_ = 0;
  uint64_t requests_ = 0;  // OnInsert and OnAccess calls so far
  uint32_t window_ = 1;
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewMidpointPolicy(const MidpointOptions& options) {
  return std::make_unique<MidpointPolicy>(options);
}

}  // namespace ringdb
