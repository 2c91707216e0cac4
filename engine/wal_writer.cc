// LogWriter: appends to a log segment with group commit (see engine/wal.h).
#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "engine/wal.h"
#include "engine/wal_format.h"
#include "util/check.h"

namespace ringdb::wal {

namespace {

bool ValidBufferBytes(size_t n) {
  return n % kBlock == 0 && n >= 2 * kBlock && n <= (size_t{1} << 30);
}

Result<char*> MapRegion(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return io::ErrnoStatus(errno, "mmap log buffer", "", 0);
  }
  return static_cast<char*>(p);
}

}  // namespace

Result<std::unique_ptr<LogWriter>> LogWriter::Create(io::IoBackend* io,
                                                     const std::string& dir,
                                                     uint64_t segment,
                                                     Lsn start_lsn) {
  return Create(io, dir, segment, start_lsn, LogWriterOptions());
}

Result<std::unique_ptr<LogBuffer>> LogBuffer::Create(io::IoBackend* io,
                                                     size_t buffer_bytes) {
  if (io == nullptr || !ValidBufferBytes(buffer_bytes)) {
    return Status::InvalidArgument("LogBuffer::Create: bad buffer size");
  }
  Result<char*> region = MapRegion(2 * buffer_bytes);
  if (!region.ok()) return region.status();
  std::unique_ptr<LogBuffer> buffer(new LogBuffer(io, *region, buffer_bytes));
  buffer->registration_ = io->RegisterBuffer(*region, 2 * buffer_bytes);
  return buffer;
}

LogBuffer::~LogBuffer() {
  RINGDB_CHECK(!in_use_.load());
  // Unregister before unmapping: a stale registration would send later
  // fixed-buffer I/O at these addresses to the old pages.
  io_->UnregisterBuffer(region_);
  ::munmap(region_, 2 * buffer_bytes_);
}

Result<std::unique_ptr<LogWriter>> LogWriter::Create(
    io::IoBackend* io, const std::string& dir, uint64_t segment,
    Lsn start_lsn, const LogWriterOptions& options) {
  const std::string path = SegmentPath(dir, segment);
  LogBuffer* const shared = options.buffer;
  const size_t buffer_bytes =
      shared != nullptr ? shared->buffer_bytes() : options.buffer_bytes;
  if (io == nullptr || !ValidBufferBytes(buffer_bytes) || options.map_bytes % kBlock != 0) {
    return Status::InvalidArgument("LogWriter::Create: bad arguments for " +
                                   path);
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Status::InvalidArgument("log segment already exists: " + path);
  }
  if (shared != nullptr && shared->in_use_.exchange(true)) {
    return Status::InvalidArgument("LogBuffer already used by another writer");
  }
  char* region = shared != nullptr ? shared->region_ : nullptr;
  Status s;
  if (region == nullptr) {
    Result<char*> mapped = MapRegion(2 * buffer_bytes);
    s = mapped.status();
    if (mapped.ok()) region = *mapped;
  }
  io::FileId file;
  if (s.ok()) {
    Result<io::FileId> opened =
        io->OpenBuffered(path, io::OpenMode::kCreateReadWrite);
    s = opened.status();
    if (opened.ok()) file = *opened;
  }
  if (s.ok()) {
    Result<uint64_t> size = io->FileSize(file);
    s = size.status();
    if (size.ok() && *size != 0) {
      s = Status::InvalidArgument("log segment already exists: " + path);
    }
  }
  if (s.ok()) {
    // The header goes through the shared (possibly registered) region: it
    // is the first write of the segment, nothing is buffered yet.
    EncodeSegmentHeader(region, start_lsn);
    s = io->Write(file, 0, region, kSegmentHeaderSize);
  }
  if (s.ok()) s = io->Sync(file);
  // The new segment's directory entry must survive a machine crash.
  if (s.ok()) s = io->SyncDirectory(dir);
  if (!s.ok()) {
    // The first error is the one to report.
    if (file.valid()) (void)io->Close(file);
    if (shared != nullptr) {
      shared->in_use_.store(false);
    } else if (region != nullptr) {
      ::munmap(region, 2 * buffer_bytes);
    }
    return s;
  }
  return std::unique_ptr<LogWriter>(new LogWriter(
      io, path, file, start_lsn, options, buffer_bytes, region, shared));
}

LogWriter::LogWriter(io::IoBackend* io, std::string path, io::FileId file,
                     Lsn start_lsn, const LogWriterOptions& options,
                     size_t buffer_bytes, char* region, LogBuffer* shared)
    : io_(io),
      path_(std::move(path)),
      file_(file),
      start_lsn_(start_lsn),
      buffer_bytes_(buffer_bytes),
      cache_drop_bytes_(options.cache_drop_bytes),
      region_(region),
      shared_(shared),
      cur_(region),
      spare_(region + buffer_bytes),
      cur_base_(kSegmentHeaderSize),
      appended_lsn_(start_lsn + kSegmentHeaderSize),
      written_lsn_(start_lsn + kSegmentHeaderSize),
      durable_lsn_(start_lsn + kSegmentHeaderSize),
      map_bytes_(options.map_bytes),
      reserved_(kSegmentHeaderSize),
      map_off_(options.map_bytes == 0) {}

LogWriter::~LogWriter() {
  // Unwritten records are dropped on purpose (see the header); closing the
  // descriptor writes nothing, and a reserved tail stays (zeros, which
  // recovery reads as the end of the log).
  UnmapWindow();
  if (!closed_) (void)io_->Close(file_);
  if (shared_ != nullptr) {
    shared_->in_use_.store(false);
  } else {
    ::munmap(region_, 2 * buffer_bytes_);
  }
}

Lsn LogWriter::appended_lsn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appended_lsn_;
}

Lsn LogWriter::written_lsn() const {
  return written_lsn_.load(std::memory_order_acquire);
}

Lsn LogWriter::durable_lsn() const {
  return durable_lsn_.load(std::memory_order_acquire);
}

LogWriterStats LogWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<Lsn> LogWriter::Append(uint8_t type, std::string_view payload) {
  if (type == kInvalidRecordType) {
    return Status::InvalidArgument("log record type 0 is reserved");
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !append_busy_ || !failed_.ok(); });
  if (!failed_.ok()) return failed_;
  if (closed_) return Status::InvalidArgument("log is closed: " + path_);

  // Every fragment records what was durable when the record was appended.
  const Lsn durable = durable_lsn_.load(std::memory_order_relaxed);
  Lsn pos = start_lsn_ + cur_base_ + cur_len_;
  bool first = true;
  Status s;
  do {
    const size_t n =
        std::min<size_t>(payload.size(), kMaxFragmentPayload);
    const bool last = n == payload.size();
    const uint8_t kind = first ? (last ? kFullFragment : kFirstFragment)
                               : (last ? kLastFragment : kMiddleFragment);
    char header[kHeaderSize];
    EncodeHeader(header, type, kind, pos, durable, payload.substr(0, n));
    s = CopyIn(lock, std::string_view(header, kHeaderSize));
    if (s.ok()) s = CopyIn(lock, payload.substr(0, n));
    if (!s.ok()) break;
    pos += kHeaderSize + n;
    payload.remove_prefix(n);
    stats_.fragments++;
    stats_.bytes += kHeaderSize + n;
    first = false;
  } while (!payload.empty());
  if (append_busy_) {
    append_busy_ = false;
    cv_.notify_all();
  }
  if (!s.ok()) return s;
  appended_lsn_ = pos;
  stats_.records++;
  return appended_lsn_;
}

Status LogWriter::CopyIn(std::unique_lock<std::mutex>& lock,
                         std::string_view part) {
  while (!part.empty()) {
    if (cur_len_ == buffer_bytes_) {
      // Other appenders wait until this record is complete, so records
      // never interleave while mu_ is released for I/O.
      append_busy_ = true;
      RINGDB_RETURN_IF_ERROR(MakeRoom(lock));
    }
    size_t n = std::min(part.size(), buffer_bytes_ - cur_len_);
    std::memcpy(cur_ + cur_len_, part.data(), n);
    cur_len_ += n;
    part.remove_prefix(n);
  }
  return Status::OK();
}

Status LogWriter::MakeRoom(std::unique_lock<std::mutex>& lock) {
  while (true) {
    if (!failed_.ok()) return failed_;
    if (cur_len_ < buffer_bytes_) return Status::OK();
    if (!io_busy_) return WriteOut(lock, /*sync=*/false);
    cv_.wait(lock);
  }
}

Status LogWriter::WriteOut(std::unique_lock<std::mutex>& lock, bool sync) {
  io_busy_ = true;
  char* const buf = cur_;
  const uint64_t base = cur_base_;
  const size_t len = cur_len_;
  const uint64_t end = base + len;
  const Lsn complete = appended_lsn_;
  if (len > 0) {
    // Appenders continue in the other buffer, after these bytes.
    cur_ = spare_;
    spare_ = buf;
    cur_base_ = end;
    cur_len_ = 0;
  }
  lock.unlock();

  Status s;
  bool mapped = false;
  if (len > 0) s = WriteBytes(base, buf, len, &mapped);
  if (s.ok() && sync) s = io_->Sync(file_);
  uint64_t drops = 0;
  uint64_t errors = 0;
  if (s.ok() && cache_drop_bytes_ > 0) DropCache(end, sync, &drops, &errors);

  lock.lock();
  io_busy_ = false;
  cv_.notify_all();
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  if (len > 0) {
    stats_.writes++;
    stats_.bytes_written += len;
    if (mapped) stats_.mapped_writes++;
  }
  stats_.cache_drops += drops;
  stats_.cache_advice_errors += errors;
  // Every byte up to `end` (and so every record complete at the snapshot)
  // is now in the file.
  const Lsn written = std::max(written_lsn_.load(std::memory_order_relaxed), complete);
  written_lsn_.store(written, std::memory_order_release);
  if (sync) {
    durable_lsn_.store(written, std::memory_order_release);
    stats_.syncs++;
  }
  return Status::OK();
}

Status LogWriter::WriteBytes(uint64_t base, const char* buf, size_t len, bool* mapped) {
  *mapped = !map_off_ && CopyToMapping(base, buf, len);
  if (*mapped) return Status::OK();
  // Also after a partial copy: writing the same bytes again is harmless.
  return io_->Write(file_, base, buf, static_cast<uint32_t>(len));
}

bool LogWriter::CopyToMapping(uint64_t base, const char* buf, size_t len) {
  const uint64_t end = base + len;
  while (base < end) {
    const uint64_t start = base - base % map_bytes_;
    if ((map_ == nullptr || start != map_start_) && !MapWindow(start)) return false;
    const uint64_t to = std::min<uint64_t>(end, map_start_ + map_bytes_);
    if (to > reserved_) {
      // The disk was too full to reserve the whole window: reserve what
      // this copy needs, or let write(2) report the full disk.
      const uint64_t want = (to + kBlock - 1) / kBlock * kBlock;
      if (!io_->Allocate(file_, reserved_, want - reserved_).ok()) return false;
      reserved_ = want;
    }
    CopyInOrder(map_ + (base - map_start_), buf, to - base);
    buf += to - base;
    base = to;
  }
  return true;
}

namespace {

// Stores `width` bytes from src + *i at dst + *i and advances *i: one store
// (two without SSE2) that the compiler may neither merge with its
// neighbours into a memcpy call nor move across them.
template <size_t width>
inline void StoreInOrder(char* dst, const char* src, size_t* i) {
  dst += *i;
  src += *i;
  *i += width;
#if defined(__SSE2__)
  if constexpr (width == 16) {
    _mm_store_si128(reinterpret_cast<__m128i*>(dst),
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
    asm volatile("" ::: "memory");
    return;
  }
#endif
  if constexpr (width == 16) {
    size_t half = 0;
    StoreInOrder<8>(dst, src, &half);
    StoreInOrder<8>(dst, src, &half);
  } else {
    char word[width];
    std::memcpy(word, src, width);
    std::memcpy(dst, word, width);
    asm volatile("" ::: "memory");
  }
}

}  // namespace

void CopyInOrder(char* dst, const char* src, size_t n) {
  // Single stores up to a 16-byte aligned destination (so that no store
  // straddles two pages), then 16 bytes at a time, then the rest.
  size_t i = 0;
  auto misaligned = [&](size_t width) {
    return n - i >= width && (reinterpret_cast<uintptr_t>(dst + i) & width) != 0;
  };
  if (misaligned(1)) StoreInOrder<1>(dst, src, &i);
  if (misaligned(2)) StoreInOrder<2>(dst, src, &i);
  if (misaligned(4)) StoreInOrder<4>(dst, src, &i);
  if (misaligned(8)) StoreInOrder<8>(dst, src, &i);
  while (n - i >= 16) StoreInOrder<16>(dst, src, &i);
  if (n - i >= 8) StoreInOrder<8>(dst, src, &i);
  if (n - i >= 4) StoreInOrder<4>(dst, src, &i);
  if (n - i >= 2) StoreInOrder<2>(dst, src, &i);
  if (n - i >= 1) StoreInOrder<1>(dst, src, &i);
}

bool LogWriter::MapWindow(uint64_t start) {
  UnmapWindow();
  // Mapped before it is reserved, so that a backend that cannot map never
  // sees the file extended.
  Result<char*> m = io_->MapShared(file_, start, map_bytes_);
  if (!m.ok()) {
    if (m.status().IsNotSupported()) map_off_ = true;
    return false;
  }
  map_ = *m;
  map_start_ = start;
  const uint64_t end = start + map_bytes_;
  if (reserved_ < end) {
    Status r = io_->Allocate(file_, reserved_, end - reserved_);
    if (r.IsNotSupported()) {
      map_off_ = true;
      UnmapWindow();
      return false;
    }
    // A full disk: CopyToMapping reserves what each copy needs.
    if (r.ok()) reserved_ = end;
  }
  // No read-around: a fault in the window would otherwise read the pages
  // around it, the log's dropped pages before the window among them, back
  // from the device (a fill read as many bytes as it wrote). A reserved
  // page reads as zeros without I/O.
  (void)::madvise(map_, map_bytes_, MADV_RANDOM);
  // Resident pages cannot be evicted and read back, so a copy never waits
  // for (or fails on) the device. Best effort: RLIMIT_MEMLOCK may refuse.
  if (reserved_ >= end) map_locked_ = ::mlock(map_, map_bytes_) == 0;
  return true;
}

void LogWriter::UnmapWindow() {
  if (map_ == nullptr) return;
  if (map_locked_) (void)::munlock(map_, map_bytes_);
  ::munmap(map_, map_bytes_);
  map_ = nullptr;
  map_locked_ = false;
}

Status LogWriter::TrimReserve(uint64_t end) {
  if (reserved_ <= end) return Status::OK();
  RINGDB_RETURN_IF_ERROR(io_->Truncate(file_, end));
  reserved_ = end;
  // The new size must be durable before a later segment exists: recovery
  // reads a zero tail in a segment that is not the last as damage.
  return io_->Sync(file_);
}

void LogWriter::DropCache(uint64_t end, bool synced, uint64_t* drops,
                          uint64_t* errors) {
  // Only whole pages: the page holding the end of the file is appended to
  // next, and dropping it would make the next write read it back.
  const uint64_t aligned = AlignDown(end);
  // Pages of the mapped window stay cached while mapped: drop only below it.
  const uint64_t droppable = map_ != nullptr ? std::min(aligned, map_start_) : aligned;
  auto advise = [&](uint64_t from, uint64_t to, io::CacheAdvice advice) {
    if (to <= from) return;
    if (advice == io::CacheAdvice::kDrop) ++*drops;
    if (!io_->AdviseCache(file_, from, to - from, advice).ok()) ++*errors;
  };
  if (synced) {
    // Synced pages are clean: dropping them costs no I/O.
    if (droppable >= dropped_end_ + cache_drop_bytes_) {
      advise(dropped_end_, droppable, io::CacheAdvice::kDrop);
      dropped_end_ = droppable;
      wb_end_ = std::max(wb_end_, aligned);
    }
  } else if (aligned >= wb_end_ + cache_drop_bytes_) {
    // Start the write-back of the new step and drop the previous one,
    // whose write-back was started a step ago (usually done by now).
    advise(wb_end_, aligned, io::CacheAdvice::kStartWriteBack);
    const uint64_t to = std::min(wb_end_, droppable);
    advise(dropped_end_, to, io::CacheAdvice::kDrop);
    dropped_end_ = std::max(dropped_end_, to);
    wb_end_ = aligned;
  }
}

template <typename Done>
Status LogWriter::LeadUntil(std::unique_lock<std::mutex>& lock, bool sync,
                            Done done, bool* led) {
  *led = false;
  while (!done()) {
    if (!failed_.ok()) return failed_;
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    *led = true;
    RINGDB_RETURN_IF_ERROR(WriteOut(lock, sync));
  }
  return Status::OK();
}

Status LogWriter::WriteTo(Lsn lsn) {
  std::unique_lock<std::mutex> lock(mu_);
  stats_.write_calls++;
  if (!failed_.ok()) return failed_;
  if (lsn > appended_lsn_) {
    return Status::InvalidArgument("WriteTo past the end of log " + path_);
  }
  bool led;
  return LeadUntil(lock, /*sync=*/false,
                   [&] { return written_lsn_.load(std::memory_order_relaxed) >= lsn; },
                   &led);
}

Status LogWriter::SyncTo(Lsn lsn) {
  std::unique_lock<std::mutex> lock(mu_);
  stats_.sync_calls++;
  if (!failed_.ok()) return failed_;
  if (lsn > appended_lsn_) {
    return Status::InvalidArgument("SyncTo past the end of log " + path_);
  }
  const bool needed = durable_lsn_.load(std::memory_order_relaxed) < lsn;
  bool led;
  RINGDB_RETURN_IF_ERROR(LeadUntil(
      lock, /*sync=*/true,
      [&] { return durable_lsn_.load(std::memory_order_relaxed) >= lsn; }, &led));
  if (needed && !led) stats_.group_commits++;
  return Status::OK();
}

Status LogWriter::Flush() {
  Lsn target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = appended_lsn_;
  }
  return WriteTo(target);
}

Status LogWriter::Close() {
  Lsn end;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::OK();
    end = appended_lsn_;
  }
  Status s = SyncTo(end);
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  UnmapWindow();
  // A failed writer's file is cut back by its owner (to written_lsn()).
  if (s.ok()) s = TrimReserve(end - start_lsn_);
  // Everything is synced and no more appends come: drop the whole file
  // (length 0: to its end). A hint; its failure loses nothing.
  if (s.ok() && cache_drop_bytes_ > 0) {
    (void)io_->AdviseCache(file_, dropped_end_, 0, io::CacheAdvice::kDrop);
  }
  Status c = io_->Close(file_);  // no other call runs concurrently
  return s.ok() ? c : s;
}

}  // namespace ringdb::wal
