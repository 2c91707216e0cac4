// LogWriter: appends to a log segment with group commit (see engine/wal.h).
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "engine/wal.h"
#include "engine/wal_format.h"
#include "io/check.h"

namespace ringdb::wal {

namespace {

constexpr uint64_t kBlock = io::kDirectIoAlignment;

uint64_t AlignDown(uint64_t v) { return v & ~(kBlock - 1); }
uint64_t AlignUp(uint64_t v) { return AlignDown(v + kBlock - 1); }

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
  if (io == nullptr || !ValidBufferBytes(buffer_bytes)) {
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
    Result<io::FileId> opened = io->Open(path, io::OpenMode::kCreateReadWrite);
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
      io, path, file, start_lsn, buffer_bytes, region, shared));
}

LogWriter::LogWriter(io::IoBackend* io, std::string path, io::FileId file,
                     Lsn start_lsn, size_t buffer_bytes, char* region,
                     LogBuffer* shared)
    : io_(io),
      path_(std::move(path)),
      file_(file),
      start_lsn_(start_lsn),
      buffer_bytes_(buffer_bytes),
      region_(region),
      shared_(shared),
      cur_(region),
      spare_(region + buffer_bytes),
      appended_lsn_(start_lsn),
      written_lsn_(start_lsn),
      durable_lsn_(start_lsn) {}

LogWriter::~LogWriter() {
  // Unsynced records are dropped on purpose (see the header); closing the
  // descriptor writes nothing.
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

Lsn LogWriter::durable_lsn() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_lsn_;
}

LogWriterStats LogWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<Lsn> LogWriter::Append(uint8_t type, std::string_view payload) {
  if (type == kInvalidRecordType) {
    return Status::InvalidArgument("log record type 0 is reserved");
  }
  if (payload.size() > kMaxPayloadSize) {
    return Status::InvalidArgument("log record payload too large");
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !append_busy_ || !failed_.ok(); });
  if (!failed_.ok()) return failed_;
  if (closed_) return Status::InvalidArgument("log is closed: " + path_);

  const Lsn start = start_lsn_ + cur_base_ + cur_len_;
  char header[kHeaderSize];
  EncodeHeader(header, type, start, payload);
  const std::string_view parts[2] = {std::string_view(header, kHeaderSize),
                                     payload};
  for (std::string_view part : parts) {
    while (!part.empty()) {
      if (cur_len_ == buffer_bytes_) {
        // Other appenders wait until this record is complete, so records
        // never interleave while mu_ is released for I/O.
        append_busy_ = true;
        Status s = MakeRoom(lock);
        if (!s.ok()) {
          append_busy_ = false;
          cv_.notify_all();
          return s;
        }
      }
      size_t n = std::min(part.size(), buffer_bytes_ - cur_len_);
      std::memcpy(cur_ + cur_len_, part.data(), n);
      cur_len_ += n;
      part.remove_prefix(n);
    }
  }
  if (append_busy_) {
    append_busy_ = false;
    cv_.notify_all();
  }
  appended_lsn_ = start + kHeaderSize + payload.size();
  stats_.records++;
  stats_.bytes += kHeaderSize + payload.size();
  return appended_lsn_;
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
  const bool write = end > written_end_;
  if (write) {
    // Appenders continue in the other buffer, which starts with a copy of
    // the partial last block so the next write can rewrite that block.
    const uint64_t next_base = AlignDown(end);
    std::memcpy(spare_, buf + (next_base - base), end - next_base);
    cur_ = spare_;
    spare_ = buf;
    cur_base_ = next_base;
    cur_len_ = end - next_base;
  }
  lock.unlock();

  Status s;
  const size_t write_len = AlignUp(len);
  if (write) {
    std::memset(buf + len, 0, write_len - len);
    s = io_->Write(file_, base, buf, static_cast<uint32_t>(write_len));
  }
  if (s.ok() && sync) s = io_->Sync(file_);

  lock.lock();
  io_busy_ = false;
  cv_.notify_all();
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  if (write) {
    written_end_ = end;
    stats_.writes++;
    stats_.bytes_written += write_len;
  }
  // Every byte up to `end` (and so every record complete at the snapshot)
  // is now in the file.
  written_lsn_ = std::max(written_lsn_, complete);
  if (sync) {
    durable_lsn_ = written_lsn_;
    stats_.syncs++;
  }
  return Status::OK();
}

Status LogWriter::SyncTo(Lsn lsn) {
  std::unique_lock<std::mutex> lock(mu_);
  stats_.sync_calls++;
  if (!failed_.ok()) return failed_;
  if (lsn > appended_lsn_) {
    return Status::InvalidArgument("SyncTo past the end of log " + path_);
  }
  const bool needed = durable_lsn_ < lsn;
  bool led = false;
  while (durable_lsn_ < lsn) {
    if (!failed_.ok()) return failed_;
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    led = true;
    RINGDB_RETURN_IF_ERROR(WriteOut(lock, /*sync=*/true));
  }
  if (needed && !led) stats_.group_commits++;
  return Status::OK();
}

Status LogWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const Lsn target = appended_lsn_;
  while (true) {
    if (!failed_.ok()) return failed_;
    if (written_lsn_ >= target) return Status::OK();
    if (io_busy_) {
      cv_.wait(lock);
      continue;
    }
    RINGDB_RETURN_IF_ERROR(WriteOut(lock, /*sync=*/false));
  }
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
  Status c = io_->Close(file_);  // no other call runs concurrently
  return s.ok() ? c : s;
}

}  // namespace ringdb::wal
