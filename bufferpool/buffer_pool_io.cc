// BufferPool I/O: batched page reads with checksum verification, batched
// write-back behind the write gate, and FlushAll. See buffer_pool.h.
#include <algorithm>

#include "bufferpool/buffer_pool.h"
#include "bufferpool/frame.h"

namespace ringdb {

Result<uint64_t> BufferPool::ReadOffsetOf(PageId id) {
  if (locator_ == nullptr) return id.value * page_size_;
  return locator_->ReadOffset(id);
}

Status BufferPool::VerifyPage(PageId id, const char* data) const {
  const auto* h = reinterpret_cast<const PageHeader*>(data);
  uint64_t sum = PageChecksum(data, page_size_);
  if (h->checksum != sum) {
    return Status::Corruption("page " + std::to_string(id.value) +
                              ": checksum mismatch (stored " + std::to_string(h->checksum) +
                              ", computed " + std::to_string(sum) + ") in " +
                              io_->PathOf(file_));
  }
  if (h->page_id != id.value) {
    return Status::Corruption("page " + std::to_string(id.value) + ": holds page " +
                              std::to_string(h->page_id) + " (misdirected write) in " +
                              io_->PathOf(file_));
  }
  return Status::OK();
}

void BufferPool::ReadFrames(std::span<const FrameId> frames, std::vector<Status>* out) {
  out->assign(frames.size(), Status::OK());
  std::vector<io::IoRequest> reqs;
  std::vector<size_t> which;
  reqs.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); i++) {
    PageId id = frame(frames[i]).page;
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
    PageId id = frame(frames[i]).page;
    if (!reqs[k].status.ok()) {
      (*out)[i] = reqs[k].status.WithContext("reading page " + std::to_string(id.value));
      continue;
    }
    reads_.fetch_add(1, std::memory_order_relaxed);
    bytes_read_.fetch_add(page_size_, std::memory_order_relaxed);
    (*out)[i] = VerifyPage(id, FrameData(frames[i]));
  }
}

Status BufferPool::WriteFrames(std::span<const FrameId> frames) {
  // The write-ahead rule: the log must be durable up to the newest change.
  Lsn max_lsn = 0;
  for (FrameId f : frames) max_lsn = std::max(max_lsn, frame(f).lsn.load());
  std::function<Status(Lsn)> gate;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gate = write_gate_;
  }
  if (gate && max_lsn > 0) RINGDB_RETURN_IF_ERROR(gate(max_lsn));

  std::vector<io::IoRequest> reqs(frames.size());
  std::vector<PageId> pages(frames.size());
  Status first;
  size_t n = 0;
  for (FrameId f : frames) {
    Frame& fr = frame(f);
    PageId id = fr.page;
    Result<uint64_t> off = locator_ == nullptr ? Result<uint64_t>(id.value * page_size_)
                                               : locator_->WriteOffset(id);
    if (!off.ok()) {
      if (first.ok()) first = off.status();
      continue;
    }
    char* data = FrameData(f);
    auto* h = reinterpret_cast<PageHeader*>(data);
    h->page_id = id.value;
    h->lsn = fr.lsn.load();
    h->checksum = PageChecksum(data, page_size_);
    if (fr.dirty.exchange(false)) dirty_count_.fetch_sub(1);
    io::IoRequest& r = reqs[n];
    r.op = io::IoRequest::Op::kWrite;
    r.file = file_;
    r.offset = off.value();
    r.buf = data;
    r.len = page_size_;
    pages[n] = id;
    n++;
  }
  std::span<io::IoRequest> batch(reqs.data(), n);
  (void)io_->Submit(batch);
  size_t k = 0;
  for (FrameId f : frames) {
    Frame& fr = frame(f);
    if (k >= n || pages[k] != fr.page) {
      // Its offset could not be had: keep it dirty.
      if (!fr.dirty.exchange(true)) dirty_count_.fetch_add(1);
      continue;
    }
    const io::IoRequest& r = reqs[k++];
    // Also for a page dropped meanwhile, and for a failed write: the
    // locator learns that no write to this slot is in flight any more.
    if (locator_ != nullptr) locator_->WriteDone(fr.page, r.offset, r.status.ok());
    if (r.status.ok()) {
      writes_.fetch_add(1, std::memory_order_relaxed);
      bytes_written_.fetch_add(page_size_, std::memory_order_relaxed);
    } else {
      if (!fr.dirty.exchange(true)) dirty_count_.fetch_add(1);
      if (first.ok()) {
        first = r.status.WithContext("writing page " + std::to_string(fr.page.value));
      }
    }
  }
  return first;
}

Status BufferPool::FlushAll() {
  const size_t kBatch = 128;
  std::vector<FrameId> dirty;
  {
    // Write-backs of evicted pages finish first, so that when FlushAll
    // returns every page written so far has reached the locator.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return evict_writes_ == 0; });
    for (uint32_t i = 0; i < num_frames_; i++) {
      Frame& fr = frames_[i];
      if (fr.state == Frame::State::kReady && !fr.writing && fr.dirty.load()) {
        fr.writing = true;
        fr.pins++;
        dirty.push_back(FrameId{i});
      }
    }
  }
  Status first;
  for (size_t start = 0; start < dirty.size(); start += kBatch) {
    std::span<const FrameId> batch(dirty.data() + start,
                                   std::min(kBatch, dirty.size() - start));
    if (first.ok()) {
      for (FrameId f : batch) frame(f).latch.lock_shared();
      first = WriteFrames(batch);
      for (FrameId f : batch) frame(f).latch.unlock_shared();
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (FrameId f : batch) {
      frame(f).writing = false;
      UnpinLocked(f);
    }
  }
  RINGDB_RETURN_IF_ERROR(first);
  return io_->Sync(file_);
}

PoolStats BufferPool::stats() const {
  PoolStats s;
  s.hits = hits_.load();
  s.misses = misses_.load();
  s.reads = reads_.load();
  s.writes = writes_.load();
  s.evictions = evictions_.load();
  s.bytes_read = bytes_read_.load();
  s.bytes_written = bytes_written_.load();
  s.busy_waits = busy_waits_.load();
  s.dirty_pages = dirty_count_.load();
  s.frames = num_frames_;
  std::lock_guard<std::mutex> lock(mu_);
  s.used_frames = used_frames_;
  return s;
}

}  // namespace ringdb
