// BufferPool: a fixed set of page-size frames in one pinned, aligned memory
// region, caching pages of one file.
//
// Fetch() returns a PageGuard that pins the page (it cannot be evicted while
// pinned) and holds its latch in shared or exclusive mode. A miss picks a
// victim with the EvictionPolicy, writes it back first when dirty (victims
// are gathered in batches and written with one submit), reads the page with
// O_DIRECT into the frame (a fixed-buffer read when the region is
// registered) and verifies its checksum. Concurrent misses on one page wait
// for a single read.
//
// Where pages live in the file is decided by a PageLocator: by default page
// p lives at offset p * page_size. The engine supplies its own (shadow
// paging) so that a checkpointed page is never overwritten in place.
//
// Thread-safety: every method may be called from any thread. Lock order:
// frame latch, then the pool mutex (the pool never waits for a latch while
// holding its mutex). Guards never do I/O in their destructors.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bufferpool/page.h"
#include "io/io_backend.h"
#include "io/result.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {

enum class LatchMode : uint8_t { kShared, kExclusive };

// Maps page ids to file offsets. Called without the pool mutex held, from
// any thread; implementations synchronize themselves.
class PageLocator {
 public:
  virtual ~PageLocator() = default;
  // Offset to read page `id` from; NotFound when the page has no location.
  virtual Result<uint64_t> ReadOffset(PageId id) = 0;
  // Offset to write page `id` to (may differ from ReadOffset).
  virtual Result<uint64_t> WriteOffset(PageId id) = 0;
  // The write of `id` to `offset` (an offset WriteOffset returned) ended:
  // successfully when `ok`. Called exactly once for every WriteOffset that
  // was followed by a write, failed or not, so the locator knows when no
  // write to a slot is in flight any more.
  virtual void WriteDone(PageId id, uint64_t offset, bool ok) = 0;
};

struct BufferPoolOptions {
  size_t pool_bytes = 64ull << 20;
  uint32_t page_size = 4096;
  // Built-in policy name (see NewEvictionPolicy), used when `policy` is null.
  std::string policy_name = "clock";
  std::shared_ptr<EvictionPolicy> policy;
  // mlock the region when RLIMIT_MEMLOCK allows.
  bool lock_memory = true;
  // Register the region with the backend (fixed buffers).
  bool register_buffers = true;
  // How many victims one eviction round gathers.
  uint32_t eviction_batch = 32;
};

struct PoolStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t reads = 0;          // pages read from disk
  uint64_t writes = 0;         // pages written to disk
  uint64_t evictions = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t dirty_pages = 0;    // now
  uint64_t frames = 0;
  uint64_t used_frames = 0;    // now
  uint64_t busy_waits = 0;     // times a miss waited for a frame to unpin
  double HitRatio() const {
    uint64_t t = hits + misses;
    return t == 0 ? 0.0 : static_cast<double>(hits) / t;
  }
};

class BufferPool;

// A pinned, latched page. Move-only. Destruction (or Release) unlatches and
// unpins; it never does I/O.
class PageGuard {
 public:
  PageGuard() = default;
  PageGuard(PageGuard&& other) noexcept;
  PageGuard& operator=(PageGuard&& other) noexcept;
  PageGuard(const PageGuard&) = delete;
  PageGuard& operator=(const PageGuard&) = delete;
  ~PageGuard() { Release(); }

  bool valid() const { return pool_ != nullptr; }
  PageId id() const { return id_; }
  LatchMode mode() const { return mode_; }

  // The whole page, header included. data() is writable only in exclusive
  // mode. The layer above owns bytes [kPageHeaderSize, page_size).
  const char* data() const { return data_; }
  char* mutable_data();
  uint32_t page_size() const;

  // Marks the page dirty and records the LSN of the change (the page may
  // not be written before the log is durable up to it). Require: exclusive.
  void MarkDirty(Lsn lsn);
  Lsn lsn() const;

  // Unlatches and unpins now.
  void Release();

 private:
  friend class BufferPool;
  PageGuard(BufferPool* pool, FrameId frame, PageId id, char* data, LatchMode mode)
      : pool_(pool), frame_(frame), id_(id), data_(data), mode_(mode) {}

  BufferPool* pool_ = nullptr;
  FrameId frame_;
  PageId id_;
  char* data_ = nullptr;
  LatchMode mode_ = LatchMode::kShared;
};

class BufferPool {
 public:
  // Allocates the region (mmap, aligned, mlock'd where allowed), registers
  // it with `io`, and prepares the policy. `file` is the file pages live in;
  // `locator` may be null (page p at p * page_size). `io` and `locator` must
  // outlive the pool. *notice receives one line for each degradation
  // (mlock refused, registration refused), empty when none.
  static Result<std::unique_ptr<BufferPool>> Create(const BufferPoolOptions& options,
                                                    io::IoBackend* io, io::FileId file,
                                                    PageLocator* locator,
                                                    std::string* notice);
  ~BufferPool();

  // Pins and latches page `id`, reading it from disk on a miss. Corruption
  // when the checksum or page id does not match; IOError on a failed read;
  // Busy when every frame is pinned.
  Result<PageGuard> Fetch(PageId id, LatchMode mode);

  // A page that has never been written: gets a zeroed frame, latched
  // exclusive and dirty, without reading. Require: `id` not cached.
  Result<PageGuard> NewPage(PageId id);

  // Reads every listed page that is not cached, with one batched submit,
  // and leaves them cached and unpinned. Read-ahead never waits for a frame
  // and never takes more than half of the pool: it stops early (OK) instead.
  // Returns the first read error.
  Status Prefetch(std::span<const PageId> ids);

  // Like Fetch for many pages: one submit for all misses, then latches them
  // in the order given. (*guards) receives one guard per id.
  Status FetchMany(std::span<const PageId> ids, LatchMode mode,
                   std::vector<PageGuard>* guards);

  // Waits for eviction write-backs in flight, writes every dirty page in
  // batches, then fdatasyncs the file. Pages dirtied while it runs may stay
  // dirty; the engine holds its writers back during a checkpoint.
  Status FlushAll();

  // Forgets page `id` without writing it (it was freed). Require: unpinned.
  void Discard(PageId id);

  // Before a page with LSN x is written, the pool calls gate(x); the write
  // waits for it and is abandoned if it fails. Set once before use.
  void SetWriteGate(std::function<Status(Lsn)> gate);

  bool IsCached(PageId id);
  PoolStats stats() const;
  uint32_t page_size() const { return page_size_; }
  uint32_t num_frames() const { return num_frames_; }
  const char* policy_name() const { return policy_->Name(); }
  io::IoBackend* io() const { return io_; }

 private:
  friend class PageGuard;
  struct Frame;
  class VictimFilter;

  BufferPool() = default;

  Frame& frame(FrameId f);
  char* FrameData(FrameId f) const {
    return region_ + static_cast<size_t>(f.value) * page_size_;
  }
  void Unpin(FrameId f, LatchMode mode);
  // Drops one pin; frees orphaned frames. Require: mu_ held.
  void UnpinLocked(FrameId f);
  // A free frame, evicting a batch of victims when none is free. May release
  // and retake `lock`. Busy when every frame stays pinned (after waiting up
  // to 2 s for an unpin, or at once when !may_wait).
  Result<FrameId> AllocateFrame(std::unique_lock<std::mutex>& lock, bool may_wait = true);
  // Phases: (1) pick victims under the mutex, dropping clean ones at once;
  // (2) write the dirty ones together without the mutex; (3) free those
  // that stayed unpinned and clean.
  Status EvictBatch(std::unique_lock<std::mutex>& lock, bool* progress);
  // Writes frames that the caller pinned and latched (shared). Clears their
  // dirty flags; restores them on failure.
  Status WriteFrames(std::span<const FrameId> frames);
  // Reads pages into frames that the caller reserved (kLoading, latched
  // exclusive) and verifies them; returns one Status per frame.
  void ReadFrames(std::span<const FrameId> frames, std::vector<Status>* out);
  // Finishes a load under the mutex: ready, or failed and unmapped.
  void FinishLoadLocked(FrameId f, const Status& s);
  Status VerifyPage(PageId id, const char* data) const;
  Result<uint64_t> ReadOffsetOf(PageId id);

  uint32_t page_size_ = 0;
  uint32_t num_frames_ = 0;
  uint32_t eviction_batch_ = 32;
  char* region_ = nullptr;
  size_t region_bytes_ = 0;
  bool locked_ = false;
  io::IoBackend* io_ = nullptr;
  io::FileId file_;
  PageLocator* locator_ = nullptr;
  std::shared_ptr<EvictionPolicy> policy_;
  std::function<Status(Lsn)> write_gate_;

  std::unique_ptr<Frame[]> frames_;
  mutable std::mutex mu_;  // guards table_, free_, policy_, frame states
  std::condition_variable cv_;  // frame state changes (load done, unpinned)
  std::unordered_map<PageId, FrameId> table_;
  std::vector<FrameId> free_;

  std::atomic<uint64_t> hits_{0}, misses_{0}, reads_{0}, writes_{0}, evictions_{0},
      bytes_read_{0}, bytes_written_{0}, busy_waits_{0}, dirty_count_{0};
  uint32_t used_frames_ = 0;  // guarded by mu_
  size_t evict_writes_ = 0;    // guarded by mu_: eviction write-backs in flight
};

}  // namespace ringdb
