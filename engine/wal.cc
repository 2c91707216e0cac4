// Write-ahead log: the record checksum, segment files and LogReader.
// LogWriter is in wal_writer.cc.
#include "engine/wal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include "engine/wal_format.h"
#include "io/check.h"

namespace ringdb::wal {

namespace {

constexpr uint64_t kBlock = io::kDirectIoAlignment;

uint64_t AlignDown(uint64_t v) { return v & ~(kBlock - 1); }

}  // namespace

uint32_t RecordChecksum(const char* header, std::string_view payload) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, header + kLengthOffset,
                     kHeaderSize - kLengthOffset);
  XXH3_64bits_update(&state, payload.data(), payload.size());
  return static_cast<uint32_t>(XXH3_64bits_digest(&state));
}

std::string SegmentFileName(uint64_t segment) {
  char name[64];
  std::snprintf(name, sizeof(name), "%.*s%016" PRIx64 "%.*s",
                static_cast<int>(kSegmentPrefix.size()), kSegmentPrefix.data(),
                segment, static_cast<int>(kSegmentSuffix.size()),
                kSegmentSuffix.data());
  return name;
}

std::string SegmentPath(const std::string& dir, uint64_t segment) {
  return dir + "/" + SegmentFileName(segment);
}

bool ParseSegmentFileName(std::string_view name, uint64_t* segment) {
  if (name.size() !=
      kSegmentPrefix.size() + kSegmentHexDigits + kSegmentSuffix.size()) {
    return false;
  }
  if (name.substr(0, kSegmentPrefix.size()) != kSegmentPrefix) return false;
  if (name.substr(name.size() - kSegmentSuffix.size()) != kSegmentSuffix) {
    return false;
  }
  uint64_t v = 0;
  for (char c : name.substr(kSegmentPrefix.size(), kSegmentHexDigits)) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;  // SegmentFileName writes lowercase only
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *segment = v;
  return true;
}

Result<std::vector<uint64_t>> ListSegments(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return io::ErrnoStatus(ec.value(), "list directory", dir, 0);
  std::vector<uint64_t> segments;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    uint64_t segment;
    if (ParseSegmentFileName(it->path().filename().string(), &segment)) {
      segments.push_back(segment);
    }
  }
  if (ec) return io::ErrnoStatus(ec.value(), "list directory", dir, 0);
  std::sort(segments.begin(), segments.end());
  return segments;
}

Status DeleteSegmentsBefore(io::IoBackend* io, const std::string& dir, uint64_t segment) {
  Result<std::vector<uint64_t>> segments = ListSegments(dir);
  if (!segments.ok()) return segments.status();
  bool deleted = false;
  for (uint64_t s : *segments) {
    if (s >= segment) break;
    Status gone = io->Unlink(SegmentPath(dir, s));
    if (!gone.ok() && !gone.IsNotFound()) return gone;
    deleted = true;
  }
  return deleted ? io->SyncDirectory(dir) : Status::OK();
}

const char* LogTailName(LogTail tail) {
  switch (tail) {
    case LogTail::kNotReached: return "not reached";
    case LogTail::kEndOfFile: return "end of file";
    case LogTail::kZeroFill: return "zero fill";
    case LogTail::kTruncated: return "truncated record";
    case LogTail::kBadLsn: return "lsn mismatch";
    case LogTail::kBadType: return "invalid type";
    case LogTail::kBadLength: return "invalid length";
    case LogTail::kBadChecksum: return "checksum mismatch";
  }
  return "unknown";
}

// ---------------------------------------------------------------- LogReader

Result<std::unique_ptr<LogReader>> LogReader::Open(io::IoBackend* io,
                                                   const std::string& path,
                                                   Lsn start_lsn,
                                                   size_t chunk_bytes) {
  if (io == nullptr || chunk_bytes == 0 || chunk_bytes % kBlock != 0 ||
      chunk_bytes > (1u << 30)) {
    return Status::InvalidArgument("LogReader::Open: bad arguments for " +
                                   path);
  }
  Result<io::FileId> file = io->Open(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  Result<uint64_t> size = io->FileSize(*file);
  if (!size.ok()) {
    (void)io->Close(*file);  // the size error is the one to report
    return size.status();
  }
  void* chunk = ::mmap(nullptr, chunk_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (chunk == MAP_FAILED) {
    int err = errno;
    (void)io->Close(*file);
    return io::ErrnoStatus(err, "mmap log read buffer", path, 0);
  }
  return std::unique_ptr<LogReader>(
      new LogReader(io, *file, path, start_lsn, *size, chunk_bytes,
                    static_cast<char*>(chunk)));
}

LogReader::LogReader(io::IoBackend* io, io::FileId file, std::string path,
                     Lsn start_lsn, uint64_t file_size, size_t chunk_bytes,
                     char* chunk)
    : io_(io),
      file_(file),
      path_(std::move(path)),
      start_lsn_(start_lsn),
      file_size_(file_size),
      readable_(AlignDown(file_size)),
      chunk_bytes_(chunk_bytes),
      chunk_(chunk) {}

LogReader::~LogReader() {
  // A read-only descriptor: closing it cannot lose data.
  (void)io_->Close(file_);
  ::munmap(chunk_, chunk_bytes_);
}

Status LogReader::Copy(uint64_t offset, size_t n, char* dst) {
  while (n > 0) {
    if (chunk_len_ == 0 || offset < chunk_offset_ ||
        offset >= chunk_offset_ + chunk_len_) {
      const uint64_t base = AlignDown(offset);
      const uint64_t want = std::min<uint64_t>(chunk_bytes_, readable_ - base);
      RINGDB_RETURN_IF_ERROR(
          io_->Read(file_, base, chunk_, static_cast<uint32_t>(want)));
      chunk_offset_ = base;
      chunk_len_ = want;
    }
    size_t from = static_cast<size_t>(offset - chunk_offset_);
    size_t take = std::min(n, chunk_len_ - from);
    std::memcpy(dst, chunk_ + from, take);
    dst += take;
    offset += take;
    n -= take;
  }
  return Status::OK();
}

Status LogReader::Stop(LogTail tail, bool* eof) {
  tail_ = tail;
  *eof = true;
  return Status::OK();
}

Status LogReader::Next(std::string* payload, uint8_t* type, Lsn* end_lsn,
                       bool* eof) {
  if (tail_ != LogTail::kNotReached) return Stop(tail_, eof);
  const uint64_t left = readable_ - pos_;
  if (left == 0) {
    return Stop(readable_ == file_size_ ? LogTail::kEndOfFile
                                        : LogTail::kTruncated,
                eof);
  }

  char header[kHeaderSize];
  size_t have = static_cast<size_t>(std::min<uint64_t>(left, kHeaderSize));
  RINGDB_RETURN_IF_ERROR(Copy(pos_, have, header));
  if (std::all_of(header, header + have, [](char c) { return c == 0; })) {
    return Stop(LogTail::kZeroFill, eof);
  }
  if (have < kHeaderSize) return Stop(LogTail::kTruncated, eof);
  if (DecodeFixed64(header + kLsnOffset) != start_lsn_ + pos_) {
    return Stop(LogTail::kBadLsn, eof);
  }
  if (static_cast<uint8_t>(header[kTypeOffset]) == kInvalidRecordType) {
    return Stop(LogTail::kBadType, eof);
  }
  uint32_t length = DecodeFixed32(header + kLengthOffset);
  if (length > kMaxPayloadSize) return Stop(LogTail::kBadLength, eof);
  if (left - kHeaderSize < length) return Stop(LogTail::kTruncated, eof);

  payload->resize(length);
  RINGDB_RETURN_IF_ERROR(Copy(pos_ + kHeaderSize, length, payload->data()));
  if (DecodeFixed32(header + kChecksumOffset) !=
      RecordChecksum(header, *payload)) {
    payload->clear();
    return Stop(LogTail::kBadChecksum, eof);
  }
  pos_ += kHeaderSize + length;
  *type = static_cast<uint8_t>(header[kTypeOffset]);
  *end_lsn = start_lsn_ + pos_;
  *eof = false;
  return Status::OK();
}

}  // namespace ringdb::wal
