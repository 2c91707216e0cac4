// ForwardingBackend: an io::IoBackend that hands every call to another
// backend, the base of the tests' wrappers that make some requests fail
// (a full disk, failing writes or syncs). It forwards the pure methods,
// buffer registration and cache advice; NewQueue, Allocate and the
// directory and lock-file operations keep IoBackend's defaults. Submit asks
// Refuse() about each request: one it gives an errno fails with it, the
// others go to the inner backend in one submit.
// Thread-safety: as the inner backend's (Refuse is called from whichever
// threads submit).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "io/io_backend.h"

namespace ringdb::test {

class ForwardingBackend : public io::IoBackend {
 public:
  // Require: `inner` outlives this backend.
  explicit ForwardingBackend(io::IoBackend* inner) : inner_(inner) {}

  bool direct() const override { return inner_->direct(); }
  Status RegisterBuffer(void* base, size_t len) override {
    return inner_->RegisterBuffer(base, len);
  }
  void UnregisterBuffer(void* base) override { inner_->UnregisterBuffer(base); }
  Result<io::FileId> Open(const std::string& path, io::OpenMode mode) override {
    return inner_->Open(path, mode);
  }
  Result<io::FileId> OpenBuffered(const std::string& path, io::OpenMode mode) override {
    return inner_->OpenBuffered(path, mode);
  }
  Status AdviseCache(io::FileId file, uint64_t offset, uint64_t len,
                     io::CacheAdvice advice) override {
    return inner_->AdviseCache(file, offset, len, advice);
  }
  Status Close(io::FileId file) override { return inner_->Close(file); }
  Status Submit(std::span<io::IoRequest> requests) override {
    std::vector<io::IoRequest> pass;
    std::vector<size_t> which;
    for (size_t i = 0; i < requests.size(); i++) {
      io::IoRequest& r = requests[i];
      if (int err = Refuse(r); err != 0) {
        r.status = io::ErrnoStatus(err, r.op == io::IoRequest::Op::kRead ? "read" : "write",
                                   inner_->PathOf(r.file), r.offset);
      } else {
        pass.push_back(r);
        which.push_back(i);
      }
    }
    Status first;
    if (!pass.empty()) first = inner_->Submit(pass);
    for (size_t k = 0; k < pass.size(); k++) requests[which[k]].status = pass[k].status;
    for (const io::IoRequest& r : requests) {
      if (first.ok() && !r.status.ok()) first = r.status;
    }
    return first;
  }
  Status Sync(io::FileId file) override { return inner_->Sync(file); }
  Result<uint64_t> FileSize(io::FileId file) override { return inner_->FileSize(file); }
  Status Truncate(io::FileId file, uint64_t size) override {
    return inner_->Truncate(file, size);
  }
  Status PunchHole(io::FileId file, uint64_t offset, uint64_t len) override {
    return inner_->PunchHole(file, offset, len);
  }
  Result<uint64_t> AllocatedBytes(io::FileId file) override {
    return inner_->AllocatedBytes(file);
  }
  std::string PathOf(io::FileId file) const override { return inner_->PathOf(file); }
  io::IoStats stats() const override { return inner_->stats(); }

 protected:
  // The errno request `r` fails with, or 0 to pass it on. May do I/O of
  // its own through inner() (a torn write).
  virtual int Refuse(io::IoRequest& r) { return 0; }
  io::IoBackend* inner() const { return inner_; }

 private:
  io::IoBackend* const inner_;
};

}  // namespace ringdb::test
