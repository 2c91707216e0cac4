// The io_uring backend (uring_backend.h): O_DIRECT files, registered
// (fixed) buffers and files, batched submits, fdatasync through the ring.
// Its IoQueue is uring_queue.cc. Threads and lock order: see the header.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "io/uring_backend.h"
#include "util/check.h"

namespace ringdb::io {
namespace {

constexpr size_t kMaxIovecLen = size_t{1} << 30;
constexpr unsigned kMaxQueueDepth = 4096;

std::string MemlockLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) != 0) return "unknown";
  if (rl.rlim_cur == RLIM_INFINITY) return "unlimited";
  return std::to_string(rl.rlim_cur) + " bytes";
}

Status RegistrationStatus(int err) {
  if (err == ENOMEM || err == EPERM) {
    return Status::NotSupported("io_uring buffer registration refused "
                                "(RLIMIT_MEMLOCK=" + MemlockLimit() +
                                "): using unregistered buffers");
  }
  return Status::NotSupported(std::string("io_uring buffer registration "
                                          "failed (") +
                              std::strerror(err) +
                              "): using unregistered buffers");
}

}  // namespace

Result<UringRing*> UringBackend::CreateRing() {
  auto ring = std::make_unique<UringRing>();
  int rc = io_uring_queue_init(queue_depth_, &ring->ring, 0);
  if (rc < 0) {
    return Status::NotSupported(std::string("io_uring_queue_init: ") +
                                std::strerror(-rc));
  }
  ring->initialized = true;
  std::lock_guard<std::mutex> lock(reg_mu_);
  if (io_uring_register_buffers_sparse(&ring->ring, kBufferSlots) == 0) {
    ring->sparse_buffers = true;
    uint32_t n = nbufs_.load(std::memory_order_acquire);
    if (n > 0 && io_uring_register_buffers_update_tag(
                     &ring->ring, 0, iovecs_.data(), nullptr, n) ==
                     static_cast<int>(n)) {
      ring->registered_bufs.store(n, std::memory_order_release);
    }
  }
  if (io_uring_register_files_sparse(&ring->ring, kFixedFileSlots) == 0) {
    std::array<int, kFixedFileSlots> fds;
    for (unsigned i = 0; i < kFixedFileSlots; ++i) {
      fds[i] = files_.Fd(FileId{static_cast<int32_t>(i)});
    }
    rc = io_uring_register_files_update(&ring->ring, 0, fds.data(),
                                        kFixedFileSlots);
    ring->fixed_files.store(rc >= 0, std::memory_order_release);
  }
  UringRing* raw = ring.get();
  rings_.push_back(std::move(ring));
  healthy_rings_.fetch_add(1);
  return raw;
}

Result<UringRing*> UringBackend::Acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!free_rings_.empty()) {
      UringRing* ring = free_rings_.back();
      free_rings_.pop_back();
      return ring;
    }
  }
  Result<UringRing*> ring = CreateRing();
  if (ring.ok()) return ring;
  // Out of resources for one more ring: wait for one of the others.
  std::unique_lock<std::mutex> lock(pool_mu_);
  pool_cv_.wait(lock, [this] {
    return !free_rings_.empty() || healthy_rings_.load() == 0;
  });
  if (free_rings_.empty()) return ring.status();
  UringRing* r = free_rings_.back();
  free_rings_.pop_back();
  return r;
}

void UringBackend::Release(UringRing* ring) {
  if (ring->broken) {
    // Kept in rings_ (it may still own kernel state) but never reused.
    healthy_rings_.fetch_sub(1);
    pool_cv_.notify_all();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    free_rings_.push_back(ring);
  }
  pool_cv_.notify_one();
}

Status UringBackend::RegisterBuffer(void* base, size_t len) {
  if (base == nullptr || len == 0 || !IsAligned(base, kDirectIoAlignment) ||
      !IsAligned(uint64_t{len}, kDirectIoAlignment)) {
    return Status::InvalidArgument(
        "io: RegisterBuffer needs a non-empty 4096-aligned region");
  }
  std::lock_guard<std::mutex> lock(reg_mu_);
  const uint32_t first = nbufs_.load(std::memory_order_relaxed);
  const size_t count = (len + kMaxIovecLen - 1) / kMaxIovecLen;
  if (first + count > kBufferSlots) {
    return Status::NotSupported(
        "io_uring buffer registration failed (more than " +
        std::to_string(kBufferSlots) +
        " registered iovecs): using unregistered buffers");
  }
  char* p = static_cast<char*>(base);
  for (size_t i = 0; i < count; ++i) {
    size_t n = std::min(kMaxIovecLen, len - i * kMaxIovecLen);
    iovecs_[first + i] = iovec{p + i * kMaxIovecLen, n};
    uintptr_t b = reinterpret_cast<uintptr_t>(p + i * kMaxIovecLen);
    slot_begin_[first + i].store(b, std::memory_order_relaxed);
    slot_end_[first + i].store(b + n, std::memory_order_relaxed);
  }
  int first_error = 0;
  for (auto& ring : rings_) {
    if (!ring->sparse_buffers ||
        ring->registered_bufs.load(std::memory_order_relaxed) != first) {
      continue;  // this ring already missed an earlier region
    }
    int rc = io_uring_register_buffers_update_tag(
        &ring->ring, first, &iovecs_[first], nullptr,
        static_cast<unsigned>(count));
    if (rc == static_cast<int>(count)) {
      ring->registered_bufs.store(first + count, std::memory_order_release);
    } else if (first_error == 0) {
      first_error = rc < 0 ? -rc : EIO;
    }
  }
  nbufs_.store(first + count, std::memory_order_release);
  if (first_error != 0) return RegistrationStatus(first_error);
  for (auto& ring : rings_) {
    if (!ring->sparse_buffers) {
      return Status::NotSupported(
          "io_uring buffer registration unavailable (sparse buffer tables "
          "need Linux 5.19): using unregistered buffers");
    }
  }
  return Status::OK();
}

void UringBackend::UnregisterBuffer(void* base) {
  std::lock_guard<std::mutex> lock(reg_mu_);
  const uint32_t n = nbufs_.load(std::memory_order_relaxed);
  uint32_t first = n;
  for (uint32_t i = 0; i < n; ++i) {
    if (iovecs_[i].iov_base == base && iovecs_[i].iov_len != 0) {
      first = i;
      break;
    }
  }
  if (first == n) return;
  // The region's iovecs are consecutive slots covering consecutive memory.
  uint32_t end = first;
  char* expect = static_cast<char*>(base);
  while (end < n && iovecs_[end].iov_base == expect && iovecs_[end].iov_len != 0) {
    expect += iovecs_[end].iov_len;
    bool last = iovecs_[end].iov_len < kMaxIovecLen;
    iovecs_[end] = iovec{nullptr, 0};
    slot_begin_[end].store(0, std::memory_order_relaxed);
    slot_end_[end].store(0, std::memory_order_relaxed);
    ++end;
    if (last) break;
  }
  std::vector<iovec> empty(end - first, iovec{nullptr, 0});
  for (auto& ring : rings_) {
    if (!ring->sparse_buffers ||
        ring->registered_bufs.load(std::memory_order_relaxed) < end) {
      continue;
    }
    // An empty iovec releases the slot and unpins its pages.
    (void)io_uring_register_buffers_update_tag(&ring->ring, first, empty.data(), nullptr,
                                               end - first);
  }
}

Result<FileId> UringBackend::OpenFile(const std::string& path, OpenMode mode,
                                      bool buffered) {
  Result<int> fd = files_.OpenFd(path, mode, buffered);
  if (!fd.ok()) return fd.status();
  std::lock_guard<std::mutex> lock(reg_mu_);
  Result<FileId> id = files_.Insert(*fd, path, buffered);
  if (!id.ok()) return id;
  if (static_cast<unsigned>(id->value) < kFixedFileSlots) {
    int f = *fd;
    for (auto& ring : rings_) {
      if (ring->fixed_files.load(std::memory_order_relaxed) &&
          io_uring_register_files_update(&ring->ring, id->value, &f, 1) != 1) {
        ring->fixed_files.store(false, std::memory_order_release);
      }
    }
  }
  return id;
}

Status UringBackend::Close(FileId file) {
  std::string path = files_.Path(file);
  int fd;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    Result<int> removed = files_.Remove(file);
    if (!removed.ok()) return removed.status();
    fd = *removed;
    if (static_cast<unsigned>(file.value) < kFixedFileSlots) {
      int none = -1;
      for (auto& ring : rings_) {
        if (ring->fixed_files.load(std::memory_order_relaxed) &&
            io_uring_register_files_update(&ring->ring, file.value, &none,
                                           1) != 1) {
          ring->fixed_files.store(false, std::memory_order_release);
        }
      }
    }
  }
  if (::close(fd) != 0 && errno != EINTR) {
    return ErrnoStatus(errno, "close", path, 0);
  }
  return Status::OK();
}

int UringBackend::FindBuffer(const UringRing& ring, const char* p,
                             size_t len) const {
  const uint32_t n = ring.registered_bufs.load(std::memory_order_acquire);
  const uintptr_t b = reinterpret_cast<uintptr_t>(p);
  for (uint32_t i = 0; i < n; ++i) {
    if (b >= slot_begin_[i].load(std::memory_order_relaxed) &&
        b + len <= slot_end_[i].load(std::memory_order_relaxed)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void UringBackend::Prepare(UringRing& ring, const IoRequest& req, uint32_t index,
                           io_uring_sqe* sqe) {
  const uint32_t done = ring.progress[index];
  const bool fixed_file =
      ring.fixed_files.load(std::memory_order_acquire) &&
      static_cast<unsigned>(req.file.value) < kFixedFileSlots;
  const int target = fixed_file ? req.file.value : files_.Fd(req.file);
  char* p = req.buf + done;
  const unsigned n = req.len - done;
  const uint64_t off = req.offset + done;
  const int buf_index = FindBuffer(ring, p, n);
  if (req.op == IoRequest::Op::kRead) {
    if (buf_index >= 0) {
      io_uring_prep_read_fixed(sqe, target, p, n, off, buf_index);
    } else {
      io_uring_prep_read(sqe, target, p, n, off);
    }
  } else {
    if (buf_index >= 0) {
      io_uring_prep_write_fixed(sqe, target, p, n, off, buf_index);
    } else {
      io_uring_prep_write(sqe, target, p, n, off);
    }
  }
  if (fixed_file) io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
  io_uring_sqe_set_data64(sqe, index);
  if (buf_index >= 0 && done == 0) {
    counters_.fixed_ops.fetch_add(1, std::memory_order_relaxed);
  }
}

void UringBackend::Complete(UringRing& ring, std::span<IoRequest> requests,
                            uint32_t index, int res) {
  IoRequest& req = requests[index];
  const bool is_read = req.op == IoRequest::Op::kRead;
  uint32_t& done = ring.progress[index];
  const uint64_t off = req.offset + done;
  if (res == -EAGAIN || res == -EINTR) {
    counters_.retries.fetch_add(1, std::memory_order_relaxed);
    ring.queue.push_back(index);
    return;
  }
  if (res < 0) {
    req.status = ErrnoStatus(-res, is_read ? "read" : "write",
                             files_.Path(req.file), off);
    return;
  }
  if (res == 0) {
    req.status = is_read ? Status::Corruption(
                               files_.Path(req.file) +
                               ": unexpected end of file at offset " +
                               std::to_string(off))
                         : Status::IOError(files_.Path(req.file) +
                                           ": write made no progress at "
                                           "offset " + std::to_string(off));
    return;
  }
  done += static_cast<uint32_t>(res);
  if (done < req.len) {
    counters_.retries.fetch_add(1, std::memory_order_relaxed);
    // O_DIRECT cannot resume at a misaligned offset; a read only stops
    // there at the end of the file.
    if (files_.Direct(req.file) &&
        !IsAligned(uint64_t{done}, kDirectIoAlignment)) {
      const std::string where = std::to_string(req.offset + done);
      req.status = is_read
                       ? Status::Corruption(files_.Path(req.file) +
                                            ": unexpected end of file at "
                                            "offset " + where)
                       : Status::IOError(files_.Path(req.file) +
                                         ": short direct write stopped at "
                                         "offset " + where);
      return;
    }
    ring.queue.push_back(index);
    return;
  }
  counters_.CountTransfer(is_read, req.len);
}

Status UringBackend::Submit(std::span<IoRequest> requests) {
  RINGDB_CHECK(requests.size() < (uint64_t{1} << 32));
  bool any_valid = false;
  // Requests on files opened through the page cache (the log) are plain
  // copies, done here; the ring takes the others (is_plain tells them apart).
  auto is_plain = [this](const IoRequest& req) { return !files_.Direct(req.file); };
  for (IoRequest& req : requests) {
    req.status = files_.Check(req);
    if (req.status.ok() && is_plain(req)) {
      uint64_t retries = 0;
      counters_.submits.fetch_add(1, std::memory_order_relaxed);
      req.status = files_.TransferPlain(req, &retries);
      counters_.retries.fetch_add(retries, std::memory_order_relaxed);
      if (req.status.ok()) counters_.CountTransfer(req.op == IoRequest::Op::kRead, req.len);
      continue;
    }
    any_valid |= req.status.ok();
  }
  if (any_valid) {
    Result<UringRing*> acquired = Acquire();
    if (!acquired.ok()) {
      for (IoRequest& req : requests) {
        if (req.status.ok()) req.status = acquired.status();
      }
    } else {
      UringRing& ring = **acquired;
      ring.progress.assign(requests.size(), 0);
      ring.queue.clear();
      for (uint32_t i = 0; i < requests.size(); ++i) {
        if (requests[i].status.ok() && !is_plain(requests[i])) ring.queue.push_back(i);
      }
      size_t next = 0;
      unsigned inflight = 0;
      while (next < ring.queue.size() || inflight > 0) {
        while (inflight < queue_depth_ && next < ring.queue.size()) {
          io_uring_sqe* sqe = io_uring_get_sqe(&ring.ring);
          if (sqe == nullptr) break;
          Prepare(ring, requests[ring.queue[next]], ring.queue[next], sqe);
          ++next;
          ++inflight;
        }
        counters_.submits.fetch_add(1, std::memory_order_relaxed);
        int rc = io_uring_submit_and_wait(&ring.ring, inflight);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
          // The kernel state of this ring is unknown: retire it and fail
          // what did not complete.
          ring.broken = true;
          Status s = Status::IOError(std::string("io_uring_submit_and_wait: ") +
                                     std::strerror(-rc));
          for (IoRequest& req : requests) {
            const size_t k = &req - requests.data();
            if (req.status.ok() && !is_plain(req) && ring.progress[k] < req.len) {
              req.status = s;
            }
          }
          break;
        }
        unsigned head;
        unsigned seen = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring.ring, head, cqe) {
          Complete(ring, requests, static_cast<uint32_t>(cqe->user_data),
                   cqe->res);
          ++seen;
        }
        io_uring_cq_advance(&ring.ring, seen);
        inflight -= seen;
      }
      Release(&ring);
    }
  }
  for (IoRequest& req : requests) {
    if (!req.status.ok()) return req.status;
  }
  return Status::OK();
}


Status UringBackend::Sync(FileId file) {
  const int fd = files_.Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: sync of unknown file id " +
                                   std::to_string(file.value));
  }
  Result<UringRing*> acquired = Acquire();
  if (!acquired.ok()) return acquired.status();
  UringRing& ring = **acquired;
  const bool fixed_file = ring.fixed_files.load(std::memory_order_acquire) &&
                          static_cast<unsigned>(file.value) < kFixedFileSlots;
  int res = -EAGAIN;
  Status result;
  while (res == -EAGAIN || res == -EINTR) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring.ring);
    RINGDB_CHECK(sqe != nullptr);  // the ring is idle between calls
    io_uring_prep_fsync(sqe, fixed_file ? file.value : fd,
                        IORING_FSYNC_DATASYNC);
    if (fixed_file) io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
    io_uring_sqe_set_data64(sqe, 0);
    int rc;
    do {
      counters_.submits.fetch_add(1, std::memory_order_relaxed);
      rc = io_uring_submit_and_wait(&ring.ring, 1);
    } while (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY);
    if (rc < 0) {
      ring.broken = true;
      result = Status::IOError(std::string("io_uring_submit_and_wait: ") +
                               std::strerror(-rc));
      break;
    }
    io_uring_cqe* cqe = nullptr;
    do {
      rc = io_uring_wait_cqe(&ring.ring, &cqe);
    } while (rc == -EINTR);
    if (rc < 0) {
      ring.broken = true;
      result = Status::IOError(std::string("io_uring_wait_cqe: ") +
                               std::strerror(-rc));
      break;
    }
    res = cqe->res;
    io_uring_cqe_seen(&ring.ring, cqe);
    if (res == -EAGAIN || res == -EINTR) {
      counters_.retries.fetch_add(1, std::memory_order_relaxed);
    } else if (res < 0) {
      result = ErrnoStatus(-res, "fdatasync", files_.Path(file), 0);
    } else {
      counters_.syncs.fetch_add(1, std::memory_order_relaxed);
    }
  }
  Release(&ring);
  return result;
}

Result<std::unique_ptr<IoBackend>> NewUringBackend(unsigned queue_depth) {
  if (queue_depth == 0 || queue_depth > kMaxQueueDepth) {
    return Status::InvalidArgument("io: io_uring queue depth " +
                                   std::to_string(queue_depth) +
                                   " is outside [1, " +
                                   std::to_string(kMaxQueueDepth) + "]");
  }
  auto backend = std::make_unique<UringBackend>(queue_depth);
  RINGDB_RETURN_IF_ERROR(backend->Init());
  return std::unique_ptr<IoBackend>(std::move(backend));
}

}  // namespace ringdb::io