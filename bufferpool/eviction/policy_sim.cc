// PolicySimulator: see policy_sim.h.
#include "bufferpool/eviction/policy_sim.h"

#include "bufferpool/eviction/policy_util.h"
#include "util/check.h"

namespace ringdb {
namespace {

constexpr uint64_t kNoPage = ~uint64_t{0};

// Nothing is pinned in a simulation: every tracked frame may go.
class EvictAny final : public FrameFilter {
 public:
  bool CanEvict(FrameIndex) const override { return true; }
};

}  // namespace

std::unique_ptr<PolicySimulator> PolicySimulator::Create(std::string_view name,
                                                         uint32_t frames) {
  std::unique_ptr<EvictionPolicy> policy = NewEvictionPolicy(name);
  if (policy == nullptr || frames == 0) return nullptr;
  std::unique_ptr<PolicySimulator> sim(new PolicySimulator());
  sim->name_ = std::string(name);
  sim->policy_ = std::move(policy);
  sim->policy_->Init(frames);
  sim->page_of_.assign(frames, kNoPage);
  sim->frame_of_.reserve(frames);
  sim->free_.reserve(frames);
  for (uint32_t f = frames; f > 0; f--) sim->free_.push_back(f - 1);
  return sim;
}

bool PolicySimulator::Access(uint64_t page) {
  auto it = frame_of_.find(page);
  if (it != frame_of_.end()) {
    hits_++;
    policy_->OnAccess(it->second);
    return true;
  }
  misses_++;
  FrameIndex f;
  if (!free_.empty()) {
    f = free_.back();
    free_.pop_back();
  } else {
    EvictAny any;
    RINGDB_CHECK(policy_->Victim(any, &f));
    RINGDB_CHECK(f < page_of_.size() && page_of_[f] != kNoPage);
    policy_->OnRemove(f);
    frame_of_.erase(page_of_[f]);
  }
  page_of_[f] = page;
  frame_of_.emplace(page, f);
  if (auto* aware = dynamic_cast<PageAwarePolicy*>(policy_.get())) aware->SetFramePage(f, page);
  policy_->OnInsert(f);
  return false;
}

void PolicySimulator::Drop(uint64_t page) {
  auto it = frame_of_.find(page);
  if (it == frame_of_.end()) return;
  FrameIndex f = it->second;
  frame_of_.erase(it);
  policy_->OnRemove(f);
  page_of_[f] = kNoPage;
  free_.push_back(f);
}

size_t PolicySimulator::MemoryBytes() const {
  // Map nodes (~48 bytes each with bucket), page_of_, free_, and about 16
  // bytes per frame of policy state (links, bits; s3fifo's ghosts add ~40).
  return frame_of_.size() * 48 + page_of_.size() * (8 + 4 + 16 + 40);
}

}  // namespace ringdb
