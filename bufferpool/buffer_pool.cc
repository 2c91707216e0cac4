// BufferPool implementation. See buffer_pool.h for the contract.
//
// Frame states (guarded by mu_):
//   kFree     on free_, no page.
//   kLoading  mapped in table_, its read in flight; the loader holds the
//             exclusive latch, so fetchers of the same page pin the frame
//             and wait on the latch: one read serves them all.
//   kReady    mapped, contents valid.
//   kOrphan   unmapped (its load failed, or Discard() ran while it was
//             pinned); returns to free_ when its last pin goes.
// A frame is evictable when it is kReady, unpinned and not being written.
//
// Lock order: a frame latch may be held when taking mu_; never wait for a
// latch while holding mu_. The only latch taken under mu_ is the exclusive
// latch of a free frame, which nobody can hold: try_lock takes it at once
// (so it never waits, and adds no edge to TSan's lock-order graph).
#include "bufferpool/buffer_pool.h"

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "bufferpool/frame.h"
#include "io/check.h"

namespace ringdb {


BufferPool::Frame& BufferPool::frame(FrameId f) { return frames_[f.value]; }

class BufferPool::VictimFilter : public FrameFilter {
 public:
  explicit VictimFilter(const BufferPool* pool) : pool_(pool) {}
  bool CanEvict(FrameIndex f) const override {
    const Frame& fr = pool_->frames_[f];
    return fr.state == Frame::State::kReady && fr.pins == 0 && !fr.writing;
  }

 private:
  const BufferPool* pool_;
};

// ---- PageGuard --------------------------------------------------------------

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
  BufferPool::Frame& fr = pool_->frame(frame_);
  if (!fr.dirty.exchange(true)) pool_->dirty_count_.fetch_add(1);
  if (lsn > fr.lsn.load()) fr.lsn.store(lsn);
}

Lsn PageGuard::lsn() const { return pool_->frame(frame_).lsn.load(); }

void PageGuard::Release() {
  if (pool_ == nullptr) return;
  BufferPool* pool = pool_;
  pool_ = nullptr;
  data_ = nullptr;
  pool->Unpin(frame_, mode_);
}

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

  std::unique_ptr<BufferPool> pool(new BufferPool());
  pool->page_size_ = options.page_size;
  pool->num_frames_ = static_cast<uint32_t>(frames);
  pool->eviction_batch_ = std::max<uint32_t>(1, options.eviction_batch);
  pool->io_ = io;
  pool->file_ = file;
  pool->locator_ = locator;
  pool->policy_ = std::move(policy);
  pool->region_bytes_ = frames * options.page_size;

  void* mem = mmap(nullptr, pool->region_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    return Status::IOError("buffer pool: mmap of " + std::to_string(pool->region_bytes_) +
                           " bytes failed: " + std::strerror(errno));
  }
  pool->region_ = static_cast<char*>(mem);
  // Huge pages halve TLB misses on random frame access; advisory only.
  (void)madvise(mem, pool->region_bytes_, MADV_HUGEPAGE);

  if (options.lock_memory) {
    if (mlock(mem, pool->region_bytes_) == 0) {
      pool->locked_ = true;
    } else {
      int err = errno;
      struct rlimit rl {};
      getrlimit(RLIMIT_MEMLOCK, &rl);
      *notice += "buffer pool not locked in memory (mlock of " +
                 std::to_string(pool->region_bytes_) + " bytes: " + std::strerror(err) +
                 ", RLIMIT_MEMLOCK=" +
                 (rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited")
                                               : std::to_string(rl.rlim_cur)) +
                 "); pages may be swapped out";
    }
  }
  if (options.register_buffers && io->direct()) {
    Status s = io->RegisterBuffer(mem, pool->region_bytes_);
    if (!s.ok()) {
      if (!notice->empty()) *notice += "; ";
      *notice += s.message().empty() ? s.ToString() : s.message();
    }
  }

  pool->frames_ = std::make_unique<Frame[]>(frames);
  pool->free_.reserve(frames);
  for (uint32_t i = static_cast<uint32_t>(frames); i-- > 0;) pool->free_.push_back(FrameId{i});
  pool->table_.reserve(frames * 2);
  pool->policy_->Init(pool->num_frames_);
  return pool;
}

BufferPool::~BufferPool() {
  if (region_ != nullptr) {
    if (io_ != nullptr) io_->UnregisterBuffer(region_);
    if (locked_) munlock(region_, region_bytes_);
    munmap(region_, region_bytes_);
  }
}

void BufferPool::SetWriteGate(std::function<Status(Lsn)> gate) {
  std::lock_guard<std::mutex> lock(mu_);
  write_gate_ = std::move(gate);
}

// ---- Fetch ------------------------------------------------------------------

Result<PageGuard> BufferPool::Fetch(PageId id, LatchMode mode) {
  RINGDB_CHECK(id.valid());
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = table_.find(id);
    if (it != table_.end()) {
      FrameId f = it->second;
      Frame& fr = frame(f);
      fr.pins++;
      if (fr.state == Frame::State::kReady) {
        if (fr.prefetched) {
          fr.prefetched = false;  // its read was already counted as a miss
        } else {
          hits_.fetch_add(1, std::memory_order_relaxed);
        }
        policy_->OnAccess(f.value);
        lock.unlock();
      } else {
        // kLoading: wait for the loader by waiting on the latch.
        hits_.fetch_add(1, std::memory_order_relaxed);
        lock.unlock();
      }
      if (mode == LatchMode::kExclusive) {
        fr.latch.lock();
      } else {
        fr.latch.lock_shared();
      }
      lock.lock();
      if (fr.state == Frame::State::kOrphan) {
        Status s = fr.load_status.ok()
                       ? Status::IOError("page " + std::to_string(id.value) + " was dropped")
                       : fr.load_status;
        lock.unlock();
        if (mode == LatchMode::kExclusive) {
          fr.latch.unlock();
        } else {
          fr.latch.unlock_shared();
        }
        lock.lock();
        UnpinLocked(f);
        return s;
      }
      return PageGuard(this, f, id, FrameData(f), mode);
    }

    // Miss: reserve a frame, then look again (the lock may have been
    // released while evicting).
    Result<FrameId> got = AllocateFrame(lock);
    if (!got.ok()) return got.status();
    FrameId f = got.value();
    if (table_.count(id) != 0) {
      free_.push_back(f);
      used_frames_--;
      continue;
    }
    Frame& fr = frame(f);
    fr.page = id;
    fr.state = Frame::State::kLoading;
    fr.pins = 1;
    fr.prefetched = false;
    fr.load_status = Status::OK();
    if (!fr.latch.try_lock()) fr.latch.lock();  // a free frame: nobody holds it
    table_.emplace(id, f);
    misses_.fetch_add(1, std::memory_order_relaxed);
    lock.unlock();

    std::vector<Status> result;
    ReadFrames(std::span<const FrameId>(&f, 1), &result);
    lock.lock();
    FinishLoadLocked(f, result[0]);
    if (!result[0].ok()) {
      lock.unlock();
      fr.latch.unlock();
      lock.lock();
      UnpinLocked(f);
      return result[0];
    }
    lock.unlock();
    if (mode == LatchMode::kShared) {
      fr.latch.unlock();
      fr.latch.lock_shared();
    }
    return PageGuard(this, f, id, FrameData(f), mode);
  }
}

Result<PageGuard> BufferPool::NewPage(PageId id) {
  RINGDB_CHECK(id.valid());
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = table_.find(id);
    if (it != table_.end()) {
      Frame& old = frame(it->second);
      if (old.pins != 0 || old.writing) {
        return Status::InvalidArgument("NewPage(" + std::to_string(id.value) +
                                       "): page is cached and in use");
      }
      // A stale copy of a freed page: forget it.
      if (old.dirty.exchange(false)) dirty_count_.fetch_sub(1);
      policy_->OnRemove(it->second.value);
      old.state = Frame::State::kFree;
      old.page = PageId{};
      free_.push_back(it->second);
      used_frames_--;
      table_.erase(it);
    }
    Result<FrameId> got = AllocateFrame(lock);
    if (!got.ok()) return got.status();
    FrameId f = got.value();
    if (table_.count(id) != 0) {
      free_.push_back(f);
      used_frames_--;
      continue;
    }
    Frame& fr = frame(f);
    fr.page = id;
    fr.state = Frame::State::kReady;
    fr.pins = 1;
    fr.prefetched = false;
    fr.lsn.store(0);
    if (!fr.latch.try_lock()) fr.latch.lock();  // a free frame: uncontended
    if (!fr.dirty.exchange(true)) dirty_count_.fetch_add(1);
    table_.emplace(id, f);
    policy_->OnInsert(f.value);
    lock.unlock();
    std::memset(FrameData(f), 0, page_size_);
    return PageGuard(this, f, id, FrameData(f), LatchMode::kExclusive);
  }
}

Status BufferPool::Prefetch(std::span<const PageId> ids) {
  std::vector<FrameId> loading;
  std::vector<PageId> pages;
  std::unique_lock<std::mutex> lock(mu_);
  Status first;
  for (PageId id : ids) {
    if (table_.count(id) != 0) continue;
    if (loading.size() >= num_frames_ / 2) break;  // leave room for the readers
    Result<FrameId> got = AllocateFrame(lock, /*may_wait=*/false);
    if (!got.ok()) break;  // read-ahead is best effort
    FrameId f = got.value();
    if (table_.count(id) != 0) {
      free_.push_back(f);
      used_frames_--;
      continue;
    }
    Frame& fr = frame(f);
    fr.page = id;
    fr.state = Frame::State::kLoading;
    fr.pins = 1;
    fr.prefetched = true;
    fr.load_status = Status::OK();
    if (!fr.latch.try_lock()) fr.latch.lock();  // a free frame: uncontended
    table_.emplace(id, f);
    misses_.fetch_add(1, std::memory_order_relaxed);
    loading.push_back(f);
  }
  lock.unlock();
  if (loading.empty()) return first;

  std::vector<Status> results;
  ReadFrames(loading, &results);
  lock.lock();
  for (size_t i = 0; i < loading.size(); i++) {
    FinishLoadLocked(loading[i], results[i]);
    if (first.ok() && !results[i].ok()) first = results[i];
  }
  lock.unlock();
  for (FrameId f : loading) frame(f).latch.unlock();
  lock.lock();
  for (FrameId f : loading) UnpinLocked(f);
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

void BufferPool::FinishLoadLocked(FrameId f, const Status& s) {
  Frame& fr = frame(f);
  if (fr.state == Frame::State::kOrphan) return;  // discarded while loading
  if (s.ok()) {
    fr.state = Frame::State::kReady;
    fr.lsn.store(reinterpret_cast<const PageHeader*>(FrameData(f))->lsn);
    policy_->OnInsert(f.value);
    return;
  }
  fr.state = Frame::State::kOrphan;
  fr.load_status = s;
  fr.prefetched = false;
  auto it = table_.find(fr.page);
  if (it != table_.end() && it->second == f) table_.erase(it);
}

// ---- Unpin, Discard ---------------------------------------------------------

void BufferPool::Unpin(FrameId f, LatchMode mode) {
  Frame& fr = frame(f);
  if (mode == LatchMode::kExclusive) {
    fr.latch.unlock();
  } else {
    fr.latch.unlock_shared();
  }
  std::lock_guard<std::mutex> lock(mu_);
  UnpinLocked(f);
}

void BufferPool::UnpinLocked(FrameId f) {
  Frame& fr = frame(f);
  RINGDB_CHECK(fr.pins > 0);
  if (--fr.pins == 0) {
    if (fr.state == Frame::State::kOrphan && !fr.writing) {
      if (fr.dirty.exchange(false)) dirty_count_.fetch_sub(1);
      fr.state = Frame::State::kFree;
      fr.page = PageId{};
      free_.push_back(f);
      used_frames_--;
    }
    cv_.notify_all();
  }
}

void BufferPool::Discard(PageId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(id);
  if (it == table_.end()) return;
  FrameId f = it->second;
  Frame& fr = frame(f);
  table_.erase(it);
  if (fr.state == Frame::State::kReady) policy_->OnRemove(f.value);
  fr.load_status = Status::OK();
  if (fr.pins == 0 && !fr.writing) {
    if (fr.dirty.exchange(false)) dirty_count_.fetch_sub(1);
    fr.state = Frame::State::kFree;
    fr.page = PageId{};
    free_.push_back(f);
    used_frames_--;
  } else {
    fr.state = Frame::State::kOrphan;  // freed by its last unpin
  }
}

bool BufferPool::IsCached(PageId id) {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.count(id) != 0;
}

// ---- Eviction ---------------------------------------------------------------

Result<FrameId> BufferPool::AllocateFrame(std::unique_lock<std::mutex>& lock, bool may_wait) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    if (!free_.empty()) {
      FrameId f = free_.back();
      free_.pop_back();
      used_frames_++;
      return f;
    }
    bool progress = false;
    RINGDB_RETURN_IF_ERROR(EvictBatch(lock, &progress));
    if (progress || !free_.empty()) continue;
    if (!may_wait) return Status::Busy("buffer pool: no frame free for read-ahead");
    // Every frame is pinned or being written: wait a while for an unpin.
    busy_waits_.fetch_add(1, std::memory_order_relaxed);
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && free_.empty()) {
      return Status::Busy("buffer pool: all " + std::to_string(num_frames_) +
                          " frames stayed pinned for 2 s; use a larger pool or fewer threads");
    }
  }
}

Status BufferPool::EvictBatch(std::unique_lock<std::mutex>& lock, bool* progress) {
  *progress = false;
  // Phase 1: pick victims. Clean ones are freed at once; dirty ones are
  // pinned for write-back.
  VictimFilter filter(this);
  std::vector<FrameId> dirty;
  for (uint32_t n = 0; n < eviction_batch_; n++) {
    FrameIndex v;
    if (!policy_->Victim(filter, &v)) break;
    FrameId f{v};
    Frame& fr = frame(f);
    RINGDB_CHECK(filter.CanEvict(v));
    *progress = true;  // something was tried: look again before waiting
    if (fr.dirty.load()) {
      fr.writing = true;  // refused by the filter from now on
      fr.pins++;
      evict_writes_++;
      dirty.push_back(f);
      continue;
    }
    policy_->OnRemove(v);
    table_.erase(fr.page);
    fr.state = Frame::State::kFree;
    fr.page = PageId{};
    free_.push_back(f);
    used_frames_--;
    evictions_.fetch_add(1, std::memory_order_relaxed);
    *progress = true;
  }
  if (dirty.empty()) return Status::OK();

  // Phase 2: write the dirty victims together.
  lock.unlock();
  for (FrameId f : dirty) frame(f).latch.lock_shared();
  Status s = WriteFrames(dirty);
  for (FrameId f : dirty) frame(f).latch.unlock_shared();
  lock.lock();

  // Phase 3: free those that nobody pinned or dirtied meanwhile.
  evict_writes_ -= dirty.size();
  for (FrameId f : dirty) {
    Frame& fr = frame(f);
    fr.writing = false;
    fr.pins--;
    if (fr.state == Frame::State::kOrphan) {
      fr.pins++;
      UnpinLocked(f);
      continue;
    }
    if (s.ok() && fr.pins == 0 && !fr.dirty.load()) {
      policy_->OnRemove(f.value);
      table_.erase(fr.page);
      fr.state = Frame::State::kFree;
      fr.page = PageId{};
      free_.push_back(f);
      used_frames_--;
      evictions_.fetch_add(1, std::memory_order_relaxed);
      *progress = true;
    }
  }
  cv_.notify_all();
  return s;
}

}  // namespace ringdb
