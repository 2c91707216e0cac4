// HalfAllocateBackend: forwards to a real backend; while set_full(true),
// Allocate (fallocate) reserves the first half of the range it is asked for
// and then fails with NoSpace, as fallocate does when the disk fills
// midway (it keeps what it allocated).
// Thread-safety: as the inner backend's.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "tests/util/forwarding_backend.h"

namespace ringdb::test {

class HalfAllocateBackend final : public ForwardingBackend {
 public:
  explicit HalfAllocateBackend(std::unique_ptr<io::IoBackend> inner)
      : ForwardingBackend(inner.get()), owned_(std::move(inner)) {}
  std::string Name() const override { return "half-allocate(" + inner()->Name() + ")"; }
  Status Allocate(io::FileId file, uint64_t offset, uint64_t len) override {
    if (!full_.load()) return inner()->Allocate(file, offset, len);
    const uint64_t half = len / 2 / 4096 * 4096;
    if (half > 0) {
      Status s = inner()->Allocate(file, offset, half);
      if (!s.ok()) return s;
    }
    return Status::NoSpace("fallocate: no space left on device (test)");
  }
  void set_full(bool on) { full_.store(on); }

 private:
  std::unique_ptr<io::IoBackend> owned_;
  std::atomic<bool> full_{false};
};

}  // namespace ringdb::test
