// BufferPool's memory region and Resize: the pool grows and shrinks online,
// in chunks, up to the frames reserved at creation. See buffer_pool.h for
// the contract.
//
// The region: Create reserves address space for reserved_frames() frames
// (max_pool_bytes; MAP_NORESERVE, so untouched frames cost nothing) and
// cuts it into chunks, as InnoDB's innodb_buffer_pool_chunk_size does:
// chunk 0 is the frames given at creation, each later chunk chunk_bytes
// (the last one may be shorter). A chunk's frames are locked (mlock, best
// effort) as the pool grows into them; a chunk is registered with the
// backend as its own buffer (fixed-buffer I/O) once the pool covers all of
// it. Frames of a chunk the pool covers only in part are read and written
// with plain (non-fixed) requests: the backend uses a fixed request only
// for a buffer inside a registered region. Chunk 0 is registered at
// creation, as the whole region was before chunks.
//
// The active count splits the frames: [0, active) may hold pages,
// [active, reserved) are retired. PushFree files a freed frame by the
// count (free_ or retired_free_), under free_mu_, which is also where the
// count changes, so a retired frame never reaches free_ again.
//
// A grow: lock (and register the chunks it completes) first, then raise
// the count and hand the re-enabled frames from retired_free_ to free_. So
// memory is ready before any page can enter it.
//
// A shrink, in phases:
//   1. Under free_mu_: lower the count and move the retired frames that are
//      free from free_ to retired_free_.
//   2. Evict the retired frames that hold pages (EvictBatch with them as
//      the victims: clean ones at once, dirty ones written together), until
//      every retired frame is in retired_free_. A frame a loader took from
//      free_ before phase 1 gets its page and is evicted on a later pass.
//   3. Give the retired frames' memory back: a chunk wholly retired is
//      unregistered (no request can be using it: all its frames are free),
//      unlocked and dropped (MADV_DONTNEED). A chunk retired only in part is
//      unlocked and dropped beyond the count when it is not registered; a
//      registered one stays pinned by the kernel (its other frames may have
//      requests in flight through that registration), so there only the
//      page budget shrinks until the pool shrinks below the chunk's start.
// Dropped memory stays mapped (readable as zeros): an optimistic reader
// may still read a frame it looked at before the eviction, and validates
// afterwards.
//
// Lock rules: resize_mu_ serializes Resize and guards chunks_; it is taken
// before every other pool mutex (buffer_pool.h).
#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "bufferpool/buffer_pool.h"
#include "bufferpool/frame.h"
#include "util/check.h"

namespace ringdb {
namespace {

constexpr uint32_t kMinFrames = 16;
constexpr auto kShrinkPatience = std::chrono::seconds(5);

std::string MemlockLimit() {
  struct rlimit rl {};
  getrlimit(RLIMIT_MEMLOCK, &rl);
  return rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_cur);
}

void Append(std::string* notice, const std::string& line) {
  if (notice == nullptr) return;
  if (!notice->empty()) *notice += "; ";
  *notice += line;
}

}  // namespace

Status BufferPool::MapRegion(const BufferPoolOptions& options, uint32_t initial_frames,
                             std::string* notice) {
  region_bytes_ = size_t{num_frames_} * page_size_;
  const int flags =
      MAP_PRIVATE | MAP_ANONYMOUS | (num_frames_ > initial_frames ? MAP_NORESERVE : 0);
  void* mem = mmap(nullptr, region_bytes_, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (mem == MAP_FAILED) {
    return Status::IOError("buffer pool: mmap of " + std::to_string(region_bytes_) +
                           " bytes failed: " + std::strerror(errno));
  }
  region_ = static_cast<char*>(mem);
  // Huge pages halve TLB misses on random frame access; advisory only.
  (void)madvise(mem, region_bytes_, MADV_HUGEPAGE);
  lock_memory_ = options.lock_memory;
  register_buffers_ = options.register_buffers && io_->direct();
  const uint32_t chunk_frames = static_cast<uint32_t>(
      std::max<size_t>(kMinFrames, options.chunk_bytes / page_size_));
  MutexLock lock(&resize_mu_);
  chunks_.push_back(Chunk{0, initial_frames});
  for (uint32_t f = initial_frames; f < num_frames_; f += std::min(chunk_frames, num_frames_ - f)) {
    chunks_.push_back(Chunk{f, std::min(chunk_frames, num_frames_ - f)});
  }
  CommitChunks(initial_frames, notice);
  return Status::OK();
}

void BufferPool::UnmapRegion() {
  if (region_ == nullptr) return;
  MutexLock lock(&resize_mu_);
  for (Chunk& c : chunks_) {
    if (c.registered) io_->UnregisterBuffer(FrameData(FrameIndex{c.first}));
    if (c.locked > 0) (void)munlock(FrameData(FrameIndex{c.first}), size_t{c.locked} * page_size_);
  }
  munmap(region_, region_bytes_);
  region_ = nullptr;
}

void BufferPool::CommitChunks(uint32_t frames, std::string* notice) {
  for (Chunk& c : chunks_) {
    if (c.first >= frames) break;
    const uint32_t want = std::min(c.frames, frames - c.first);
    if (lock_memory_ && c.locked < want) {
      // Best effort, as at creation: an unlocked frame still works.
      if (mlock(FrameData(FrameIndex{c.first + c.locked}), size_t{want - c.locked} * page_size_) ==
          0) {
        c.locked = want;
      } else {
        const int err = errno;
        Append(notice, "buffer pool not locked in memory (mlock of " +
                           std::to_string(size_t{want - c.locked} * page_size_) +
                           " bytes: " + std::strerror(err) +
                           ", RLIMIT_MEMLOCK=" + MemlockLimit() + "); pages may be swapped out");
      }
    }
    if (register_buffers_ && !c.registered && want == c.frames) {
      Status s = io_->RegisterBuffer(FrameData(FrameIndex{c.first}), size_t{c.frames} * page_size_);
      c.registered = s.ok();
      if (!s.ok()) Append(notice, s.message().empty() ? s.ToString() : s.message());
    }
  }
}

void BufferPool::ReleaseChunks(uint32_t frames) {
  for (Chunk& c : chunks_) {
    if (c.first + c.frames <= frames) continue;
    const uint32_t keep = frames > c.first ? frames - c.first : 0;
    if (c.registered) {
      if (keep > 0) continue;  // pinned by the registration (see the top)
      io_->UnregisterBuffer(FrameData(FrameIndex{c.first}));
      c.registered = false;
    }
    if (c.locked > keep) {
      (void)munlock(FrameData(FrameIndex{c.first + keep}), size_t{c.locked - keep} * page_size_);
      c.locked = keep;
    }
    (void)madvise(FrameData(FrameIndex{c.first + keep}), size_t{c.frames - keep} * page_size_,
                  MADV_DONTNEED);
  }
}

uint32_t BufferPool::registered_chunks() {
  MutexLock lock(&resize_mu_);
  uint32_t n = 0;
  for (const Chunk& c : chunks_) n += c.registered ? 1 : 0;
  return n;
}

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
        std::to_string(region_bytes_) +
        " bytes reserved when the pool was created (the maximum: buffer_pool_max_bytes)");
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
  CommitChunks(frames, nullptr);
  MutexLock lock(&free_mu_);
  active_frames_.store(frames, std::memory_order_relaxed);
  std::vector<FrameIndex> still_retired;
  for (FrameIndex f : retired_free_) {
    (f < frames ? free_ : still_retired).push_back(f);
  }
  retired_free_.swap(still_retired);
}

Status BufferPool::Shrink(uint32_t frames) {
  // Phase 1.
  {
    MutexLock lock(&free_mu_);
    active_frames_.store(frames, std::memory_order_relaxed);
    std::vector<FrameIndex> kept;
    for (FrameIndex f : free_) (f < frames ? kept : retired_free_).push_back(f);
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
      if (frame(FrameIndex{i}).page.load(std::memory_order_acquire) != PageId::kInvalidValue) {
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
  ReleaseChunks(frames);
  return Status::OK();
}

}  // namespace ringdb
