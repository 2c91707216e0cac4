// BufferPool: creation, guards, Fetch / FetchOptimistic / NewPage /
// Prefetch / Discard. See buffer_pool.h for the contract and the protocol;
// eviction is in buffer_pool_evict.cc, I/O in buffer_pool_io.cc.
//
// A frame's life: free (latch evicted, on free_) -> claimed by a loader
// (exclusive) -> entered in the table with its page id -> read -> unlatched
// (cached) -> ... -> latched exclusive by the evictor or Discard -> taken
// out of the table -> free. A thread that finds a frame in the table and
// waits for its latch re-checks, once latched, that the frame still holds
// its page: if the load failed or the page was evicted meanwhile, the latch
// reports "evicted" or the id differs, and it looks the page up again.
#include "bufferpool/buffer_pool.h"

#include <chrono>
#include <thread>

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bufferpool/frame.h"
#include "bufferpool/page_table.h"
#include "util/check.h"

namespace ringdb {

FrameHeader& BufferPool::frame(FrameIndex f) const { return frames_[f]; }

// ---- Guards -----------------------------------------------------------------

PageGuard::PageGuard(PageGuard&& other) noexcept { *this = std::move(other); }

PageGuard& PageGuard::operator=(PageGuard&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    frame_ = other.frame_;
    id_ = other.id_;
    data_ = other.data_;
    mode_ = other.mode_;
    other.pool_ = nullptr;
    other.data_ = nullptr;
  }
  return *this;
}

char* PageGuard::mutable_data() {
  RINGDB_CHECK(pool_ != nullptr && mode_ == LatchMode::kExclusive);
  return data_;
}

uint32_t PageGuard::page_size() const { return pool_->page_size_; }

void PageGuard::MarkDirty(Lsn lsn) {
  RINGDB_CHECK(pool_ != nullptr && mode_ == LatchMode::kExclusive);
  FrameHeader& fr = pool_->frame(frame_);
  if (!fr.dirty.load(std::memory_order_relaxed)) {
    fr.dirty.store(true, std::memory_order_relaxed);
    pool_->dirty_count_.fetch_add(1, std::memory_order_relaxed);
  }
  if (lsn > fr.lsn.load(std::memory_order_relaxed)) fr.lsn.store(lsn, std::memory_order_relaxed);
}

Lsn PageGuard::lsn() const { return pool_->frame(frame_).lsn.load(std::memory_order_relaxed); }

void PageGuard::KeepResident() const {
  RINGDB_CHECK(pool_ != nullptr);
  pool_->KeepResident(frame_);
}

void PageGuard::Release() {
  if (pool_ == nullptr) return;
  BufferPool* pool = pool_;
  pool_ = nullptr;
  data_ = nullptr;
  pool->Unlatch(frame_, mode_);
}

bool OptimisticGuard::Validate() const {
  return pool_ != nullptr && pool_->frame(frame_).state.Validate(version_);
}

bool OptimisticGuard::TryLatch(LatchMode mode, PageGuard* out) const {
  if (pool_ == nullptr) return false;
  PageState& st = pool_->frame(frame_).state;
  bool ok = mode == LatchMode::kExclusive ? st.TryExclusiveAt(version_) : st.TrySharedAt(version_);
  if (!ok) return false;
  *out = PageGuard(pool_, frame_, id_, pool_->FrameData(frame_), mode);
  return true;
}

void OptimisticGuard::KeepResident() const {
  if (pool_ != nullptr) pool_->KeepResident(frame_);
}

#if defined(RINGDB_TSAN)
// ThreadSanitizer's dynamic annotations (in its runtime).
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
OptimisticReadScope::OptimisticReadScope() { AnnotateIgnoreReadsBegin(__FILE__, __LINE__); }
OptimisticReadScope::~OptimisticReadScope() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
#endif

// ---- Creation ---------------------------------------------------------------

Result<std::unique_ptr<BufferPool>> BufferPool::Create(const BufferPoolOptions& options,
                                                       io::IoBackend* io, io::FileId file,
                                                       PageLocator* locator,
                                                       std::string* notice) {
  notice->clear();
  if (!ValidPageSize(options.page_size)) {
    return Status::InvalidArgument("page size " + std::to_string(options.page_size) +
                                   " is not a power of two from 4096 to 65536");
  }
  size_t frames = options.pool_bytes / options.page_size;
  if (frames < 16) {
    return Status::InvalidArgument("buffer pool of " + std::to_string(options.pool_bytes) +
                                   " bytes holds fewer than 16 pages of " +
                                   std::to_string(options.page_size) + " bytes");
  }
  if (frames > (1u << 31)) return Status::InvalidArgument("buffer pool too large");
  std::shared_ptr<EvictionPolicy> policy = options.policy;
  if (!policy) {
    policy = NewEvictionPolicy(options.policy_name);
    if (!policy) {
      return Status::InvalidArgument("unknown eviction policy '" + options.policy_name + "'");
    }
  }

  const size_t max_frames = std::max(frames, options.max_pool_bytes / options.page_size);
  if (max_frames > (1u << 31)) return Status::InvalidArgument("buffer pool too large");
  std::unique_ptr<BufferPool> pool(new BufferPool());
  pool->page_size_ = options.page_size;
  pool->num_frames_ = static_cast<uint32_t>(max_frames);
  pool->eviction_batch_ = std::max<uint32_t>(1, options.eviction_batch);
  pool->resident_fraction_ = std::clamp(options.resident_fraction, 0.0, 1.0);
  pool->io_ = io;
  pool->file_ = file;
  pool->locator_ = locator;
  Status mapped = pool->MapRegion(options, static_cast<uint32_t>(frames), notice);
  if (!mapped.ok()) return mapped;

  pool->active_frames_.store(static_cast<uint32_t>(frames), std::memory_order_relaxed);
  pool->frames_ = std::make_unique<FrameHeader[]>(max_frames);
  pool->table_ = std::make_unique<PageTable>(pool->num_frames_, pool->frames_.get());
  {
    MutexLock lock(&pool->free_mu_);
    pool->free_.reserve(max_frames);
    for (uint32_t i = static_cast<uint32_t>(frames); i-- > 0;) pool->free_.push_back(FrameIndex{i});
    // Beyond the size given: retired until Resize grows into them.
    for (uint32_t i = static_cast<uint32_t>(frames); i < max_frames; i++) {
      pool->retired_free_.push_back(FrameIndex{i});
    }
  }
  {
    MutexLock lock(&pool->policy_mu_);
    pool->chosen_.assign(max_frames, 0);
    policy->Init(pool->num_frames_);
    pool->hit_policy_.store(policy.get(), std::memory_order_release);
    pool->policy_ = std::move(policy);
  }
  if (options.miss_ratio_curve) {
    pool->mrc_ = std::make_unique<MissRatioCurve>(pool->active_frames(), options.mrc);
    // Record() runs on every hit and miss (a prefetched page's first use
    // included, whose read was the miss), so hits + misses counts them.
    BufferPool* raw = pool.get();
    pool->mrc_->SetAccessCounter([raw] {
      return raw->hits_.Sum() + raw->misses_.load(std::memory_order_relaxed);
    });
  }
  return pool;
}

BufferPool::~BufferPool() {
  UnmapRegion();
}

void BufferPool::SetWriteGate(std::function<Status(Lsn)> gate) { write_gate_ = std::move(gate); }

void BufferPool::SetReadCheck(std::function<Status(PageId, const char*)> check) {
  read_check_ = std::move(check);
}

// ---- Hits -------------------------------------------------------------------

namespace {

// One step of a polling wait for a frame's latch: spin, then yield, then
// sleep briefly (the waits that must re-check the frame's page each time).
void PollWait(uint32_t spins) {
  if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else if (spins < 256) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

}  // namespace

bool BufferPool::LatchIfHolds(FrameIndex f, PageId id, LatchMode mode) {
  FrameHeader& fr = frame(f);
  // Never sleep on the latch of a frame that no longer holds `id`: the
  // lookup that named `f` is only a hint, and `f` may have been evicted and
  // reloaded with another page whose exclusive holder waits for a latch
  // the caller holds (a reader holding a leaf, waiting for its blob page's
  // old frame, now the parent a writer holds while it waits for the leaf).
  // So the wait polls the frame's page field instead of sleeping on the
  // latch word until it changes.
  for (uint32_t spins = 0;; spins++) {
    if (fr.page.load(std::memory_order_acquire) != id.value) return false;
    bool latched = mode == LatchMode::kExclusive ? fr.state.TryExclusive() : fr.state.TryShared();
    if (latched) {
      if (fr.page.load(std::memory_order_relaxed) == id.value) return true;
      Unlatch(f, mode);
      return false;
    }
    if (PageState::Latch(fr.state.Load()) == PageState::kEvicted) return false;
    PollWait(spins);
  }
}

void BufferPool::NoteHit(FrameIndex f, PageId id) {
  FrameHeader& fr = frame(f);
  // Only pages that may be sampled pay for the hash (a flag set on entry;
  // a stale one, read optimistically, only costs Record's own test).
  if (fr.sampled.load(std::memory_order_relaxed)) mrc_->Record(id.value);
  // The first use of a read-ahead page: its read was counted as a miss.
  if (fr.prefetched.load(std::memory_order_relaxed) &&
      fr.prefetched.exchange(false, std::memory_order_relaxed)) {
    return;
  }
  hits_.Add(1);
  hit_policy_.load(std::memory_order_acquire)->OnAccess(f);
}

uint32_t BufferPool::resident_cap() const {
  return static_cast<uint32_t>(active_frames() * resident_fraction_);
}

void BufferPool::KeepResident(FrameIndex f) {
  FrameHeader& fr = frame(f);
  if (fr.resident.load(std::memory_order_relaxed)) return;  // the hot path: no write
  // At the cap (the steady state of a big tree): only a read.
  if (resident_count_.load(std::memory_order_relaxed) >= resident_cap()) return;
  // Reserve a place under the cap first, so the count never exceeds it.
  if (resident_count_.fetch_add(1, std::memory_order_relaxed) >= resident_cap() ||
      fr.resident.exchange(true, std::memory_order_relaxed)) {
    resident_count_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void BufferPool::ClearResident(FrameIndex f) {
  if (frame(f).resident.exchange(false, std::memory_order_relaxed)) {
    resident_count_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void BufferPool::Unlatch(FrameIndex f, LatchMode mode) {
  if (mode == LatchMode::kExclusive) {
    frame(f).state.UnlockExclusive();
  } else {
    frame(f).state.UnlockShared();
  }
}

Result<PageGuard> BufferPool::Fetch(PageId id, LatchMode mode) {
  RINGDB_CHECK(id.valid());
  for (;;) {
    uint32_t hit = table_->Lookup(id);
    if (hit != PageTable::kNone) {
      FrameIndex f{hit};
      if (!LatchIfHolds(f, id, mode)) continue;
      NoteHit(f, id);
      return PageGuard(this, f, id, FrameData(f), mode);
    }
    bool raced = false;
    Result<FrameIndex> loaded = Load(id, &raced);
    if (raced) continue;
    if (!loaded.ok()) return loaded.status();
    FrameIndex f = loaded.value();
    if (mode == LatchMode::kShared) frame(f).state.DowngradeToShared();
    return PageGuard(this, f, id, FrameData(f), mode);
  }
}

BufferPool::Probe BufferPool::ProbeOptimistic(PageId id, OptimisticGuard* out) {
  RINGDB_CHECK(id.valid());
  uint32_t hit = table_->Lookup(id);
  if (hit == PageTable::kNone) return Probe::kMiss;
  FrameIndex f{hit};
  FrameHeader& fr = frame(f);
  uint64_t w = fr.state.Load();
  uint64_t latch = PageState::Latch(w);
  if (latch == PageState::kEvicted || latch == PageState::kExclusive) return Probe::kBusy;
  uint64_t version = PageState::Version(w);
  // The id read after the version is the frame's page at that version
  // if the version still holds afterwards.
  if (fr.page.load(std::memory_order_acquire) != id.value || !fr.state.Validate(version)) {
    return Probe::kBusy;
  }
  NoteHit(f, id);
  *out = OptimisticGuard(this, f, id, FrameData(f), version);
  return Probe::kHit;
}

bool BufferPool::TryFetchOptimistic(PageId id, OptimisticGuard* out) {
  for (uint32_t spins = 0;; spins++) {
    Probe p = ProbeOptimistic(id, out);
    if (p != Probe::kBusy) return p == Probe::kHit;
    // Busy: wait for the writer (or loader) by polling, never by sleeping
    // on the word: the frame may hold another page by now (see
    // LatchIfHolds), and the caller may hold a parent's latch.
    PollWait(spins);
  }
}

Result<OptimisticGuard> BufferPool::FetchOptimistic(PageId id) {
  for (;;) {
    OptimisticGuard out;
    if (TryFetchOptimistic(id, &out)) return out;
    // A miss: load it, then keep only its version.
    Result<PageGuard> g = Fetch(id, LatchMode::kShared);
    if (!g.ok()) return g.status();
    FrameIndex f = g->frame_;
    uint64_t version = PageState::Version(frame(f).state.Load());
    out = OptimisticGuard(this, f, id, FrameData(f), version);
    g->Release();  // a shared unlatch leaves the version as it is
    return out;
  }
}

// ---- Misses -----------------------------------------------------------------

bool BufferPool::Enter(PageId id, FrameIndex f, bool prefetched) {
  FrameHeader& fr = frame(f);
  PageTable::Partition& part = table_->PartitionOf(id);
  uint64_t hash = PageTableHash(id);
  {
    MutexLock lock(&part.mutex());
    if (part.LookupLocked(id, hash) == PageTable::kNone) {
      fr.prefetched.store(prefetched, std::memory_order_relaxed);
      fr.sampled.store(mrc_ != nullptr && mrc_->MaySample(id.value),
                       std::memory_order_relaxed);
      fr.write_failed.store(false, std::memory_order_relaxed);
      ClearResident(f);  // a stale guard may have marked the free frame
      fr.page.store(id.value, std::memory_order_release);
      part.InsertLocked(id, hash, f);
      return true;
    }
  }
  fr.state.UnlockEvicted();
  PushFree(f);
  return false;
}

void BufferPool::Unmap(PageId id, FrameIndex f) {
  FrameHeader& fr = frame(f);
  PageTable::Partition& part = table_->PartitionOf(id);
  {
    MutexLock lock(&part.mutex());
    part.RemoveLocked(id, PageTableHash(id), f);
  }
  if (fr.dirty.exchange(false, std::memory_order_relaxed)) {
    dirty_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (fr.write_failed.exchange(false, std::memory_order_relaxed)) {
    unwritable_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  fr.prefetched.store(false, std::memory_order_relaxed);
  ClearResident(f);
  fr.page.store(PageId::kInvalidValue, std::memory_order_release);
  fr.state.UnlockEvicted();
  PushFree(f);
}

Result<FrameIndex> BufferPool::Load(PageId id, bool* raced) {
  *raced = false;
  Result<FrameIndex> got = AllocateFrame();
  if (!got.ok()) return got.status();
  FrameIndex f = got.value();
  FrameHeader& fr = frame(f);
  fr.lsn.store(Lsn(), std::memory_order_relaxed);
  if (!Enter(id, f, /*prefetched=*/false)) {
    *raced = true;
    return Status::Busy("raced");
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  CountDemandRead();
  std::vector<Status> result;
  ReadFrames(std::span<const FrameIndex>(&f, 1), &result);
  if (!result[0].ok()) {
    Unmap(id, f);  // waiters see "evicted" and try the read themselves
    return result[0];
  }
  fr.lsn.store(Lsn(reinterpret_cast<const PageHeader*>(FrameData(f))->lsn), std::memory_order_relaxed);
  if (mrc_) mrc_->Record(id.value);
  PolicyInsert(f, id);
  return f;
}

Result<PageGuard> BufferPool::NewPage(PageId id) {
  RINGDB_CHECK(id.valid());
  for (;;) {
    uint32_t hit = table_->Lookup(id);
    if (hit != PageTable::kNone) {
      // A stale copy of a freed page: reuse its frame as the new page.
      FrameIndex f{hit};
      FrameHeader& fr = frame(f);
      if (!fr.state.TryExclusive()) {
        if (PageState::Latch(fr.state.Load()) == PageState::kEvicted) continue;
        return Status::InvalidArgument("NewPage(" + std::to_string(id.value) +
                                       "): page is cached and in use");
      }
      if (fr.page.load(std::memory_order_relaxed) != id.value) {
        fr.state.UnlockExclusive();
        continue;
      }
      fr.prefetched.store(false, std::memory_order_relaxed);
      ClearResident(f);  // a new page: the old one's priority does not carry over
      if (fr.write_failed.exchange(false, std::memory_order_relaxed)) {
        unwritable_count_.fetch_sub(1, std::memory_order_relaxed);
      }
      fr.lsn.store(Lsn(), std::memory_order_relaxed);
      std::memset(FrameData(f), 0, page_size_);
      PageGuard g(this, f, id, FrameData(f), LatchMode::kExclusive);
      g.MarkDirty(Lsn());
      return g;
    }
    Result<FrameIndex> got = AllocateFrame();
    if (!got.ok()) return got.status();
    FrameIndex f = got.value();
    frame(f).lsn.store(Lsn(), std::memory_order_relaxed);
    if (!Enter(id, f, /*prefetched=*/false)) continue;
    PolicyInsert(f, id);
    std::memset(FrameData(f), 0, page_size_);
    PageGuard g(this, f, id, FrameData(f), LatchMode::kExclusive);
    g.MarkDirty(Lsn());
    return g;
  }
}

Status BufferPool::Prefetch(std::span<const PageId> ids) {
  std::vector<FrameIndex> loading;
  std::vector<PageId> pages;
  for (PageId id : ids) {
    if (table_->Lookup(id) != PageTable::kNone) continue;
    if (loading.size() >= active_frames() / 2) break;  // leave room for the readers
    Result<FrameIndex> got = AllocateFrame(/*may_wait=*/false);
    if (!got.ok()) break;  // read-ahead is best effort
    FrameIndex f = got.value();
    frame(f).lsn.store(Lsn(), std::memory_order_relaxed);
    if (!Enter(id, f, /*prefetched=*/true)) continue;
    misses_.fetch_add(1, std::memory_order_relaxed);
    loading.push_back(f);
    pages.push_back(id);
  }
  if (loading.empty()) return Status::OK();

  std::vector<Status> results;
  ReadFrames(loading, &results);
  Status first;
  for (size_t i = 0; i < loading.size(); i++) {
    if (first.ok() && !results[i].ok()) first = results[i];
    EndReadAhead(pages[i], loading[i], results[i]);
  }
  return first;
}

Status BufferPool::FetchMany(std::span<const PageId> ids, LatchMode mode,
                             std::vector<PageGuard>* guards) {
  guards->clear();
  // A failed read ahead is not final: Fetch retries and reports per page.
  (void)Prefetch(ids);
  guards->reserve(ids.size());
  for (PageId id : ids) {
    Result<PageGuard> g = Fetch(id, mode);
    if (!g.ok()) {
      guards->clear();
      return g.status();
    }
    guards->push_back(std::move(g.value()));
  }
  return Status::OK();
}

// ---- Discard, IsCached ------------------------------------------------------

void BufferPool::Discard(PageId id) {
  for (;;) {
    uint32_t hit = table_->Lookup(id);
    if (hit == PageTable::kNone) {
      // Confirm under the partition lock (a lock-free lookup can miss an
      // entry being moved).
      PageTable::Partition& part = table_->PartitionOf(id);
      MutexLock lock(&part.mutex());
      hit = part.LookupLocked(id, PageTableHash(id));
      if (hit == PageTable::kNone) return;
    }
    FrameIndex f{hit};
    if (!LatchIfHolds(f, id, LatchMode::kExclusive)) continue;
    {
      MutexLock lock(&policy_mu_);
      policy_->OnRemove(f);
    }
    Unmap(id, f);
    return;
  }
}

bool BufferPool::IsCached(PageId id) {
  if (table_->Lookup(id) != PageTable::kNone) return true;
  PageTable::Partition& part = table_->PartitionOf(id);
  MutexLock lock(&part.mutex());
  return part.LookupLocked(id, PageTableHash(id)) != PageTable::kNone;
}

// ---- Free list --------------------------------------------------------------

void BufferPool::PushFree(FrameIndex f) {
  MutexLock lock(&free_mu_);
  if (f >= active_frames_.load(std::memory_order_relaxed)) {
    retired_free_.push_back(f);
  } else {
    free_.push_back(f);
  }
}

bool BufferPool::PopFree(FrameIndex* f) {
  MutexLock lock(&free_mu_);
  if (free_.empty()) return false;
  *f = free_.back();
  free_.pop_back();
  return true;
}

}  // namespace ringdb
