// S3-FIFO (Yang et al., SOSP '23), with its ghost queue when page ids are
// given.
//
// Two FIFO queues: a small one S (a tenth of the frames) that every new
// page enters, and a main one M. Each frame has a 2-bit access counter,
// raised by every access and never moving the frame. Eviction:
// - When S holds at least its share (or M has nothing evictable), S's
//   oldest frames are examined: one that was accessed while in S moves to
//   the front of M with its counter cleared; the first one that was not is
//   the victim. Most pages that are used once leave from S quickly.
// - Otherwise M's oldest frame is examined: a nonzero counter is decremented
//   and the frame goes back to the front of M (a CLOCK with up to three
//   extra passes); a zero counter makes it the victim.
// - When neither finds one, S is walked once more whatever its size; the
//   accessed frames it moves to M arrive with cleared counters, so M is
//   asked again (without that last step Victim could answer false while
//   such a frame was evictable).
// Frames the filter refuses are passed over untouched. Each examination
// either names the victim, moves a frame from S to M, or lowers a counter,
// so Victim ends after O(4 * tracked frames) steps at worst; the other
// operations are O(1).
//
// Ghost queue G: the EvictionPolicy interface gives frame numbers only, so
// the policy also implements PageAwarePolicy: the driver (the pool, a
// simulator) names the page a frame receives before OnInsert. A page that
// leaves S is remembered in G, a FIFO of page ids as long as the pool has
// frames; a page inserted while G remembers it enters M directly, as in the
// paper. Without SetFramePage calls (an application driving the policy
// itself) there are no ghosts and a returning page starts again in S.
// G is a GhostList (util/ghost_list.h) of weight 1 per page, about 40
// bytes per frame (a ring of ids and a hash map).
//
// Thread-safety: OnAccess from any thread at any time (a relaxed atomic
// counter that stops being written at kMaxFreq; a lost increment is a lost
// hint); the other methods under the pool's policy serialization.
#include <algorithm>

#include "bufferpool/eviction/policy_util.h"
#include "util/ghost_list.h"

namespace ringdb {
namespace {

constexpr uint8_t kMaxFreq = 3;

class S3FifoPolicy final : public EvictionPolicy, public PageAwarePolicy {
 public:
  const char* Name() const override { return "s3fifo"; }

  void Init(uint32_t num_frames) override {
    num_frames_ = num_frames;
    small_.Init(num_frames);
    main_.Init(num_frames);
    freq_.Init(num_frames);
    small_target_ = std::max<uint32_t>(1, num_frames / 10);
    page_of_.assign(num_frames, kNoPage);
    ghost_.SetCapacity(0);  // forgets every ghost
    ghost_.SetCapacity(num_frames);
  }

  void SetFramePage(FrameIndex frame, uint64_t page) override {
    CheckFrame(frame, num_frames_);
    page_of_[frame] = page;
  }

  void OnInsert(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    Unlink(frame);
    if (TakeGhost(page_of_[frame])) {
      main_.PushFront(frame);
    } else {
      small_.PushFront(frame);
    }
    freq_.set(frame, 0);
  }

  // An untracked frame's counter is harmless: OnInsert clears it.
  void OnAccess(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    uint8_t f = freq_.get(frame);
    if (f < kMaxFreq) freq_.set(frame, f + 1);
  }

  void OnRemove(FrameIndex frame) override {
    CheckFrame(frame, num_frames_);
    if (small_.contains(frame)) AddGhost(page_of_[frame]);
    Unlink(frame);
    page_of_[frame] = kNoPage;
  }

  bool Victim(const FrameFilter& filter, FrameIndex* victim) override {
    if (small_.size() >= small_target_ && EvictFromSmall(filter, victim)) return true;
    if (EvictFromMain(filter, victim)) return true;
    if (EvictFromSmall(filter, victim)) return true;
    // That walk of S may have moved accessed frames into M with cleared
    // counters: they are evictable now.
    return EvictFromMain(filter, victim);
  }

 private:
  static constexpr uint64_t kNoPage = ~uint64_t{0};

  // Remembers `page` as having left S; the oldest ghosts beyond
  // num_frames_ are forgotten.
  void AddGhost(uint64_t page) {
    if (page != kNoPage) ghost_.Add(page, 1);
  }

  // True (and forgets it) when `page` is a ghost.
  bool TakeGhost(uint64_t page) { return page != kNoPage && ghost_.Take(page); }

  void Unlink(FrameIndex frame) {
    if (small_.contains(frame)) small_.Remove(frame);
    if (main_.contains(frame)) main_.Remove(frame);
    freq_.set(frame, 0);
  }

  // Walks S from its oldest frame; see the file comment.
  bool EvictFromSmall(const FrameFilter& filter, FrameIndex* victim) {
    FrameIndex f = small_.back();
    while (f != FrameList::kNil) {
      FrameIndex newer = small_.toward_front(f);
      if (filter.CanEvict(f)) {
        if (freq_.get(f) == 0) {
          *victim = f;
          return true;
        }
        small_.Remove(f);
        main_.PushFront(f);
        freq_.set(f, 0);
      }
      f = newer;
    }
    return false;
  }

  // Walks M in passes from its oldest frame. A pass visits exactly the
  // frames M held when it began (a frame given another pass goes to the
  // front, behind them); refused frames stay where they are. Every pass
  // that meets an evictable frame lowers its counter, so after at most
  // kMaxFreq + 1 passes one reaches zero, and a pass that meets none
  // proves that M has no victim.
  bool EvictFromMain(const FrameFilter& filter, FrameIndex* victim) {
    for (uint32_t pass = 0; pass <= kMaxFreq; ++pass) {
      bool met_evictable = false;
      FrameIndex f = main_.back();
      for (uint32_t left = main_.size(); left > 0 && f != FrameList::kNil; --left) {
        FrameIndex newer = main_.toward_front(f);
        if (filter.CanEvict(f)) {
          if (freq_.get(f) == 0) {
            *victim = f;
            return true;
          }
          met_evictable = true;
          freq_.set(f, freq_.get(f) - 1);
          main_.MoveToFront(f);
        }
        f = newer;
      }
      if (!met_evictable) return false;
    }
    return false;
  }

  uint32_t num_frames_ = 0;
  uint32_t small_target_ = 1;
  FrameList small_;  // front: newest
  FrameList main_;   // front: newest
  AtomicBytes freq_;
  std::vector<uint64_t> page_of_;  // per frame, from SetFramePage
  GhostList ghost_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewS3FifoPolicy() { return std::make_unique<S3FifoPolicy>(); }

}  // namespace ringdb
