// UringQueue: the io_uring backend's IoQueue, one ring held for the
// queue's lifetime, each Submit one io_uring_enter. Used by one thread at a
// time (IoQueue's contract); the backend's registrations change under it
// as for any busy ring (uring_backend.h).
#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "io/uring_backend.h"
#include "util/check.h"

namespace ringdb::io {

// An IoQueue holding one ring for its lifetime. Slots [0, capacity) hold
// the requests (user_data is the slot); ring.progress and ring.queue serve
// the slots as they serve Submit's requests, so short transfers and EAGAIN
// are reissued by the same Complete().
class UringQueue final : public IoQueue {
 public:
  UringQueue(UringBackend* backend, UringRing* ring, size_t capacity)
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
  UringRing* const ring_;
  std::vector<IoRequest> slots_;
  std::vector<uint64_t> tags_;
  std::vector<uint8_t> state_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> done_;
  unsigned in_flight_ = 0;
};

std::unique_ptr<IoQueue> UringBackend::NewQueue(size_t capacity) {
  Result<UringRing*> ring = Acquire();
  if (!ring.ok()) return IoBackend::NewQueue(capacity);  // blocking, still correct
  return std::make_unique<UringQueue>(this, *ring,
                                      std::max<size_t>(1, std::min<size_t>(capacity, queue_depth_)));
}

}  // namespace ringdb::io
