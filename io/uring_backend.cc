// The io_uring backend: O_DIRECT files, registered (fixed) buffers and
// files, batched submits, fdatasync through the ring.
//
// Threads: a ring is not thread-safe, so the backend keeps a pool of rings.
// A Submit/Sync takes a free ring (creating one when none is free), uses it
// alone, and returns it when all of its requests completed. Every ring
// registers the same sparse tables: kBufferSlots buffer slots holding every
// region given to RegisterBuffer (split into iovecs of at most 1 GiB) and
// kFixedFileSlots file slots, where FileId n < kFixedFileSlots is slot n.
// Registration changes (RegisterBuffer, Open, Close) are applied to every
// ring, idle or busy, under reg_mu_: the kernel serializes io_uring_register
// against submissions, and a ring's holder only uses a buffer slot after
// that ring's registered_bufs says it is there.
//
// Lock order: reg_mu_ and pool_mu_ are never held together.
#include <liburing.h>
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

#include "util/check.h"
#include "io/file_table.h"
#include "io/io_backend.h"

namespace ringdb::io {
namespace {

constexpr unsigned kFixedFileSlots = 256;
constexpr unsigned kBufferSlots = 1024;
constexpr size_t kMaxIovecLen = size_t{1} << 30;
constexpr unsigned kMaxQueueDepth = 4096;

struct Ring {
  io_uring ring;
  // Set once at creation when the sparse file table was registered;
  // cleared (under reg_mu_) if an update of it ever fails.
  std::atomic<bool> fixed_files{false};
  bool sparse_buffers = false;  // the sparse buffer table exists
  // Buffer slots [0, registered_bufs) hold the backend's iovecs.
  std::atomic<uint32_t> registered_bufs{0};
  // A ring whose submit failed in a way that leaves its state unknown is
  // never handed out again.
  bool broken = false;
  // Scratch for the one Submit that holds the ring.
  std::vector<uint32_t> queue;     // request indexes to (re)issue
  std::vector<uint32_t> progress;  // bytes done per request

  bool initialized = false;  // io_uring_queue_init succeeded

  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    if (initialized) io_uring_queue_exit(&ring);
  }
};

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

class UringBackend final : public FileTableBackend {
 public:
  explicit UringBackend(unsigned queue_depth)
      : FileTableBackend(/*direct=*/true), queue_depth_(queue_depth) {}

  ~UringBackend() override {
    // Require (contract of IoBackend): no call in progress.
    std::lock_guard<std::mutex> lock(reg_mu_);
    rings_.clear();
  }

  // Creates the first ring so that a kernel without io_uring is detected
  // at construction.
  Status Init() {
    Result<Ring*> ring = CreateRing();
    if (!ring.ok()) return ring.status();
    Release(*ring);
    return Status::OK();
  }

  std::string Name() const override { return "io_uring"; }
  bool direct() const override { return true; }

  Status RegisterBuffer(void* base, size_t len) override;
  void UnregisterBuffer(void* base) override;
  Result<FileId> Open(const std::string& path, OpenMode mode) override {
    return OpenFile(path, mode, /*buffered=*/false);
  }
  Result<FileId> OpenBuffered(const std::string& path, OpenMode mode) override {
    return OpenFile(path, mode, /*buffered=*/true);
  }
  Status Close(FileId file) override;
  Status Submit(std::span<IoRequest> requests) override;
  Status Sync(FileId file) override;
  std::unique_ptr<IoQueue> NewQueue(size_t capacity) override;

 private:
  friend class UringQueue;
  Result<FileId> OpenFile(const std::string& path, OpenMode mode,
                          bool buffered);
  // Returns a ring for the calling thread's exclusive use.
  Result<Ring*> Acquire();
  void Release(Ring* ring);
  // Creates a ring with every current registration and adds it to rings_.
  Result<Ring*> CreateRing();

  // The buffer slot holding [p, p + len) on `ring`, or -1.
  int FindBuffer(const Ring& ring, const char* p, size_t len) const;
  void Prepare(Ring& ring, const IoRequest& req, uint32_t index,
               io_uring_sqe* sqe);
  // Handles one completion of request `index`; may queue it again.
  void Complete(Ring& ring, std::span<IoRequest> requests, uint32_t index,
                int res);

  const unsigned queue_depth_;

  std::mutex reg_mu_;
  std::vector<std::unique_ptr<Ring>> rings_;  // GUARDED_BY(reg_mu_)
  // Registered regions. Entries below nbufs_ never change; entries are
  // written under reg_mu_ before nbufs_ is raised (release).
  // UnregisterBuffer empties entries (NULL, 0) and never reuses them.
  std::array<iovec, kBufferSlots> iovecs_{};
  std::atomic<uint32_t> nbufs_{0};
  // The same ranges for lock-free lookup by FindBuffer: [begin, end).
  std::array<std::atomic<uintptr_t>, kBufferSlots> slot_begin_{}, slot_end_{};

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<Ring*> free_rings_;  // GUARDED_BY(pool_mu_)
  std::atomic<int> healthy_rings_{0};  // created and not broken

};

Result<Ring*> UringBackend::CreateRing() {
  auto ring = std::make_unique<Ring>();
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
  Ring* raw = ring.get();
  rings_.push_back(std::move(ring));
  healthy_rings_.fetch_add(1);
  return raw;
}

Result<Ring*> UringBackend::Acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!free_rings_.empty()) {
      Ring* ring = free_rings_.back();
      free_rings_.pop_back();
      return ring;
    }
  }
  Result<Ring*> ring = CreateRing();
  if (ring.ok()) return ring;
  // Out of resources for one more ring: wait for one of the others.
  std::unique_lock<std::mutex> lock(pool_mu_);
  pool_cv_.wait(lock, [this] {
    return !free_rings_.empty() || healthy_rings_.load() == 0;
  });
  if (free_rings_.empty()) return ring.status();
  Ring* r = free_rings_.back();
  free_rings_.pop_back();
  return r;
}

void UringBackend::Release(Ring* ring) {
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

int UringBackend::FindBuffer(const Ring& ring, const char* p,
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

void UringBackend::Prepare(Ring& ring, const IoRequest& req, uint32_t index,
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

void UringBackend::Complete(Ring& ring, std::span<IoRequest> requests,
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
    Result<Ring*> acquired = Acquire();
    if (!acquired.ok()) {
      for (IoRequest& req : requests) {
        if (req.status.ok()) req.status = acquired.status();
      }
    } else {
      Ring& ring = **acquired;
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

// An IoQueue holding one ring for its lifetime. Slots [0, capacity) hold
// the requests (user_data is the slot); ring.progress and ring.queue serve
// the slots as they serve Submit's requests, so short transfers and EAGAIN
// are reissued by the same Complete().
class UringQueue final : public IoQueue {
 public:
  UringQueue(UringBackend* backend, Ring* ring, size_t capacity)
      : backend_(backend), ring_(ring), slots_(capacity), tags_(capacity), state_(capacity, kFree) {
    ring_->progress.assign(capacity, 0);
    ring_->queue.clear();
    for (size_t i = capacity; i-- > 0;) free_.push_back(static_cast<uint32_t>(i));
  }
  ~UringQueue() override {
    std::vector<IoCompletion> dropped;
    while (pending() > 0) {
      Reap(&dropped);
      dropped.clear();
    }
    backend_->Release(ring_);
  }
  size_t capacity() const override { return slots_.size(); }
  size_t pending() const override { return slots_.size() - free_.size(); }

  void Add(const IoRequest& req, uint64_t tag) override {
    RINGDB_CHECK(!free_.empty());
    const uint32_t i = free_.back();
    free_.pop_back();
    IoRequest& r = slots_[i];
    r = req;
    tags_[i] = tag;
    ring_->progress[i] = 0;
    r.status = backend_->files_.Check(r);
    if (r.status.ok() && !backend_->files_.Direct(r.file)) {
      // A page-cache file: a plain copy, done now (as Submit does).
      uint64_t retries = 0;
      backend_->counters_.submits.fetch_add(1, std::memory_order_relaxed);
      r.status = backend_->files_.TransferPlain(r, &retries);
      backend_->counters_.retries.fetch_add(retries, std::memory_order_relaxed);
      if (r.status.ok()) backend_->counters_.CountTransfer(r.op == IoRequest::Op::kRead, r.len);
    }
    if (!r.status.ok() || !backend_->files_.Direct(r.file)) {
      state_[i] = kDone;
      done_.push_back(i);
      return;
    }
    state_[i] = kQueued;
    ring_->queue.push_back(i);
  }

  void Submit() override {
    if (ring_->queue.empty()) return;
    if (ring_->broken) return Fail(Status::IOError("io_uring: ring unusable after an error"));
    unsigned prepared = 0;
    for (uint32_t i : ring_->queue) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
      RINGDB_CHECK(sqe != nullptr);  // capacity <= the ring's entries
      backend_->Prepare(*ring_, slots_[i], i, sqe);
      state_[i] = kInFlight;
      ++prepared;
    }
    ring_->queue.clear();
    backend_->counters_.submits.fetch_add(1, std::memory_order_relaxed);
    int rc;
    do {
      rc = io_uring_submit(&ring_->ring);
    } while (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY);
    if (rc < 0) {
      ring_->broken = true;
      return Fail(Status::IOError(std::string("io_uring_submit: ") + std::strerror(-rc)));
    }
    in_flight_ += prepared;
  }

  void Reap(std::vector<IoCompletion>* done) override {
    Submit();
    while (done_.empty() && in_flight_ > 0) {
      io_uring_cqe* cqe = nullptr;
      int rc;
      do {
        rc = io_uring_wait_cqe(&ring_->ring, &cqe);
      } while (rc == -EINTR);
      if (rc < 0) {
        ring_->broken = true;
        Fail(Status::IOError(std::string("io_uring_wait_cqe: ") + std::strerror(-rc)));
        break;
      }
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_->ring, head, cqe) {
        const auto i = static_cast<uint32_t>(cqe->user_data);
        const size_t requeued = ring_->queue.size();
        backend_->Complete(*ring_, slots_, i, cqe->res);
        if (ring_->queue.size() == requeued) {
          state_[i] = kDone;
          done_.push_back(i);
        } else {
          state_[i] = kQueued;
        }
        ++seen;
      }
      io_uring_cq_advance(&ring_->ring, seen);
      in_flight_ -= seen;
      Submit();  // reissue short transfers
    }
    for (uint32_t i : done_) {
      done->push_back({tags_[i], slots_[i].status});
      state_[i] = kFree;
      free_.push_back(i);
    }
    done_.clear();
  }

 private:
  enum : uint8_t { kFree, kQueued, kInFlight, kDone };
  // The ring's state is unknown: every request not done fails with `s`.
  void Fail(const Status& s) {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (state_[i] == kQueued || state_[i] == kInFlight) {
        slots_[i].status = s;
        state_[i] = kDone;
        done_.push_back(i);
      }
    }
    ring_->queue.clear();
    in_flight_ = 0;
  }

  UringBackend* const backend_;
  Ring* const ring_;
  std::vector<IoRequest> slots_;
  std::vector<uint64_t> tags_;
  std::vector<uint8_t> state_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> done_;
  unsigned in_flight_ = 0;
};

std::unique_ptr<IoQueue> UringBackend::NewQueue(size_t capacity) {
  Result<Ring*> ring = Acquire();
  if (!ring.ok()) return IoBackend::NewQueue(capacity);  // blocking, still correct
  return std::make_unique<UringQueue>(this, *ring,
                                      std::max<size_t>(1, std::min<size_t>(capacity, queue_depth_)));
}

Status UringBackend::Sync(FileId file) {
  const int fd = files_.Fd(file);
  if (fd < 0) {
    return Status::InvalidArgument("io: sync of unknown file id " +
                                   std::to_string(file.value));
  }
  Result<Ring*> acquired = Acquire();
  if (!acquired.ok()) return acquired.status();
  Ring& ring = **acquired;
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

}  // namespace

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
