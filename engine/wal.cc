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
#include "util/check.h"

namespace ringdb::wal {

uint32_t SegmentHeaderChecksum(const char* header) {
  return static_cast<uint32_t>(XXH3_64bits(header, kSegmentChecksumOffset));
}

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
    case LogTail::kBadFragment: return "fragments out of order";
    case LogTail::kBadSegmentHeader: return "bad segment header";
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
  Result<io::FileId> file = io->OpenBuffered(path, io::OpenMode::kReadOnly);
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
  std::unique_ptr<LogReader> reader(
      new LogReader(io, *file, path, start_lsn, *size, chunk_bytes,
                    static_cast<char*>(chunk)));
  RINGDB_RETURN_IF_ERROR(reader->ReadSegmentHeader());
  return reader;
}

LogReader::LogReader(io::IoBackend* io, io::FileId file, std::string path,
                     Lsn start_lsn, uint64_t file_size, size_t chunk_bytes,
                     char* chunk)
    : io_(io),
      file_(file),
      path_(std::move(path)),
      start_lsn_(start_lsn),
      file_size_(file_size),
      chunk_bytes_(chunk_bytes),
      chunk_(chunk) {}

LogReader::~LogReader() {
  // Recovery reads a log once: leave nothing of it in the page cache.
  (void)io_->AdviseCache(file_, 0, 0, io::CacheAdvice::kDrop);
  // A read-only descriptor: closing it cannot lose data.
  (void)io_->Close(file_);
  ::munmap(chunk_, chunk_bytes_);
}

Status LogReader::ReadSegmentHeader() {
  if (file_size_ == 0) return Status::OK();  // created, nothing written yet
  char header[kSegmentHeaderSize];
  const size_t have =
      static_cast<size_t>(std::min<uint64_t>(file_size_, kSegmentHeaderSize));
  RINGDB_RETURN_IF_ERROR(Copy(0, have, header));
  auto stop = [this](LogTail tail) {
    tail_ = tail;
    failed_offset_ = 0;
    return Status::OK();
  };
  if (std::all_of(header, header + have, [](char c) { return c == 0; })) {
    return stop(LogTail::kZeroFill);
  }
  if (have < kSegmentHeaderSize) return stop(LogTail::kTruncated);
  if (DecodeFixed64(header + kSegmentMagicOffset) == kSegmentMagic &&
      SegmentHeaderChecksum(header) ==
          DecodeFixed32(header + kSegmentChecksumOffset) &&
      DecodeFixed32(header + kSegmentVersionOffset) != kFormatVersion) {
    return Status::NotSupported(
        path_ + " is in log format version " +
        std::to_string(DecodeFixed32(header + kSegmentVersionOffset)) +
        "; this ringdb reads version " + std::to_string(kFormatVersion));
  }
  if (DecodeFixed64(header + kSegmentMagicOffset) != kSegmentMagic &&
      Lsn(DecodeFixed64(header + 8)) == start_lsn_ && header[16] != 0) {
    // A version-1 record header (lsn at offset 8) at the expected LSN.
    return Status::NotSupported(
        path_ + " is in log format version 1 (ringdb before the page-cache "
        "log); open and close the database once with that version to empty "
        "its log, then open it with this one");
  }
  if (DecodeFixed64(header + kSegmentMagicOffset) != kSegmentMagic ||
      SegmentHeaderChecksum(header) !=
          DecodeFixed32(header + kSegmentChecksumOffset)) {
    return stop(LogTail::kBadSegmentHeader);
  }
  if (Lsn(DecodeFixed64(header + kSegmentStartLsnOffset)) != start_lsn_) {
    return stop(LogTail::kBadLsn);
  }
  pos_ = kSegmentHeaderSize;
  return Status::OK();
}

Status LogReader::Copy(uint64_t offset, size_t n, char* dst) {
  while (n > 0) {
    if (chunk_len_ == 0 || offset < chunk_offset_ ||
        offset >= chunk_offset_ + chunk_len_) {
      const uint64_t base = AlignDown(offset);
      const uint64_t want = std::min<uint64_t>(chunk_bytes_, file_size_ - base);
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

Status LogReader::CheckHeader(uint64_t offset, char* header, LogTail* tail) {
  const uint64_t left = file_size_ - offset;
  const size_t have = static_cast<size_t>(std::min<uint64_t>(left, kHeaderSize));
  RINGDB_RETURN_IF_ERROR(Copy(offset, have, header));
  if (std::all_of(header, header + have, [](char c) { return c == 0; })) {
    *tail = LogTail::kZeroFill;
  } else if (have < kHeaderSize) {
    *tail = LogTail::kTruncated;
  } else if (Lsn(DecodeFixed64(header + kLsnOffset)) != start_lsn_ + offset) {
    *tail = LogTail::kBadLsn;
  } else if (static_cast<uint8_t>(header[kTypeOffset]) == kInvalidRecordType) {
    *tail = LogTail::kBadType;
  } else if (static_cast<uint8_t>(header[kFragmentOffset]) < kFullFragment ||
             static_cast<uint8_t>(header[kFragmentOffset]) > kLastFragment) {
    *tail = LogTail::kBadFragment;
  } else if (DecodeFixed32(header + kLengthOffset) > kMaxFragmentPayload) {
    *tail = LogTail::kBadLength;
  } else if (left - kHeaderSize < DecodeFixed32(header + kLengthOffset)) {
    *tail = LogTail::kTruncated;
  } else {
    *tail = LogTail::kNotReached;
  }
  return Status::OK();
}

Status LogReader::ReadRecordAt(uint64_t offset, std::string* payload,
                               uint8_t* type, uint64_t* next,
                               Lsn* max_durable, LogTail* tail,
                               uint64_t* failed) {
  payload->clear();
  std::string fragment;
  bool first = true;
  while (true) {
    *failed = offset;
    if (offset == file_size_) {
      *tail = first ? LogTail::kEndOfFile : LogTail::kTruncated;
      return Status::OK();
    }
    char header[kHeaderSize];
    RINGDB_RETURN_IF_ERROR(CheckHeader(offset, header, tail));
    if (*tail != LogTail::kNotReached) return Status::OK();
    const uint8_t kind = static_cast<uint8_t>(header[kFragmentOffset]);
    const uint8_t t = static_cast<uint8_t>(header[kTypeOffset]);
    const bool starts = kind == kFullFragment || kind == kFirstFragment;
    if (starts != first || (!first && t != *type)) {
      *tail = LogTail::kBadFragment;
      return Status::OK();
    }
    const uint32_t length = DecodeFixed32(header + kLengthOffset);
    fragment.resize(length);
    RINGDB_RETURN_IF_ERROR(Copy(offset + kHeaderSize, length, fragment.data()));
    if (DecodeFixed32(header + kChecksumOffset) !=
        RecordChecksum(header, fragment)) {
      *tail = LogTail::kBadChecksum;
      return Status::OK();
    }
    *type = t;
    *max_durable = std::max(*max_durable, Lsn(DecodeFixed64(header + kDurableOffset)));
    payload->append(fragment);
    offset += kHeaderSize + length;
    first = false;
    if (kind == kFullFragment || kind == kLastFragment) {
      *next = offset;
      *tail = LogTail::kNotReached;
      return Status::OK();
    }
  }
}

Status LogReader::Next(std::string* payload, uint8_t* type, Lsn* end_lsn,
                       bool* eof) {
  if (tail_ != LogTail::kNotReached) return Stop(tail_, eof);
  uint8_t t = 0;
  uint64_t next = 0;
  Lsn durable;
  LogTail tail;
  RINGDB_RETURN_IF_ERROR(
      ReadRecordAt(pos_, payload, &t, &next, &durable, &tail, &failed_offset_));
  if (tail != LogTail::kNotReached) {
    payload->clear();
    return Stop(tail, eof);
  }
  pos_ = next;
  *type = t;
  *end_lsn = start_lsn_ + pos_;
  *eof = false;
  return Status::OK();
}

Status LogReader::Diagnose(LogDamage* damage) {
  *damage = LogDamage();
  damage->offset = failed_offset_;
  damage->lsn = start_lsn_ + failed_offset_;
  if (tail_ == LogTail::kNotReached || tail_ == LogTail::kEndOfFile) {
    return Status::OK();
  }
  // 0. Nothing but zeros to the end (a mapped writer's reserve): no record
  //    follows, and the byte-by-byte search below need not run over it.
  char block[kSectorSize];
  damage->zero_to_end = true;
  for (uint64_t p = failed_offset_; damage->zero_to_end && p < file_size_; p += kSectorSize) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kSectorSize, file_size_ - p));
    RINGDB_RETURN_IF_ERROR(Copy(p, n, block));
    damage->zero_to_end = std::all_of(block, block + n, [](char c) { return c == 0; });
  }
  if (damage->zero_to_end) return Status::OK();
  // 1. The first later position holding a valid record: its header's lsn
  //    field names its own position (checked first, it is cheap).
  std::string payload;
  for (uint64_t p = failed_offset_ + 1; p + kHeaderSize <= file_size_; ++p) {
    char lsn[8];
    RINGDB_RETURN_IF_ERROR(Copy(p + kLsnOffset, sizeof(lsn), lsn));
    if (Lsn(DecodeFixed64(lsn)) != start_lsn_ + p) continue;
    uint8_t type = 0;
    uint64_t next = 0;
    Lsn durable;
    LogTail tail;
    uint64_t failed;
    RINGDB_RETURN_IF_ERROR(
        ReadRecordAt(p, &payload, &type, &next, &durable, &tail, &failed));
    if (tail != LogTail::kNotReached) continue;
    damage->followed = true;
    damage->next_offset = p;
    damage->next_lsn = start_lsn_ + p;
    break;
  }
  if (!damage->followed) return Status::OK();
  // 2. The records from there on, to the end or the next damage.
  for (uint64_t p = damage->next_offset;;) {
    uint8_t type = 0;
    uint64_t next = 0;
    LogTail tail;
    uint64_t failed;
    RINGDB_RETURN_IF_ERROR(ReadRecordAt(p, &payload, &type, &next,
                                        &damage->max_durable_after, &tail,
                                        &failed));
    if (tail != LogTail::kNotReached) break;
    damage->records_after++;
    p = next;
  }
  // 3. Lost pages read as zeros: look for a zeroed sector in the gap.
  char sector[kSectorSize];
  const uint64_t from = (failed_offset_ + kSectorSize - 1) / kSectorSize * kSectorSize;
  for (uint64_t s = from; s + kSectorSize <= damage->next_offset;
       s += kSectorSize) {
    RINGDB_RETURN_IF_ERROR(Copy(s, kSectorSize, sector));
    if (std::all_of(sector, sector + kSectorSize, [](char c) { return c == 0; })) {
      damage->zero_sector = true;
      break;
    }
  }
  return Status::OK();
}

void LogReader::SkipTo(const LogDamage& damage) {
  if (!damage.followed || damage.next_offset <= pos_) return;
  pos_ = damage.next_offset;
  tail_ = LogTail::kNotReached;
}

}  // namespace ringdb::wal
