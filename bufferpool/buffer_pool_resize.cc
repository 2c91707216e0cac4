// BufferPool::Resize: the pool grows and shrinks online within the region
// reserved at creation. See buffer_pool.h for the contract.
//
// The active count splits the frames: [0, active) may hold pages,
// [active, num_frames) are retired. PushFree files a freed frame by the
// count (free_ or retired_free_), under free_mu_, which is also where the
// count changes, so a retired frame never reaches free_ again.
//
// A shrink, in phases:
//   1. Under free_mu_: lower the count and move the retired frames that are
//      free from free_ to retired_free_.
//   2. Evict the retired frames that hold pages (EvictBatch with them as
//      the victims: clean ones at once, dirty ones written together), until
//      every retired frame is in retired_free_. A frame a loader took from
//      free_ before phase 1 gets its page and is evicted on a later pass.
//   3. Give their memory back to the kernel when the region is not
//      registered (a registered page is pinned by the kernel; dropping it
//      would leave the registration pointing at pages the process no
//      longer maps).
// A grow locks the memory again (best effort, as at creation), raises the
// count and moves the frames it re-enables from retired_free_ to free_.
#include <sys/mman.h>

#include <chrono>
#include <thread>

#include "bufferpool/buffer_pool.h"
#include "bufferpool/frame.h"
#include "util/check.h"

namespace ringdb {
namespace {

constexpr uint32_t kMinFrames = 16;
constexpr auto kShrinkPatience = std::chrono::seconds(5);

}  // namespace

Status BufferPool::Resize(size_t bytes) {
  MutexLock resize(&resize_mu_);
  const uint64_t want = bytes / page_size_;
  if (want < kMinFrames) {
    return Status::InvalidArgument("buffer pool of " + std::to_string(bytes) +
                                   " bytes holds fewer than " + std::to_string(kMinFrames) +
                                   " pages of " + std::to_string(page_size_) + " bytes");
  }
  if (want > num_frames_) {
    return Status::InvalidArgument(
        "buffer pool of " + std::to_string(bytes) + " bytes is larger than the " +
        std::to_string(region_bytes_) + " bytes reserved when the pool was created");
  }
  const uint32_t frames = static_cast<uint32_t>(want);
  Status s;
  if (frames > active_frames()) {
    Grow(frames);
  } else if (frames < active_frames()) {
    s = Shrink(frames);
  }
  if (mrc_) mrc_->SetPoolFrames(frames);
  return s;
}

void BufferPool::Grow(uint32_t frames) {
  const uint32_t old = active_frames();
  if (locked_ && !registered_) {
    // Best effort, as at creation: an unlocked frame still works.
    (void)mlock(FrameData(FrameId{old}), size_t{frames - old} * page_size_);
  }
  MutexLock lock(&free_mu_);
  active_frames_.store(frames, std::memory_order_relaxed);
  std::vector<FrameId> still_retired;
  for (FrameId f : retired_free_) {
    (f.value < frames ? free_ : still_retired).push_back(f);
  }
  retired_free_.swap(still_retired);
}

Status BufferPool::Shrink(uint32_t frames) {
  // Phase 1.
  {
    MutexLock lock(&free_mu_);
    active_frames_.store(frames, std::memory_order_relaxed);
    std::vector<FrameId> kept;
    for (FrameId f : free_) (f.value < frames ? kept : retired_free_).push_back(f);
    free_.swap(kept);
  }
  // Phase 2.
  const auto deadline = std::chrono::steady_clock::now() + kShrinkPatience;
  for (;;) {
    {
      MutexLock lock(&free_mu_);
      if (retired_free_.size() == size_t{num_frames_} - frames) break;
    }
    std::vector<FrameIndex> held;
    for (uint32_t i = frames; i < num_frames_; i++) {
      if (frame(FrameId{i}).page.load(std::memory_order_acquire) != PageId::kInvalidValue) {
        held.push_back(i);
      }
    }
    EvictRound round;
    if (!held.empty()) EvictBatch(/*retry_unwritable=*/true, &round, &held);
    if (round.freed > 0) continue;
    if (round.write_failed > 0) {
      return round.write_error.WithContext("buffer pool: shrinking to " +
                                           std::to_string(frames) + " frames");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Busy("buffer pool: shrinking to " + std::to_string(frames) +
                          " frames: some of the retired frames stayed in use for 5 s; they "
                          "leave as eviction frees them");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  // Phase 3.
  if (!registered_) {
    char* start = FrameData(FrameId{frames});
    const size_t len = size_t{num_frames_ - frames} * page_size_;
    if (locked_) (void)munlock(start, len);
    (void)madvise(start, len, MADV_DONTNEED);
  }
  return Status::OK();
}

}  // namespace ringdb
