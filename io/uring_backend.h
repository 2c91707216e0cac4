// UringBackend, the io_uring IoBackend, and UringRing, one of its rings:
// shared by its two files, uring_backend.cc (files, buffers, Submit, Sync)
// and uring_queue.cc (UringQueue, its IoQueue). Internal to io/: the rest of
// the library gets the backend through NewUringBackend (io_backend.h).
//
// Threads: a ring is not thread-safe, so the backend keeps a pool of rings.
// A Submit/Sync takes a free ring (creating one when none is free), uses it
// alone, and returns it when all of its requests completed; a queue holds
// one ring for its lifetime. Every ring registers the same sparse tables:
// kBufferSlots buffer slots holding every region given to RegisterBuffer
// (split into iovecs of at most 1 GiB) and kFixedFileSlots file slots,
// where FileId n < kFixedFileSlots is slot n. Registration changes
// (RegisterBuffer, Open, Close) are applied to every ring, idle or busy,
// under reg_mu_: the kernel serializes io_uring_register against
// submissions, and a ring's holder only uses a buffer slot after that
// ring's registered_bufs says it is there.
//
// Lock order: reg_mu_ and pool_mu_ are never held together.
#pragma once

#include <liburing.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/file_table.h"
#include "io/io_backend.h"

namespace ringdb::io {

inline constexpr unsigned kFixedFileSlots = 256;
inline constexpr unsigned kBufferSlots = 1024;

// One io_uring instance of the backend and its per-holder scratch.
struct UringRing {
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

  UringRing() = default;
  UringRing(const UringRing&) = delete;
  UringRing& operator=(const UringRing&) = delete;
  ~UringRing() {
    if (initialized) io_uring_queue_exit(&ring);
  }
};

class UringQueue;

// The io_uring IoBackend (made by NewUringBackend). Thread-safety: as
// IoBackend, every call from any thread (see the file comment).
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
    Result<UringRing*> ring = CreateRing();
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
  Result<UringRing*> Acquire();
  void Release(UringRing* ring);
  // Creates a ring with every current registration and adds it to rings_.
  Result<UringRing*> CreateRing();

  // The buffer slot holding [p, p + len) on `ring`, or -1.
  int FindBuffer(const UringRing& ring, const char* p, size_t len) const;
  void Prepare(UringRing& ring, const IoRequest& req, uint32_t index,
               io_uring_sqe* sqe);
  // Handles one completion of request `index`; may queue it again.
  void Complete(UringRing& ring, std::span<IoRequest> requests, uint32_t index,
                int res);

  const unsigned queue_depth_;

  std::mutex reg_mu_;
  std::vector<std::unique_ptr<UringRing>> rings_;  // GUARDED_BY(reg_mu_)
  // Registered regions. Entries below nbufs_ never change; entries are
  // written under reg_mu_ before nbufs_ is raised (release).
  // UnregisterBuffer empties entries (NULL, 0) and never reuses them.
  std::array<iovec, kBufferSlots> iovecs_{};
  std::atomic<uint32_t> nbufs_{0};
  // The same ranges for lock-free lookup by FindBuffer: [begin, end).
  std::array<std::atomic<uintptr_t>, kBufferSlots> slot_begin_{}, slot_end_{};

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<UringRing*> free_rings_;  // GUARDED_BY(pool_mu_)
  std::atomic<int> healthy_rings_{0};  // created and not broken
};

}  // namespace ringdb::io
