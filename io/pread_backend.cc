// The pread/pwrite backends: O_DIRECT ("pread", the fallback where
// io_uring is missing) and through the page cache ("buffered", for
// comparisons only). One blocking syscall per transfer; short transfers are
// finished and EINTR/EAGAIN retried. Thread-safe: the file table is
// thread-safe and the statistics are atomics.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "io/file_table.h"
#include "io/io_backend.h"

namespace ringdb::io {
namespace {

class PosixBackend final : public FileTableBackend {
 public:
  explicit PosixBackend(bool direct) : FileTableBackend(direct) {}

  std::string Name() const override {
    return files_.direct() ? "pread" : "buffered";
  }
  bool direct() const override { return files_.direct(); }

  // Nothing to register: pread/pwrite cannot use fixed buffers.
  Status RegisterBuffer(void* base, size_t len) override {
    if (!IsAligned(base, kDirectIoAlignment) ||
        !IsAligned(uint64_t{len}, kDirectIoAlignment) || len == 0) {
      return Status::InvalidArgument(
          "io: RegisterBuffer needs a non-empty 4096-aligned region");
    }
    return Status::OK();
  }

  Result<FileId> Open(const std::string& path, OpenMode mode) override {
    Result<int> fd = files_.OpenFd(path, mode);
    if (!fd.ok()) return fd.status();
    return files_.Insert(*fd, path);
  }

  Result<FileId> OpenBuffered(const std::string& path, OpenMode mode) override {
    Result<int> fd = files_.OpenFd(path, mode, /*buffered=*/true);
    if (!fd.ok()) return fd.status();
    return files_.Insert(*fd, path, /*buffered=*/true);
  }


  Status Close(FileId file) override {
    std::string path = files_.Path(file);
    Result<int> fd = files_.Remove(file);
    if (!fd.ok()) return fd.status();
    if (::close(*fd) != 0 && errno != EINTR) {
      return ErrnoStatus(errno, "close", path, 0);
    }
    return Status::OK();
  }

  Status Submit(std::span<IoRequest> requests) override {
    Status first;
    for (IoRequest& req : requests) {
      req.status = files_.Check(req);
      if (req.status.ok()) req.status = Transfer(req);
      if (!req.status.ok() && first.ok()) first = req.status;
    }
    return first;
  }

  Status Sync(FileId file) override {
    int fd = files_.Fd(file);
    if (fd < 0) {
      return Status::InvalidArgument("io: sync of unknown file id " +
                                     std::to_string(file.value));
    }
    int rc;
    do {
      rc = ::fdatasync(fd);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus(errno, "fdatasync", files_.Path(file), 0);
    counters_.syncs.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
  }

 private:
  // Require: files_.Check(req) is OK.
  Status Transfer(const IoRequest& req) {
    const bool is_read = req.op == IoRequest::Op::kRead;
    const int fd = files_.Fd(req.file);
    uint32_t done = 0;
    while (done < req.len) {
      const uint64_t off = req.offset + done;
      counters_.submits.fetch_add(1, std::memory_order_relaxed);
      ssize_t n = is_read ? ::pread(fd, req.buf + done, req.len - done,
                                    static_cast<off_t>(off))
                          : ::pwrite(fd, req.buf + done, req.len - done,
                                     static_cast<off_t>(off));
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
          counters_.retries.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        return ErrnoStatus(errno, is_read ? "read" : "write",
                           files_.Path(req.file), off);
      }
      if (n == 0) {
        if (is_read) {
          return Status::Corruption(files_.Path(req.file) +
                                    ": unexpected end of file at offset " +
                                    std::to_string(off));
        }
        return Status::IOError(files_.Path(req.file) +
                               ": write made no progress at offset " +
                               std::to_string(off));
      }
      done += static_cast<uint32_t>(n);
      if (done < req.len) {
        counters_.retries.fetch_add(1, std::memory_order_relaxed);
        // With O_DIRECT a transfer cannot resume at a misaligned offset; a
        // read only stops there at the end of the file.
        if (files_.Direct(req.file) && !IsAligned(uint64_t{done}, kDirectIoAlignment)) {
          if (is_read) {
            return Status::Corruption(files_.Path(req.file) +
                                      ": unexpected end of file at offset " +
                                      std::to_string(req.offset + done));
          }
          return Status::IOError(files_.Path(req.file) +
                                 ": short direct write stopped at offset " +
                                 std::to_string(req.offset + done));
        }
      }
    }
    counters_.CountTransfer(is_read, req.len);
    return Status::OK();
  }

};

}  // namespace

std::unique_ptr<IoBackend> NewPreadBackend() {
  return std::make_unique<PosixBackend>(/*direct=*/true);
}

std::unique_ptr<IoBackend> NewBufferedBackend() {
  return std::make_unique<PosixBackend>(/*direct=*/false);
}

}  // namespace ringdb::io
