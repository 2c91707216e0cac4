// BufferPool: telling the eviction policy about inserted pages, and
// replacing the policy while the pool is in use. See buffer_pool.h.
#include "bufferpool/buffer_pool.h"
#include "bufferpool/eviction/policy_util.h"
#include "bufferpool/frame.h"

namespace ringdb {

void BufferPool::PolicyInsert(FrameIndex f, PageId id) {
  MutexLock lock(&policy_mu_);
  if (auto* aware = dynamic_cast<PageAwarePolicy*>(policy_.get())) {
    aware->SetFramePage(f, id.value);
  }
  policy_->OnInsert(f);
}

Status BufferPool::SetPolicy(std::shared_ptr<EvictionPolicy> policy) {
  if (!policy) return Status::InvalidArgument("no eviction policy given");
  MutexLock lock(&policy_mu_);
  policy->Init(num_frames_);
  auto* aware = dynamic_cast<PageAwarePolicy*>(policy.get());
  // Every page entered before this point is in a frame whose page id is
  // set (Enter sets it before the loader calls PolicyInsert, and eviction
  // clears it under policy_mu_). A loader that has not called PolicyInsert
  // yet will call it on the new policy (a restart, harmless). A frame
  // Discard is about to free may be learned too: it is refused by the
  // victim filter while free, and restarted by OnInsert when reused.
  for (uint32_t i = 0; i < num_frames_; i++) {
    uint64_t page = frame(FrameIndex{i}).page.load(std::memory_order_acquire);
    if (page == PageId::kInvalidValue) continue;
    if (aware != nullptr) aware->SetFramePage(i, page);
    policy->OnInsert(i);
  }
  hit_policy_.store(policy.get(), std::memory_order_release);
  retired_policies_.push_back(std::move(policy_));
  policy_ = std::move(policy);
  return Status::OK();
}

}  // namespace ringdb
