// IoBackend: how ringdb moves aligned blocks between memory and files.
//
// Backends: io_uring (O_DIRECT, registered buffers and files, batched
// submits), pread/pwrite (O_DIRECT, the fallback), buffered (page cache,
// for comparisons only) and a fault-injecting wrapper for tests
// (fault_backend.h). Only io/ includes liburing.h.
//
// Every request is checked before it reaches the kernel: with O_DIRECT the
// buffer address, offset and length must be multiples of kDirectIoAlignment;
// a misaligned request is InvalidArgument naming the path and offset. Short
// transfers are finished, EINTR/EAGAIN retried, and real errors come back as
// IOError (NoSpace for ENOSPC) naming the path and offset.
//
// Thread-safety: all methods may be called concurrently from any threads.
// Submit() blocks the calling thread until all of its requests completed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/dir_ops.h"
#include "util/result.h"
#include "ringdb/options.h"
#include "ringdb/status.h"

namespace ringdb::io {

inline constexpr size_t kDirectIoAlignment = 4096;

// A file opened through a backend. Values are small and dense (fixed-file
// slots in the io_uring backend).
struct FileId {
  int32_t value = -1;
  bool valid() const { return value >= 0; }
  friend bool operator==(FileId a, FileId b) { return a.value == b.value; }
};

enum class OpenMode : uint8_t {
  kReadWrite,        // must exist
  kCreateReadWrite,  // created when missing
  kReadOnly,
};

// Page-cache hints for files opened with OpenBuffered (see AdviseCache).
enum class CacheAdvice : uint8_t {
  // Start writing the range's dirty pages to the device; do not wait.
  kStartWriteBack,
  // Wait until the range's pages are written back, then drop them from the
  // page cache.
  kDrop,
};

struct IoRequest {
  enum class Op : uint8_t { kRead, kWrite };
  Op op = Op::kRead;
  FileId file;
  uint64_t offset = 0;
  char* buf = nullptr;
  uint32_t len = 0;
  // Set by the backend: the outcome of this request alone.
  Status status;
};

// A finished request of an IoQueue: the tag it was added with, its outcome.
struct IoCompletion {
  uint64_t tag = 0;
  Status status;
};

// An asynchronous queue of requests, for a pipeline that keeps working
// while its reads are in flight (BufferPool's asynchronous reads). Add()
// queues a request, Submit() hands every request added since the last call
// to the kernel at once without waiting (one io_uring_enter), Reap() waits
// for completions. The request's buffer must stay valid until it is
// reaped. Thread-safety: one thread at a time; the destructor waits for
// the requests in flight and drops their completions.
class IoQueue {
 public:
  virtual ~IoQueue() = default;
  // Requests queued or in flight at most (fixed at creation).
  virtual size_t capacity() const = 0;
  // Requests added and not yet reaped.
  virtual size_t pending() const = 0;
  // Queues a copy of `req` (its status is ignored). Require:
  // pending() < capacity().
  virtual void Add(const IoRequest& req, uint64_t tag) = 0;
  // Starts every request added since the last call; does not wait.
  virtual void Submit() = 0;
  // Submits what is queued, then waits until at least one request
  // completed (not at all when none is pending) and appends every completed
  // one to *done.
  virtual void Reap(std::vector<IoCompletion>* done) = 0;
};

struct IoStats {
  uint64_t reads = 0;          // read requests completed
  uint64_t writes = 0;         // write requests completed
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t syncs = 0;          // fdatasync calls (ring or plain)
  uint64_t submits = 0;        // io_uring_enter / syscalls issued for data
  uint64_t fixed_ops = 0;      // requests that used a registered buffer
  uint64_t retries = 0;        // short transfers finished / EAGAIN retried
};

class IoBackend {
 public:
  virtual ~IoBackend() = default;

  // "io_uring", "pread", "buffered", "fault(<inner>)".
  virtual std::string Name() const = 0;

  // True when the backend bypasses the page cache (alignment required).
  virtual bool direct() const = 0;

  // Registers [base, base + len) so that requests whose buffers lie inside
  // it use fixed-buffer operations. base and len must be 4 KiB aligned. May
  // be called more than once. When the kernel refuses (RLIMIT_MEMLOCK), the
  // region stays usable unregistered and the returned Status says why; the
  // caller reports that once and keeps going.
  virtual Status RegisterBuffer(void* base, size_t len) = 0;

  // Forgets the region registered at `base` (before its memory is
  // unmapped: a stale registration would send later I/O to the old pages).
  // Require: no request on that region in flight. No-op when not registered.
  virtual void UnregisterBuffer(void* base) {}

  // Opens `path`. A filesystem that refuses O_DIRECT gives InvalidArgument
  // naming the path and suggesting io_backend = kBuffered.
  virtual Result<FileId> Open(const std::string& path, OpenMode mode) = 0;
  // Opens `path` through the kernel page cache (no O_DIRECT) whatever
  // direct() says: requests on the file need no alignment, and a write is
  // in the kernel (it survives a crash of the process) once it completes.
  // For the write-ahead log, which is written the way MySQL writes its redo
  // log in O_DIRECT mode: through the page cache, made durable by Sync.
  virtual Result<FileId> OpenBuffered(const std::string& path,
                                      OpenMode mode) = 0;
  virtual Status Close(FileId file) = 0;

  // Runs all requests, batching them into as few submits as possible, and
  // waits for all of them. Sets each request's status and returns the first
  // failure (or OK).
  virtual Status Submit(std::span<IoRequest> requests) = 0;

  // An asynchronous queue of up to `capacity` requests. The default runs
  // each Submit() through Submit(std::span) (complete when it returns); the
  // io_uring backend keeps one ring for the queue and really overlaps.
  virtual std::unique_ptr<IoQueue> NewQueue(size_t capacity);

  // Convenience wrappers for one request.
  Status Read(FileId file, uint64_t offset, char* buf, uint32_t len);
  Status Write(FileId file, uint64_t offset, const char* buf, uint32_t len);

  // fdatasync: through the ring (IORING_FSYNC_DATASYNC) in the io_uring
  // backend, a plain call elsewhere.
  virtual Status Sync(FileId file) = 0;

  // Page-cache hint on [offset, offset + len) of a file opened with
  // OpenBuffered (sync_file_range, then posix_fadvise DONTNEED for kDrop;
  // len 0 means to the end of the file):
  // keeps a file that is only appended to from filling the page cache. Not
  // a durability point: only Sync makes data durable. An error says the
  // hint failed; the data is unaffected.
  virtual Status AdviseCache(FileId file, uint64_t offset, uint64_t len,
                             CacheAdvice advice) = 0;

  // Size of the file in bytes.
  virtual Result<uint64_t> FileSize(FileId file) = 0;
  // Sets the size (extends with zeros or cuts).
  virtual Status Truncate(FileId file, uint64_t size) = 0;
  // Gives the blocks of [offset, offset + len) back to the file system (the
  // range then reads as zeros; the size is unchanged). NotSupported where
  // the file system cannot.
  virtual Status PunchHole(FileId file, uint64_t offset, uint64_t len) = 0;
  // Reserves blocks for [offset, offset + len), extending the file when it
  // ends before (fallocate mode 0: the range reads as zeros). Writes into
  // reserved blocks inside the file need no block allocation or size
  // change, so O_DIRECT writes there can complete without a kernel worker.
  // NotSupported where the file system cannot.
  virtual Status Allocate(FileId, uint64_t, uint64_t) {
    return Status::NotSupported("io: this backend cannot reserve blocks");
  }
  // Bytes the file occupies on disk (allocated blocks).
  virtual Result<uint64_t> AllocatedBytes(FileId file) = 0;
  // Maps [offset, offset + len) of a file opened with OpenBuffered,
  // readable and writable and shared (MAP_SHARED): a store into the
  // mapping is in the file as a write is (it survives a crash of the
  // process; Sync makes it durable). `offset` is a multiple of the page
  // size. Touching a byte past the end of the file raises SIGBUS, so the
  // caller extends the file first (Allocate). The caller unmaps with
  // munmap(2). NotSupported where the backend cannot: the fault backend,
  // which sees only the requests it is given, so the engine's fault tests
  // run the plain-write path.
  virtual Result<char*> MapShared(FileId, uint64_t, size_t) {
    return Status::NotSupported("io: this backend cannot map files");
  }

  // The path a file was opened with ("" for an unknown id).
  virtual std::string PathOf(FileId file) const = 0;

  virtual IoStats stats() const = 0;

  // Directory and whole-file operations (dir_ops.h). The defaults are the
  // plain syscalls; the fault backend fails them on purpose. Every
  // directory change the engine relies on goes through these, so tests can
  // see a missing directory fsync.
  virtual Status SyncDirectory(const std::string& dir);
  virtual Status Rename(const std::string& from, const std::string& to);
  virtual Status Unlink(const std::string& path);
  virtual Status MakeDirectory(const std::string& dir);
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, LockKind kind,
                                                     bool create);
};

struct BackendChoice {
  std::unique_ptr<IoBackend> backend;
  // Empty when the requested backend was created; otherwise why it fell
  // back (e.g. "io_uring_queue_init: Operation not permitted; using pread").
  std::string fallback_reason;
};

// Creates the requested backend, falling back from io_uring to pread when
// io_uring cannot be set up. `queue_depth` bounds requests per ring submit.
Result<BackendChoice> NewIoBackend(IoBackendKind kind, unsigned queue_depth = 64);

// Direct constructors (tests use them to run one suite on each backend).
Result<std::unique_ptr<IoBackend>> NewUringBackend(unsigned queue_depth);
std::unique_ptr<IoBackend> NewPreadBackend();
std::unique_ptr<IoBackend> NewBufferedBackend();

// Helpers shared by backends and callers.
bool IsAligned(const void* p, size_t a);
bool IsAligned(uint64_t v, size_t a);
// Status for errno `err` during `what` on `path` at `offset`.
Status ErrnoStatus(int err, std::string_view what, const std::string& path,
                   uint64_t offset);

}  // namespace ringdb::io
