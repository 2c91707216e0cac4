// BufferPool I/O: batched page reads with checksum verification, batched
// write-back behind the write gate, and FlushAll. See buffer_pool.h.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "bufferpool/buffer_pool.h"
#include "bufferpool/frame.h"
#include "bufferpool/page_table.h"

namespace ringdb {

Result<uint64_t> BufferPool::ReadOffsetOf(PageId id) {
  if (locator_ == nullptr) return id.value * page_size_;
  return locator_->ReadOffset(id);
}

namespace {
std::string Hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

Status BufferPool::VerifyPage(PageId id, const char* data) const {
  const auto* h = reinterpret_cast<const PageHeader*>(data);
  uint64_t sum = PageChecksum(data, page_size_);
  if (h->checksum != sum) {
    return Status::Corruption("page " + std::to_string(id.value) +
                              ": checksum mismatch (stored " + Hex64(h->checksum) +
                              ", computed " + Hex64(sum) + ") in " +
                              io_->PathOf(file_));
  }
  if (h->page_id != id.value) {
    return Status::Corruption("page " + std::to_string(id.value) + ": holds page " +
                              std::to_string(h->page_id) + " (misdirected write) in " +
                              io_->PathOf(file_));
  }
  return Status::OK();
}

void BufferPool::ReadFrames(std::span<const FrameIndex> frames, std::vector<Status>* out) {
  out->assign(frames.size(), Status::OK());
  std::vector<io::IoRequest> reqs;
  std::vector<size_t> which;
  reqs.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); i++) {
    PageId id{frame(frames[i]).page.load(std::memory_order_relaxed)};
    Result<uint64_t> off = ReadOffsetOf(id);
    if (!off.ok()) {
      (*out)[i] = off.status();
      continue;
    }
    io::IoRequest r;
    r.op = io::IoRequest::Op::kRead;
    r.file = file_;
    r.offset = off.value();
    r.buf = FrameData(frames[i]);
    r.len = page_size_;
    reqs.push_back(r);
    which.push_back(i);
  }
  if (reqs.empty()) return;
  (void)io_->Submit(reqs);  // per-request statuses below
  for (size_t k = 0; k < reqs.size(); k++) {
    size_t i = which[k];
    (*out)[i] = CheckRead(frames[i], reqs[k].status);
  }
}

Status BufferPool::CheckRead(FrameIndex f, const Status& io) {
  PageId id{frame(f).page.load(std::memory_order_relaxed)};
  if (!io.ok()) return io.WithContext("reading page " + std::to_string(id.value));
  reads_.fetch_add(1, std::memory_order_relaxed);
  bytes_read_.fetch_add(page_size_, std::memory_order_relaxed);
  Status s = VerifyPage(id, FrameData(f));
  if (s.ok() && read_check_) s = read_check_(id, FrameData(f));
  return s;
}

void BufferPool::EndReadAhead(PageId id, FrameIndex f, const Status& s) {
  if (!s.ok()) {
    Unmap(id, f);  // waiters see "evicted" and read it themselves
    return;
  }
  frame(f).lsn.store(Lsn(reinterpret_cast<const PageHeader*>(FrameData(f))->lsn),
                     std::memory_order_relaxed);
  PolicyInsert(f, id);
  frame(f).state.UnlockExclusive();
}

// ---- Asynchronous reads -------------------------------------------------

namespace {
thread_local uint64_t t_demand_reads = 0;
}  // namespace

uint64_t BufferPool::ThreadDemandReads() { return t_demand_reads; }

void BufferPool::CountDemandRead() { t_demand_reads++; }

std::unique_ptr<BufferPool::AsyncReads> BufferPool::NewAsyncReads(size_t max_in_flight) {
  size_t cap = std::clamp<size_t>(max_in_flight, 1, std::max<uint32_t>(1, active_frames() / 4));
  return std::unique_ptr<AsyncReads>(new AsyncReads(this, io_->NewQueue(cap)));
}

BufferPool::AsyncReads::~AsyncReads() {
  std::vector<PageId> done;
  while (in_flight() > 0) Reap(&done);
}

size_t BufferPool::AsyncReads::in_flight() const { return queue_->pending(); }

BufferPool::AsyncReads::Start BufferPool::AsyncReads::StartRead(PageId id) {
  BufferPool& p = *pool_;
  if (queue_->pending() >= queue_->capacity()) return Start::kNoRoom;
  if (p.table_->Lookup(id) != PageTable::kNone) return Start::kNotNeeded;
  Result<FrameIndex> got = p.AllocateFrame(/*may_wait=*/false);
  if (!got.ok()) return Start::kNoRoom;
  FrameIndex f = got.value();
  p.frame(f).lsn.store(Lsn(), std::memory_order_relaxed);
  if (!p.Enter(id, f, /*prefetched=*/true)) return Start::kNotNeeded;
  p.misses_.fetch_add(1, std::memory_order_relaxed);
  p.CountDemandRead();
  Result<uint64_t> off = p.ReadOffsetOf(id);
  if (!off.ok()) {
    p.Unmap(id, f);
    return Start::kNotNeeded;  // a Fetch reports it
  }
  io::IoRequest r;
  r.op = io::IoRequest::Op::kRead;
  r.file = p.file_;
  r.offset = off.value();
  r.buf = p.FrameData(f);
  r.len = p.page_size_;
  queue_->Add(r, f);
  return Start::kStarted;
}

void BufferPool::AsyncReads::Submit() { queue_->Submit(); }

void BufferPool::AsyncReads::Reap(std::vector<PageId>* done) {
  completions_.clear();
  queue_->Reap(&completions_);
  for (const io::IoCompletion& c : completions_) {
    FrameIndex f{static_cast<uint32_t>(c.tag)};
    PageId id{pool_->frame(f).page.load(std::memory_order_relaxed)};
    pool_->EndReadAhead(id, f, pool_->CheckRead(f, c.status));
    done->push_back(id);
  }
}

void BufferPool::WriteFrames(std::span<const FrameIndex> frames, std::vector<Status>* out,
                             bool gated) {
  out->assign(frames.size(), Status::OK());
  // The write-ahead rule: the log must be durable up to the newest change.
  Lsn max_lsn;
  for (FrameIndex f : frames) max_lsn = std::max(max_lsn, frame(f).lsn.load());
  Status gate = Status::OK();
  if (gated && write_gate_ && max_lsn > Lsn()) gate = write_gate_(max_lsn);

  std::vector<io::IoRequest> reqs;
  std::vector<size_t> which;
  reqs.reserve(frames.size());
  for (size_t i = 0; i < frames.size() && gate.ok(); i++) {
    FrameHeader& fr = frame(frames[i]);
    PageId id{fr.page.load(std::memory_order_relaxed)};
    Result<uint64_t> off = locator_ == nullptr ? Result<uint64_t>(id.value * page_size_)
                                               : locator_->WriteOffset(id);
    if (!off.ok()) {
      (*out)[i] = off.status().WithContext("writing page " + std::to_string(id.value));
      continue;
    }
    char* data = FrameData(frames[i]);
    auto* h = reinterpret_cast<PageHeader*>(data);
    h->page_id = id.value;
    h->lsn = fr.lsn.load().value;
    h->checksum = PageChecksum(data, page_size_);
    io::IoRequest r;
    r.op = io::IoRequest::Op::kWrite;
    r.file = file_;
    r.offset = off.value();
    r.buf = data;
    r.len = page_size_;
    reqs.push_back(r);
    which.push_back(i);
  }
  if (!gate.ok()) out->assign(frames.size(), gate);
  if (!reqs.empty()) (void)io_->Submit(reqs);  // per-request statuses below
  for (size_t k = 0; k < reqs.size(); k++) {
    size_t i = which[k];
    FrameHeader& fr = frame(frames[i]);
    PageId id{fr.page.load(std::memory_order_relaxed)};
    const io::IoRequest& r = reqs[k];
    if (locator_ != nullptr) locator_->WriteDone(id, r.offset, r.status.ok());
    if (r.status.ok()) {
      writes_.fetch_add(1, std::memory_order_relaxed);
      bytes_written_.fetch_add(page_size_, std::memory_order_relaxed);
      // Nobody dirtied it meanwhile: the caller's shared latch kept
      // writers out.
      if (fr.dirty.exchange(false, std::memory_order_relaxed)) {
        dirty_count_.fetch_sub(1, std::memory_order_relaxed);
      }
    } else {
      (*out)[i] = r.status.WithContext("writing page " + std::to_string(id.value));
    }
  }
  for (size_t i = 0; i < frames.size(); i++) {
    FrameHeader& fr = frame(frames[i]);
    if ((*out)[i].ok()) {
      if (fr.write_failed.exchange(false, std::memory_order_relaxed)) {
        unwritable_count_.fetch_sub(1, std::memory_order_relaxed);
      }
    } else {
      write_failures_.fetch_add(1, std::memory_order_relaxed);
      if (!fr.write_failed.exchange(true, std::memory_order_relaxed)) {
        unwritable_count_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    fr.writing.store(false, std::memory_order_release);
  }
}

Status BufferPool::FlushAll() {
  const size_t kBatch = 128;
  Status first;
  std::vector<FrameIndex> batch;
  std::vector<FrameIndex> later;  // latched by someone else, or being written
  std::vector<Status> results;
  auto write_batch = [&] {
    if (batch.empty()) return;
    WriteFrames(batch, &results);
    for (size_t i = 0; i < batch.size(); i++) {
      if (first.ok() && !results[i].ok()) first = results[i];
      frame(batch[i]).state.UnlockShared();
    }
    batch.clear();
  };
  // Latches are only tried here, never waited for while others are held.
  for (uint32_t i = 0; i < num_frames_ && first.ok(); i++) {
    FrameHeader& fr = frames_[i];
    if (!fr.dirty.load(std::memory_order_relaxed)) continue;
    if (!fr.state.TryShared()) {
      later.push_back(FrameIndex{i});
      continue;
    }
    if (!fr.dirty.load(std::memory_order_relaxed) ||
        fr.writing.exchange(true, std::memory_order_acquire)) {
      fr.state.UnlockShared();
      if (fr.dirty.load(std::memory_order_relaxed)) later.push_back(FrameIndex{i});
      continue;
    }
    batch.push_back(FrameIndex{i});
    if (batch.size() == kBatch) write_batch();
  }
  write_batch();
  // One at a time, waiting: pages a writer held, and pages an eviction was
  // writing (wait for that write, so that every page written so far has
  // reached the locator when FlushAll returns).
  for (size_t k = 0; k < later.size() && first.ok(); k++) {
    FrameIndex f = later[k];
    FrameHeader& fr = frame(f);
    bool latched = false;
    while ((latched = fr.state.LockShared())) {  // false: freed, nothing to write
      if (!fr.writing.exchange(true, std::memory_order_acquire)) break;
      fr.state.UnlockShared();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    if (!latched) continue;
    if (!fr.dirty.load(std::memory_order_relaxed)) {
      fr.writing.store(false, std::memory_order_release);
      fr.state.UnlockShared();
      continue;
    }
    batch.push_back(f);
    write_batch();
  }
  RINGDB_RETURN_IF_ERROR(first);
  return io_->Sync(file_);
}

Result<size_t> BufferPool::FlushCold(Lsn max_lsn, size_t max_pages) {
  const size_t kBatch = 64;
  // Candidates first, in page id order, so that pages written together get
  // neighbouring slots where the locator hands out free slots in order
  // (a bulk load's leaves end up in key order on disk).
  std::vector<std::pair<uint64_t, uint32_t>> cold;  // (page id, frame)
  for (uint32_t i = 0; i < num_frames_; i++) {
    FrameHeader& fr = frames_[i];
    if (!fr.dirty.load(std::memory_order_relaxed) ||
        fr.write_failed.load(std::memory_order_relaxed) ||
        fr.lsn.load(std::memory_order_relaxed) > max_lsn) {
      continue;
    }
    cold.emplace_back(fr.page.load(std::memory_order_relaxed), i);
  }
  std::sort(cold.begin(), cold.end());
  size_t written = 0;
  std::vector<FrameIndex> batch;
  std::vector<Status> results;
  Status first;
  auto write_batch = [&] {
    if (batch.empty()) return;
    WriteFrames(batch, &results, /*gated=*/false);
    for (size_t k = 0; k < batch.size(); k++) {
      if (results[k].ok()) {
        written++;
      } else if (first.ok()) {
        first = results[k];
      }
      frame(batch[k]).state.UnlockShared();
    }
    batch.clear();
  };
  for (const auto& [page, i] : cold) {
    if (written + batch.size() >= max_pages || !first.ok()) break;
    FrameHeader& fr = frames_[i];
    if (!fr.state.TryShared()) continue;  // a writer has it: not cold
    // Re-checked under the latch: the frame may have been written, evicted
    // or reused meanwhile. `writing` makes this the only writer of it.
    if (fr.page.load(std::memory_order_relaxed) != page ||
        !fr.dirty.load(std::memory_order_relaxed) ||
        fr.write_failed.load(std::memory_order_relaxed) ||
        fr.lsn.load(std::memory_order_relaxed) > max_lsn ||
        fr.writing.exchange(true, std::memory_order_acquire)) {
      fr.state.UnlockShared();
      continue;
    }
    if (!fr.dirty.load(std::memory_order_relaxed)) {  // written just before we took it
      fr.writing.store(false, std::memory_order_release);
      fr.state.UnlockShared();
      continue;
    }
    batch.push_back(FrameIndex{i});
    if (batch.size() == kBatch) write_batch();
  }
  write_batch();
  if (!first.ok()) return first;
  return written;
}

PoolStats BufferPool::stats() const {
  PoolStats s;
  s.hits = hits_.Sum();
  s.misses = misses_.load();
  s.reads = reads_.load();
  s.writes = writes_.load();
  s.evictions = evictions_.load();
  s.bytes_read = bytes_read_.load();
  s.bytes_written = bytes_written_.load();
  s.busy_waits = busy_waits_.load();
  s.dirty_pages = dirty_count_.load();
  s.write_failures = write_failures_.load();
  s.unwritable_pages = unwritable_count_.load();
  s.resident_pages = resident_count_.load();
  MutexLock lock(&free_mu_);
  s.frames = active_frames();
  s.used_frames = num_frames_ - free_.size() - retired_free_.size();
  return s;
}

}  // namespace ringdb
