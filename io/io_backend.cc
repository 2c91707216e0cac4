// Helpers shared by every backend, the one-request wrappers, and the
// backend factory with its io_uring -> pread fallback.
#include "io/io_backend.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "util/check.h"

namespace ringdb::io {

bool IsAligned(const void* p, size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}

bool IsAligned(uint64_t v, size_t a) { return v % a == 0; }

Status ErrnoStatus(int err, std::string_view what, const std::string& path,
                   uint64_t offset) {
  std::string msg = path;
  msg += ": ";
  msg += what;
  msg += " at offset ";
  msg += std::to_string(offset);
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  return Status::IOError(msg);
}

Status IoBackend::SyncDirectory(const std::string& dir) { return SyncDirectoryPlain(dir); }
Status IoBackend::Rename(const std::string& from, const std::string& to) {
  return RenamePlain(from, to);
}
Status IoBackend::Unlink(const std::string& path) { return UnlinkPlain(path); }
Status IoBackend::MakeDirectory(const std::string& dir) { return MakeDirectoryPlain(dir); }
Result<std::unique_ptr<FileLock>> IoBackend::LockFile(const std::string& path, LockKind kind,
                                                      bool create) {
  return LockFilePlain(path, kind, create);
}

namespace {

// IoQueue over a backend's blocking Submit: each Submit() runs the requests
// added since the last one to completion.
class BlockingQueue final : public IoQueue {
 public:
  BlockingQueue(IoBackend* io, size_t capacity) : io_(io), capacity_(capacity) {}
  size_t capacity() const override { return capacity_; }
  size_t pending() const override { return queued_.size() + done_.size(); }
  void Add(const IoRequest& req, uint64_t tag) override {
    RINGDB_CHECK(pending() < capacity_);
    queued_.push_back(req);
    tags_.push_back(tag);
  }
  void Submit() override {
    if (queued_.empty()) return;
    (void)io_->Submit(queued_);  // per-request statuses below
    for (size_t i = 0; i < queued_.size(); ++i) done_.push_back({tags_[i], queued_[i].status});
    queued_.clear();
    tags_.clear();
  }
  void Reap(std::vector<IoCompletion>* done) override {
    Submit();
    done->insert(done->end(), done_.begin(), done_.end());
    done_.clear();
  }

 private:
  IoBackend* const io_;
  const size_t capacity_;
  std::vector<IoRequest> queued_;
  std::vector<uint64_t> tags_;
  std::vector<IoCompletion> done_;
};

}  // namespace

std::unique_ptr<IoQueue> IoBackend::NewQueue(size_t capacity) {
  return std::make_unique<BlockingQueue>(this, capacity);
}

Status IoBackend::Read(FileId file, uint64_t offset, char* buf, uint32_t len) {
  IoRequest req;
  req.op = IoRequest::Op::kRead;
  req.file = file;
  req.offset = offset;
  req.buf = buf;
  req.len = len;
  return Submit(std::span<IoRequest>(&req, 1));
}

Status IoBackend::Write(FileId file, uint64_t offset, const char* buf,
                       uint32_t len) {
  IoRequest req;
  req.op = IoRequest::Op::kWrite;
  req.file = file;
  req.offset = offset;
  // The backend only reads from the buffer of a write request.
  req.buf = const_cast<char*>(buf);
  req.len = len;
  return Submit(std::span<IoRequest>(&req, 1));
}

Result<BackendChoice> NewIoBackend(IoBackendKind kind, unsigned queue_depth) {
  BackendChoice choice;
  switch (kind) {
    case IoBackendKind::kIoUring: {
      Result<std::unique_ptr<IoBackend>> uring = NewUringBackend(queue_depth);
      if (uring.ok()) {
        choice.backend = std::move(uring).value();
        return choice;
      }
      // A bad argument is the caller's mistake, not a missing kernel feature.
      if (uring.status().IsInvalidArgument()) return uring.status();
      choice.backend = NewPreadBackend();
      choice.fallback_reason = "io_uring unavailable (" +
                               uring.status().message() +
                               "); using O_DIRECT pread/pwrite";
      return choice;
    }
    case IoBackendKind::kPread:
      choice.backend = NewPreadBackend();
      return choice;
    case IoBackendKind::kBuffered:
      choice.backend = NewBufferedBackend();
      return choice;
  }
  return Status::InvalidArgument("io: unknown IoBackendKind " +
                                 std::to_string(static_cast<int>(kind)));
}

}  // namespace ringdb::io
