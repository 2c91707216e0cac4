// FileTable: the files one backend has open, FileId slot -> fd and path,
// plus the checks and metadata calls every file-based backend shares
// (opening with or without O_DIRECT, request validation, size, truncate).
//
// FileTableBackend: the IoBackend base of the pread and io_uring backends,
// holding their FileTable, the per-file calls that need only a descriptor,
// and their statistics counters (IoCounters).
//
// Thread-safety: all methods may be called concurrently. Fd() is lock-free
// (one atomic load) so the I/O path takes no lock; Insert/Remove/Path take
// an internal mutex. The caller must not Remove a file that has requests in
// flight (the fd would be closed under them).
#pragma once

#include <sys/stat.h>

#include <array>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "io/io_backend.h"

namespace ringdb::io {

class FileTable {
 public:
  // FileIds are slots in [0, kMaxFiles).
  static constexpr int kMaxFiles = 1024;

  explicit FileTable(bool direct);
  FileTable(const FileTable&) = delete;
  FileTable& operator=(const FileTable&) = delete;
  // Closes every file still open.
  ~FileTable();

  bool direct() const { return direct_; }

  // Opens `path` (O_DIRECT when direct() and not `buffered`) and returns
  // the new fd, which the caller owns until it hands it to Insert. A
  // filesystem refusing O_DIRECT gives InvalidArgument naming the path and
  // Options::io_backend.
  Result<int> OpenFd(const std::string& path, OpenMode mode,
                     bool buffered = false) const;

  // Takes ownership of `fd` and returns the lowest free slot for it.
  // `buffered`: the fd was opened without O_DIRECT (no alignment checks).
  // Busy when all kMaxFiles slots are taken (fd is then closed).
  Result<FileId> Insert(int fd, const std::string& path,
                        bool buffered = false);

  // True when `file` was opened with O_DIRECT. Lock-free.
  bool Direct(FileId file) const {
    if (file.value < 0 || file.value >= kMaxFiles) return direct_;
    return direct_ && !buffered_[file.value].load(std::memory_order_acquire);
  }

  // Runs `req` with plain pread/pwrite, finishing short transfers and
  // retrying EINTR/EAGAIN; *retries counts them. For files opened without
  // O_DIRECT, where a copy to or from the page cache waits for no device
  // and a ring would only add a submit and a wait. Require: Check(req) OK.
  Status TransferPlain(const IoRequest& req, uint64_t* retries) const;

  // sync_file_range / posix_fadvise for IoBackend::AdviseCache.
  Status Advise(FileId file, uint64_t offset, uint64_t len,
                CacheAdvice advice) const;

  // Frees the slot and returns its fd, which the caller must close.
  // InvalidArgument for an id that is not open.
  Result<int> Remove(FileId file);

  // The fd of an open file, or -1. Lock-free.
  int Fd(FileId file) const {
    if (file.value < 0 || file.value >= kMaxFiles) return -1;
    return fds_[file.value].load(std::memory_order_acquire);
  }

  // The path `file` was opened with, or "" when it is not open.
  std::string Path(FileId file) const;

  // OK when `req` names an open file, has a buffer and a non-zero length,
  // and (Direct(file)) buffer, offset and length are multiples of
  // kDirectIoAlignment; otherwise InvalidArgument naming path and offset.
  Status Check(const IoRequest& req) const;

  Result<uint64_t> FileSize(FileId file) const;
  Status Truncate(FileId file, uint64_t size) const;
  Status PunchHole(FileId file, uint64_t offset, uint64_t len) const;
  Status Allocate(FileId file, uint64_t offset, uint64_t len) const;
  Result<uint64_t> AllocatedBytes(FileId file) const;
  Result<char*> MapShared(FileId file, uint64_t offset, size_t len) const;
  // fstat of an open file.
  Result<struct stat> Stat(FileId file) const;

 private:
  const bool direct_;
  std::array<std::atomic<int>, kMaxFiles> fds_;
  std::array<std::atomic<bool>, kMaxFiles> buffered_;
  mutable std::mutex mu_;
  std::vector<std::string> paths_;  // GUARDED_BY(mu_), indexed by slot
};

// The counters behind IoBackend::stats(), bumped with relaxed atomics.
struct IoCounters {
  std::atomic<uint64_t> reads{0}, writes{0}, bytes_read{0}, bytes_written{0}, syncs{0},
      submits{0}, fixed_ops{0}, retries{0};
  // One completed read or write of `len` bytes.
  void CountTransfer(bool is_read, uint64_t len) {
    (is_read ? reads : writes).fetch_add(1, std::memory_order_relaxed);
    (is_read ? bytes_read : bytes_written).fetch_add(len, std::memory_order_relaxed);
  }
  IoStats Snapshot() const {
    IoStats s;
    s.reads = reads.load(std::memory_order_relaxed);
    s.writes = writes.load(std::memory_order_relaxed);
    s.bytes_read = bytes_read.load(std::memory_order_relaxed);
    s.bytes_written = bytes_written.load(std::memory_order_relaxed);
    s.syncs = syncs.load(std::memory_order_relaxed);
    s.submits = submits.load(std::memory_order_relaxed);
    s.fixed_ops = fixed_ops.load(std::memory_order_relaxed);
    s.retries = retries.load(std::memory_order_relaxed);
    return s;
  }
};

class FileTableBackend : public IoBackend {
 public:
  explicit FileTableBackend(bool direct) : files_(direct) {}

  Status AdviseCache(FileId file, uint64_t offset, uint64_t len, CacheAdvice advice) override {
    return files_.Advise(file, offset, len, advice);
  }
  Result<uint64_t> FileSize(FileId file) override { return files_.FileSize(file); }
  Status Truncate(FileId file, uint64_t size) override { return files_.Truncate(file, size); }
  Status PunchHole(FileId file, uint64_t offset, uint64_t len) override {
    return files_.PunchHole(file, offset, len);
  }
  Status Allocate(FileId file, uint64_t offset, uint64_t len) override {
    return files_.Allocate(file, offset, len);
  }
  Result<uint64_t> AllocatedBytes(FileId file) override { return files_.AllocatedBytes(file); }
  Result<char*> MapShared(FileId file, uint64_t offset, size_t len) override {
    return files_.MapShared(file, offset, len);
  }
  std::string PathOf(FileId file) const override { return files_.Path(file); }
  IoStats stats() const override { return counters_.Snapshot(); }

 protected:
  FileTable files_;
  IoCounters counters_;
};

}  // namespace ringdb::io
