// BufferPool: a fixed set of page-size frames in one pinned, aligned memory
// region, caching pages of one file.
//
// Fetch() returns a PageGuard that pins the page (it cannot be evicted while
// pinned) and holds its latch in shared or exclusive mode. FetchOptimistic()
// returns an OptimisticGuard that holds nothing: the caller reads the page
// and then asks the guard whether the page stayed unchanged meanwhile. A
// miss picks a victim with the EvictionPolicy, writes it back first when
// dirty (victims are gathered in batches and written with one submit),
// reads the page with O_DIRECT into the frame (a fixed-buffer read when the
// region is registered) and verifies its checksum. Concurrent misses on one
// page wait for a single read.
//
// The protocol (vmcache / LeanStore style):
// - Each frame has one atomic word holding its latch (unlocked, shared
//   count, exclusive, evicted) and a version bumped by every exclusive
//   unlock (bufferpool/page_state.h). "Pinned" means latched: a PageGuard
//   holds a shared or exclusive latch, and eviction only takes frames
//   whose latch it can take itself without waiting, so it never takes a
//   frame somebody holds.
// - The page table (bufferpool/page_table.h) is read without a lock; a hit
//   latches the frame it found and checks the frame still holds the page.
//   A miss takes the lock of one table partition to enter the page.
// - The eviction policy hears about hits without any lock; everything else
//   it hears (inserts, removals, victim requests) under the pool's policy
//   mutex, so one thread at a time picks a batch of victims.
// So a hit takes no pool-wide lock: a shared-latch hit writes only the
// frame's own state word, an optimistic hit writes nothing shared (the hit
// counter is striped per thread; built-in policies write a reference bit
// only when it is not already set).
//
// Write failures: when the write-back of a dirty victim fails, the page
// stays cached and dirty, eviction passes over it while it can free other
// frames, and the read that needed a frame is served. Only when no frame
// can be freed does a read fail, with the write error.
//
// Where pages live in the file is decided by a PageLocator: by default page
// p lives at offset p * page_size. The engine supplies its own (shadow
// paging) so that a checkpointed page is never overwritten in place.
//
// Thread-safety: every method may be called from any thread. Lock order:
// resize_mu_, then policy_mu_, then a page-table partition's mutex, then free_mu_. A frame
// latch may be held while taking any of them; no thread waits for a latch
// while holding one (the evictor only tries latches). Guards never do I/O
// in their destructors.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bufferpool/mrc.h"
#include "bufferpool/page.h"
#include "bufferpool/striped_counter.h"
#include "io/io_backend.h"
#include "util/result.h"
#include "util/thread_annotations.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {

enum class LatchMode : uint8_t { kShared, kExclusive };

// Maps page ids to file offsets. Called with no pool mutex held, from any
// thread; implementations synchronize themselves.
class PageLocator {
 public:
  virtual ~PageLocator() = default;
  // Offset to read page `id` from; NotFound when the page has no location.
  virtual Result<uint64_t> ReadOffset(PageId id) = 0;
  // Offset to write page `id` to (may differ from ReadOffset).
  virtual Result<uint64_t> WriteOffset(PageId id) = 0;
  // The write of `id` to `offset` ended: `ok` says whether it succeeded.
  // Called exactly once for every offset WriteOffset() returned, whether
  // the write succeeded, failed or was never submitted.
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
  // Sample accesses for the miss-ratio curve and the policy simulations
  // (bufferpool/mrc.h); costs one hash and compare per access.
  bool miss_ratio_curve = true;
  MrcOptions mrc;
  // Resize may grow the pool up to max_pool_bytes (0 or less than
  // pool_bytes: pool_bytes). Address space for it is reserved at creation;
  // memory beyond pool_bytes is locked and registered in chunks of
  // chunk_bytes as the pool grows into them (buffer_pool_resize.cc). The
  // frame headers, page table and policy are sized for the maximum (about
  // 100 bytes per reserved frame).
  size_t max_pool_bytes = 0;
  size_t chunk_bytes = 128ull << 20;
  // At most this share of the active frames may hold resident-priority
  // pages (KeepResident); the rest is left to the policy. 0 turns the
  // priority off.
  double resident_fraction = 0.25;
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
  uint64_t write_failures = 0; // eviction or flush writes that failed
  uint64_t unwritable_pages = 0;  // now: dirty pages whose last write failed
  uint64_t resident_pages = 0;    // now: pages kept with resident priority
  double HitRatio() const {
    uint64_t t = hits + misses;
    return t == 0 ? 0.0 : static_cast<double>(hits) / t;
  }
};

class BufferPool;
class PageTable;
struct FrameHeader;

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

  // Asks the pool to keep this page ahead of others (BufferPool::
  // KeepResident). Any latch mode.
  void KeepResident() const;

  // Unlatches and unpins now.
  void Release();

 private:
  friend class BufferPool;
  friend class OptimisticGuard;
  PageGuard(BufferPool* pool, FrameIndex frame, PageId id, char* data, LatchMode mode)
      : pool_(pool), frame_(frame), id_(id), data_(data), mode_(mode) {}

  BufferPool* pool_ = nullptr;
  FrameIndex frame_;
  PageId id_;
  char* data_ = nullptr;
  LatchMode mode_ = LatchMode::kShared;
};

// A page read without any latch: the frame's data and the version it had.
// The reader reads data() (it may see a page being changed, torn bytes, or
// another page's bytes after an eviction: it must not trust a pointer or a
// length it read, nor loop on one, before Validate()) and then calls
// Validate(): true means nothing changed the frame since FetchOptimistic,
// so what was read is a consistent image of page id(). On false the reader
// restarts (fetch again). Copyable; holds nothing, so it never blocks
// anybody and is valid for as long as the pool exists.
//
// Under ThreadSanitizer, reads of data() racing with a writer are reported
// as races unless made through atomics (std::atomic_ref); that is the price
// of optimistic reading, as in every seqlock.
class OptimisticGuard {
 public:
  OptimisticGuard() = default;
  PageId id() const { return id_; }
  const char* data() const { return data_; }
  uint64_t version() const { return version_; }
  // True when the page was neither changed nor evicted since it was read.
  bool Validate() const;
  // Latches the page in `mode` if it is still at version(): *out receives
  // a PageGuard whose data equals what this guard saw. False (out
  // untouched) when it changed or cannot be latched at once.
  bool TryLatch(LatchMode mode, PageGuard* out) const;
  // BufferPool::KeepResident for the frame this guard read. Call it after
  // Validate(): on a frame reused since, it only gives another page the
  // priority until that page leaves.
  void KeepResident() const;

 private:
  friend class BufferPool;
  OptimisticGuard(BufferPool* pool, FrameIndex frame, PageId id, const char* data,
                  uint64_t version)
      : pool_(pool), frame_(frame), id_(id), data_(data), version_(version) {}

  BufferPool* pool_ = nullptr;
  FrameIndex frame_;
  PageId id_;
  const char* data_ = nullptr;
  uint64_t version_ = 0;
};

// Marks a stretch of optimistic reading (reads of OptimisticGuard::data()
// that race with writers by design and are validated afterwards). Under
// ThreadSanitizer it stops the thread's plain reads from being recorded,
// so the seqlock-style races are not reported; the atomics that order them
// (the version word) are still checked. Elsewhere it costs nothing. Nest
// freely within one thread; keep the scope to the reading itself.
#if defined(__SANITIZE_THREAD__)
#define RINGDB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RINGDB_TSAN 1
#endif
#endif
class OptimisticReadScope {
 public:
#if defined(RINGDB_TSAN)
  OptimisticReadScope();
  ~OptimisticReadScope();
#else
  OptimisticReadScope() {}   // user-provided: a scope is "used"
  ~OptimisticReadScope() {}  // NOLINT(modernize-use-equals-default)
#endif
  OptimisticReadScope(const OptimisticReadScope&) = delete;
  OptimisticReadScope& operator=(const OptimisticReadScope&) = delete;
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
  // Busy when every frame stays pinned; the write error (e.g. NoSpace) when
  // every frame that is not pinned holds a dirty page that cannot be
  // written.
  Result<PageGuard> Fetch(PageId id, LatchMode mode);

  // Page `id` for an optimistic read (see OptimisticGuard): on a hit it
  // takes no latch and writes no shared memory; on a miss it reads the page
  // as Fetch does. Waits while the page is latched exclusively. Same errors
  // as Fetch.
  Result<OptimisticGuard> FetchOptimistic(PageId id);
  // One non-blocking look at `id` for an optimistic read: kHit fills *out
  // as TryFetchOptimistic does; kMiss: not cached; kBusy: cached but
  // latched exclusively (being written, or read in) or changing, try
  // later. For pipelines that must not wait while they have reads in
  // flight (AsyncReads).
  enum class Probe : uint8_t { kHit, kMiss, kBusy };
  Probe ProbeOptimistic(PageId id, OptimisticGuard* out);
  // FetchOptimistic for a hit only: false (out untouched, nothing read)
  // when `id` is not cached. For readers holding a page id they have not
  // validated yet: a miss must not read a page that may have been freed.
  bool TryFetchOptimistic(PageId id, OptimisticGuard* out);

  // A page that has never been written: gets a zeroed frame, latched
  // exclusive and dirty, without reading. Require: `id` not cached.
  Result<PageGuard> NewPage(PageId id);

  // Reads every listed page that is not cached, with one batched submit,
  // and leaves them cached and unpinned. Read-ahead never waits for a frame
  // and never takes more than half of the pool: it stops early (OK) instead.
  // Returns the first read error.
  Status Prefetch(std::span<const PageId> ids);

  // Reads pages without waiting for each (a pipeline such as MultiGet's):
  // Start() enters a page that is not cached and queues its read,
  // Submit() starts every queued read with one submit, Reap() waits for at
  // least one and returns the pages whose reads ended. While its read is
  // in flight a page is latched exclusively by the reader: anyone who
  // fetches it waits, so the owner must not Fetch (or TryFetchOptimistic)
  // a page it started before reaping it, and must not wait for any latch
  // while reads are in flight (use ProbeOptimistic). A page read well is
  // cached and unpinned, as Prefetch leaves it; a failed one is dropped
  // (the next Fetch reads it again and reports the error). Never waits for
  // a frame and never takes more than max_in_flight frames. The caller
  // vouches that every id it starts is allocated (as for Prefetch).
  // Destruction reaps what is in flight. One thread at a time.
  class AsyncReads {
   public:
    enum class Start : uint8_t {
      kStarted,    // the read is queued
      kNotNeeded,  // cached, being read by another thread, or unreadable
      kNoRoom,     // max_in_flight reached or no frame free now: reap first
    };
    ~AsyncReads();
    AsyncReads(const AsyncReads&) = delete;
    AsyncReads& operator=(const AsyncReads&) = delete;
    Start StartRead(PageId id);
    void Submit();
    // Appends the pages whose reads ended to *done; returns at once when
    // none is in flight.
    void Reap(std::vector<PageId>* done);
    size_t in_flight() const;

   private:
    friend class BufferPool;
    AsyncReads(BufferPool* pool, std::unique_ptr<io::IoQueue> queue)
        : pool_(pool), queue_(std::move(queue)) {}
    BufferPool* const pool_;
    std::unique_ptr<io::IoQueue> queue_;
    std::vector<io::IoCompletion> completions_;
  };
  std::unique_ptr<AsyncReads> NewAsyncReads(size_t max_in_flight);

  // Like Fetch for many pages: one submit for all misses, then latches them
  // in the order given. (*guards) receives one guard per id.
  Status FetchMany(std::span<const PageId> ids, LatchMode mode,
                   std::vector<PageGuard>* guards);

  // Waits for eviction write-backs in flight, writes every dirty page in
  // batches, then fdatasyncs the file. Pages dirtied while it runs may stay
  // dirty; the engine holds its writers back during a checkpoint.
  Status FlushAll();

  // Background write-back (a page cleaner): writes dirty pages whose newest
  // change is at or before `max_lsn`, at most `max_pages` of them, in page
  // id order, without waiting for any latch (pages latched exclusively or
  // being written are passed over) and without fdatasync. They stay cached,
  // now clean, so a later FlushAll has less to write. Pages whose last
  // write failed are left to eviction and FlushAll. Returns how many pages
  // it wrote; the first write error. Must not run while FlushAll runs (the
  // engine serialises the two).
  //
  // It does not call the write gate: waiting for the log there made the
  // cleaner's log fdatasync hold up every writer's log write (group
  // commit). The locator must therefore never let recovery read a page
  // written ahead of the log until the log is durable up to it: shadow
  // paging (PageStore) writes such pages to slots no checkpoint names, and
  // a checkpoint makes the log durable up to its start before it names them.
  Result<size_t> FlushCold(Lsn max_lsn, size_t max_pages);

  // Forgets page `id` without writing it (it was freed). Require: the
  // caller holds no latch on it (waits for other holders to leave).
  void Discard(PageId id);

  // Before a page with LSN x is written, the pool calls gate(x); the write
  // waits for it and is abandoned if it fails. Set once before use.
  void SetWriteGate(std::function<Status(Lsn)> gate);

  // After a page read from disk passes its checksum and page-id check, the
  // pool calls check(id, data) before anyone sees it; an error fails the
  // read (the frame is freed). The engine checks whole nodes here, once per
  // read, instead of on every edit. Set once before use.
  void SetReadCheck(std::function<Status(PageId, const char*)> check);

  // Resizes the pool while it is in use to bytes / page_size frames, at
  // least 16 and at most reserved_frames() (max_pool_bytes; frames beyond
  // the active count are "retired").
  // - Shrinking retires the highest frames: no page enters them any more,
  //   their pages are evicted (dirty ones written first, in one batch) and
  //   it returns once every retired frame is free, so from then on at most
  //   the new count of frames holds pages. Busy when a retired frame stayed
  //   latched for 5 s; the write error when a dirty page in one cannot be
  //   written. Either way the count stays lowered and those frames leave as
  //   ordinary eviction frees them.
  // - Growing locks the memory it enables (and registers every chunk it
  //   completes with the backend), then hands the frames out.
  // - Memory: a shrink returns the retired frames' memory to the kernel
  //   (munlock, then MADV_DONTNEED), unregistering every chunk it retires
  //   whole; a registered chunk retired only in part stays pinned by the
  //   kernel's registration, so there only the page budget shrinks (see
  //   buffer_pool_resize.cc).
  // Resizes are serialized with each other; readers and writers go on.
  Status Resize(size_t bytes) EXCLUDES(resize_mu_, policy_mu_, free_mu_);
  // Chunks registered with the backend now (for tests and statistics).
  uint32_t registered_chunks() EXCLUDES(resize_mu_);
  // Frames pages may occupy now (reserved_frames() until a Resize); what
  // the layers above size their batches by.
  uint32_t active_frames() const { return active_frames_.load(std::memory_order_relaxed); }
  uint32_t num_frames() const { return active_frames(); }

  // Pages evicted and misses so far (PoolStats' counts, without the rest).
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  // Demand reads (misses that read their page: Fetch and its kin, and
  // AsyncReads) the calling thread has made in any pool. A caller compares
  // two readings around an operation to learn whether it read the device.
  static uint64_t ThreadDemandReads();

  // Resident priority (what a B+tree asks for its inner nodes, so that a
  // point read with data far larger than the pool costs one device read):
  // the page in the guard's frame is kept ahead of every other page.
  // Victim selection, whatever the policy, passes over resident pages (and
  // tells the policy they were used, their "another chance") while it can
  // free any other frame, and takes them only when nothing else can be
  // evicted, so a small pool never starves. At most resident_fraction of
  // the active frames are resident: a request beyond that is ignored. The
  // mark stays until the page leaves its frame (evicted, discarded or
  // recreated). Lock-free; a hit on a page already resident writes nothing.
  // (Through PageGuard::KeepResident / OptimisticGuard::KeepResident.)
  uint32_t resident_cap() const;

  bool IsCached(PageId id);
  PoolStats stats() const;
  // Two of stats()'s figures without its lock, for a per-write check.
  uint64_t dirty_pages() const { return dirty_count_.load(std::memory_order_relaxed); }
  uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  uint32_t page_size() const { return page_size_; }
  // Frames reserved at creation (max_pool_bytes: the most Resize may grow
  // to).
  uint32_t reserved_frames() const { return num_frames_; }
  const char* policy_name() const {
    return hit_policy_.load(std::memory_order_acquire)->Name();
  }
  // Replaces the eviction policy while the pool is in use: the new one is
  // initialized and told about every frame that holds a page (OnInsert, in
  // frame order), under policy_mu_, then receives all further calls. The
  // replaced policy is kept alive until the pool is destroyed, because hits
  // may still be calling its OnAccess (a lost hint, never a crash); each
  // switch therefore holds one more policy's memory. InvalidArgument when
  // `policy` is null.
  Status SetPolicy(std::shared_ptr<EvictionPolicy> policy) EXCLUDES(policy_mu_);
  // The miss-ratio curve of the accesses so far; null when
  // BufferPoolOptions::miss_ratio_curve was false. Lives as long as the pool.
  MissRatioCurve* mrc() const { return mrc_.get(); }

 private:
  friend class PageGuard;
  friend class OptimisticGuard;
  class VictimFilter;
  // What one EvictBatch did.
  struct EvictRound {
    uint32_t named = 0;         // victims the policy named
    uint32_t freed = 0;         // frames freed
    uint32_t write_failed = 0;  // dirty victims whose write failed
    uint32_t spared = 0;        // resident frames passed over
    Status write_error;         // the first of those failures
  };

  BufferPool() = default;

  FrameHeader& frame(FrameIndex f) const;
  char* FrameData(FrameIndex f) const {
    return region_ + static_cast<size_t>(f) * page_size_;
  }
  void Unlatch(FrameIndex f, LatchMode mode);
  // Latches frame `f` in `mode` if it holds `id`; false (holding nothing)
  // when it no longer does.
  bool LatchIfHolds(FrameIndex f, PageId id, LatchMode mode);
  // Counts a hit of `id` on `f` and tells the policy and the curve (no lock).
  void NoteHit(FrameIndex f, PageId id);
  // Marks `f` resident within resident_cap() (see KeepResident above).
  void KeepResident(FrameIndex f);
  // Takes the resident mark off `f`, if it has one.
  void ClearResident(FrameIndex f);
  // Tells the policy that `f` now holds `id` (SetFramePage for policies
  // that want page ids, then OnInsert), under policy_mu_.
  void PolicyInsert(FrameIndex f, PageId id) EXCLUDES(policy_mu_);
  // A miss on `id`: reserves a frame, enters it in the table latched
  // exclusive and reads the page. *raced is set (and nothing returned) when
  // another thread entered `id` first; the caller looks it up again.
  Result<FrameIndex> Load(PageId id, bool* raced);
  // Enters `id` in free frame `f` (latched exclusive by the caller). False
  // when the table already has `id`: `f` went back to the free list.
  bool Enter(PageId id, FrameIndex f, bool prefetched);
  // Takes `id`, held in `f` (latched exclusive by the caller), out of the
  // table, forgets its dirty state and frees the frame (releasing the
  // latch). The caller has already told the policy (OnRemove) if it knew
  // the frame.
  void Unmap(PageId id, FrameIndex f);
  void PushFree(FrameIndex f) EXCLUDES(free_mu_);
  bool PopFree(FrameIndex* f) EXCLUDES(free_mu_);

  // A free frame latched exclusive, evicting a batch of victims when none
  // is free. Busy when every frame stays pinned (after waiting up to 2 s
  // for an unpin, or at once when !may_wait); the write error when no
  // frame can be freed because the dirty ones cannot be written.
  Result<FrameIndex> AllocateFrame(bool may_wait = true) EXCLUDES(policy_mu_);
  // One round of eviction (see buffer_pool_evict.cc for its phases). The
  // victims are the policy's, or when `forced` is given, those of its
  // frames that can be evicted now (Resize's retired frames). With
  // `spare_resident`, resident frames are passed over (and reported to the
  // policy as used). At most `max_victims` victims (0: eviction_batch_).
  void EvictBatch(bool retry_unwritable, EvictRound* round,
                  const std::vector<FrameIndex>* forced = nullptr,
                  bool spare_resident = false, uint32_t max_victims = 0) EXCLUDES(policy_mu_);
  // Resize's two directions.
  Status Shrink(uint32_t frames) REQUIRES(resize_mu_) EXCLUDES(policy_mu_, free_mu_);
  void Grow(uint32_t frames) REQUIRES(resize_mu_) EXCLUDES(policy_mu_, free_mu_);
  // The region in chunks (buffer_pool_resize.cc): MapRegion reserves
  // num_frames_ frames at creation and commits the first `initial`;
  // CommitChunks locks frames [0, frames) and registers the chunks they
  // cover whole; ReleaseChunks gives back the memory of frames at or beyond
  // `frames` (all of them free); UnmapRegion undoes it all.
  Status MapRegion(const BufferPoolOptions& options, uint32_t initial, std::string* notice)
      EXCLUDES(resize_mu_);
  void CommitChunks(uint32_t frames, std::string* notice) REQUIRES(resize_mu_);
  void ReleaseChunks(uint32_t frames) REQUIRES(resize_mu_);
  void UnmapRegion() EXCLUDES(resize_mu_);
  // Writes frames that the caller latched (shared) and claimed for writing
  // (FrameHeader::writing), behind the write gate; (*out)[i] is frame i's
  // result. A written page is clean afterwards; a failed one is marked
  // write_failed. Releases the claims, not the latches.
  // `gated`: call the write gate first (false only for FlushCold, see there).
  void WriteFrames(std::span<const FrameIndex> frames, std::vector<Status>* out,
                   bool gated = true);
  // Reads pages into frames that the caller reserved (latched exclusive)
  // and verifies them; returns one Status per frame.
  void ReadFrames(std::span<const FrameIndex> frames, std::vector<Status>* out);
  Status VerifyPage(PageId id, const char* data) const;
  // A read into frame `f` ended with `io`: counts it, then verifies the
  // page (checksum, id, read check). The result is the read's.
  Status CheckRead(FrameIndex f, const Status& io);
  // Ends a read-ahead of `id` into `f` (latched exclusive, entered as
  // prefetched) whose read gave `s`: cached and unlatched, or dropped.
  void EndReadAhead(PageId id, FrameIndex f, const Status& s);
  Result<uint64_t> ReadOffsetOf(PageId id);

  uint32_t page_size_ = 0;
  uint32_t num_frames_ = 0;
  // Frames [active_frames_, num_frames_) are retired (see Resize); written
  // under free_mu_ (with resize_mu_ held), read anywhere.
  std::atomic<uint32_t> active_frames_{0};
  uint32_t eviction_batch_ = 32;
  char* region_ = nullptr;
  size_t region_bytes_ = 0;  // reserved: num_frames_ frames
  // Chunk 0 is the frames given at creation, each later one chunk_bytes
  // (the last may be shorter); see buffer_pool_resize.cc.
  struct Chunk {
    uint32_t first = 0;       // its first frame
    uint32_t frames = 0;
    uint32_t locked = 0;      // frames [first, first + locked) are mlock'd
    bool registered = false;  // the whole chunk is registered with io_
  };
  std::vector<Chunk> chunks_ GUARDED_BY(resize_mu_);
  bool lock_memory_ = false;       // set once at creation
  bool register_buffers_ = false;  // set once at creation
  io::IoBackend* io_ = nullptr;
  io::FileId file_;
  PageLocator* locator_ = nullptr;
  std::shared_ptr<EvictionPolicy> policy_ GUARDED_BY(policy_mu_);
  // policy_.get(), for the hit path (OnAccess) and policy_name(), read
  // without a lock; replaced policies stay alive in retired_policies_.
  std::atomic<EvictionPolicy*> hit_policy_{nullptr};
  std::vector<std::shared_ptr<EvictionPolicy>> retired_policies_ GUARDED_BY(policy_mu_);
  std::unique_ptr<MissRatioCurve> mrc_;
  // Set once before use (SetWriteGate), read without a lock afterwards.
  std::function<Status(Lsn)> write_gate_;
  // Set once before use (SetReadCheck), read without a lock afterwards.
  std::function<Status(PageId, const char*)> read_check_;

  std::unique_ptr<FrameHeader[]> frames_;
  std::unique_ptr<PageTable> table_;

  // Serializes every policy call except OnAccess, and victim selection.
  Mutex policy_mu_;
  // This round's victims (1) and the resident frames it spared (2).
  std::vector<uint8_t> chosen_ GUARDED_BY(policy_mu_);

  mutable Mutex free_mu_;
  std::vector<FrameIndex> free_ GUARDED_BY(free_mu_);
  // Free frames at or beyond active_frames_: never handed out.
  std::vector<FrameIndex> retired_free_ GUARDED_BY(free_mu_);

  // Serializes Resize calls; taken before every other pool mutex.
  Mutex resize_mu_;
  // Counts a demand read for ThreadDemandReads.
  static void CountDemandRead();

  StripedCounter hits_;
  std::atomic<uint64_t> misses_{0}, reads_{0}, writes_{0}, evictions_{0}, bytes_read_{0},
      bytes_written_{0}, busy_waits_{0}, dirty_count_{0}, write_failures_{0},
      unwritable_count_{0}, resident_count_{0};
  double resident_fraction_ = 0.25;
};

}  // namespace ringdb
