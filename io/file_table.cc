// FileTable: slots, opening with O_DIRECT, request checks.
#include "io/file_table.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ringdb::io {

FileTable::FileTable(bool direct) : direct_(direct), paths_(kMaxFiles) {
  for (auto& fd : fds_) fd.store(-1, std::memory_order_relaxed);
  for (auto& b : buffered_) b.store(false, std::memory_order_relaxed);
}

FileTable::~FileTable() {
  for (auto& fd : fds_) {
    int f = fd.exchange(-1);
    if (f >= 0) ::close(f);  // No one can be told: the owner is gone.
  }
}

Result<int> FileTable::OpenFd(const std::string& path, OpenMode mode,
                              bool buffered) const {
  const bool direct = direct_ && !buffered;
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kReadWrite: flags |= O_RDWR; break;
    case OpenMode::kCreateReadWrite: flags |= O_RDWR | O_CREAT; break;
    case OpenMode::kReadOnly: flags |= O_RDONLY; break;
  }
  if (direct) flags |= O_DIRECT;
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0) return fd;
  int err = errno;
  if (err == EINVAL && direct) {
    return Status::InvalidArgument(
        path + ": the filesystem refuses O_DIRECT; open it with "
               "io_backend = kBuffered (Options::io_backend = "
               "IoBackendKind::kBuffered)");
  }
  return ErrnoStatus(err, "open", path, 0);
}

Result<FileId> FileTable::Insert(int fd, const std::string& path,
                                 bool buffered) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < kMaxFiles; ++i) {
    if (fds_[i].load(std::memory_order_relaxed) < 0) {
      paths_[i] = path;
      buffered_[i].store(buffered, std::memory_order_release);
      fds_[i].store(fd, std::memory_order_release);
      return FileId{i};
    }
  }
  ::close(fd);
  return Status::Busy(path + ": too many open files in one backend (" +
                      std::to_string(kMaxFiles) + ")");
}

Result<int> FileTable::Remove(FileId file) {
  std::lock_guard<std::mutex> lock(mu_);
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: close of unknown file id " +
                                   std::to_string(file.value));
  }
  fds_[file.value].store(-1, std::memory_order_release);
  paths_[file.value].clear();
  return fd;
}

std::string FileTable::Path(FileId file) const {
  if (file.value < 0 || file.value >= kMaxFiles) return "";
  std::lock_guard<std::mutex> lock(mu_);
  return paths_[file.value];
}

Status FileTable::Check(const IoRequest& req) const {
  if (Fd(req.file) < 0) {
    return Status::InvalidArgument("io: request on unknown file id " +
                                   std::to_string(req.file.value));
  }
  if (req.buf == nullptr || req.len == 0) {
    return Status::InvalidArgument(Path(req.file) +
                                   ": empty I/O request at offset " +
                                   std::to_string(req.offset));
  }
  if (Direct(req.file) && (!IsAligned(req.buf, kDirectIoAlignment) ||
                  !IsAligned(req.offset, kDirectIoAlignment) ||
                  !IsAligned(uint64_t{req.len}, kDirectIoAlignment))) {
    char detail[160];
    std::snprintf(detail, sizeof(detail),
                  " (buffer %p, length %u; O_DIRECT needs all three to be "
                  "multiples of %zu)",
                  static_cast<void*>(req.buf), req.len, kDirectIoAlignment);
    return Status::InvalidArgument(Path(req.file) +
                                   ": misaligned direct I/O at offset " +
                                   std::to_string(req.offset) + detail);
  }
  return Status::OK();
}

Status FileTable::TransferPlain(const IoRequest& req, uint64_t* retries) const {
  const bool is_read = req.op == IoRequest::Op::kRead;
  const int fd = Fd(req.file);
  uint32_t done = 0;
  while (done < req.len) {
    const uint64_t off = req.offset + done;
    ssize_t n = is_read ? ::pread(fd, req.buf + done, req.len - done, static_cast<off_t>(off))
                        : ::pwrite(fd, req.buf + done, req.len - done, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        ++*retries;
        continue;
      }
      return ErrnoStatus(errno, is_read ? "read" : "write", Path(req.file), off);
    }
    if (n == 0) {
      if (is_read) {
        return Status::Corruption(Path(req.file) + ": unexpected end of file at offset " +
                                  std::to_string(off));
      }
      return Status::IOError(Path(req.file) + ": write made no progress at offset " +
                             std::to_string(off));
    }
    done += static_cast<uint32_t>(n);
    if (done < req.len) ++*retries;
  }
  return Status::OK();
}

Status FileTable::Advise(FileId file, uint64_t offset, uint64_t len,
                         CacheAdvice advice) const {
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: cache advice on unknown file id " +
                                   std::to_string(file.value));
  }
  const unsigned flags =
      advice == CacheAdvice::kStartWriteBack
          ? SYNC_FILE_RANGE_WRITE
          : SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                SYNC_FILE_RANGE_WAIT_AFTER;
  int rc;
  do {
    rc = ::sync_file_range(fd, static_cast<off64_t>(offset),
                           static_cast<off64_t>(len), flags);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return ErrnoStatus(errno, "sync_file_range", Path(file), offset);
  if (advice == CacheAdvice::kDrop) {
    rc = ::posix_fadvise(fd, static_cast<off_t>(offset),
                         static_cast<off_t>(len), POSIX_FADV_DONTNEED);
    if (rc != 0) return ErrnoStatus(rc, "posix_fadvise", Path(file), offset);
  }
  return Status::OK();
}

Result<struct stat> FileTable::Stat(FileId file) const {
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: size of unknown file id " +
                                   std::to_string(file.value));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat", Path(file), 0);
  return st;
}

Result<uint64_t> FileTable::FileSize(FileId file) const {
  Result<struct stat> st = Stat(file);
  if (!st.ok()) return st.status();
  return static_cast<uint64_t>(st->st_size);
}

Status FileTable::Truncate(FileId file, uint64_t size) const {
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: truncate of unknown file id " +
                                   std::to_string(file.value));
  }
  int rc;
  do {
    rc = ::ftruncate(fd, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return ErrnoStatus(errno, "ftruncate", Path(file), size);
  return Status::OK();
}

Status FileTable::PunchHole(FileId file, uint64_t offset, uint64_t len) const {
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: punch hole in unknown file id " +
                                   std::to_string(file.value));
  }
  int rc;
  do {
    rc = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                     static_cast<off_t>(len));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      return Status::NotSupported(Path(file) + ": the file system cannot punch holes");
    }
    return ErrnoStatus(errno, "fallocate(PUNCH_HOLE)", Path(file), offset);
  }
  return Status::OK();
}

Status FileTable::Allocate(FileId file, uint64_t offset, uint64_t len) const {
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: allocate in unknown file id " +
                                   std::to_string(file.value));
  }
  int rc;
  do {
    rc = ::fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(len));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      return Status::NotSupported(Path(file) + ": the file system cannot reserve blocks");
    }
    return ErrnoStatus(errno, "fallocate", Path(file), offset);
  }
  return Status::OK();
}

Result<char*> FileTable::MapShared(FileId file, uint64_t offset, size_t len) const {
  int fd = Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: map of unknown file id " + std::to_string(file.value));
  }
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    if (errno == ENODEV) {
      return Status::NotSupported(Path(file) + ": the file system cannot map files");
    }
    return ErrnoStatus(errno, "mmap", Path(file), offset);
  }
  return static_cast<char*>(p);
}

Result<uint64_t> FileTable::AllocatedBytes(FileId file) const {
  Result<struct stat> st = Stat(file);
  if (!st.ok()) return st.status();
  return static_cast<uint64_t>(st->st_blocks) * 512;
}

}  // namespace ringdb::io
