// BufferPool eviction: AllocateFrame and the batched, phased EvictBatch.
// See buffer_pool.h for the protocol.
//
// One round of eviction:
//   1. Under policy_mu_ (one evicting thread at a time), ask the policy for
//      up to eviction_batch victims. Each is taken with a shared latch only
//      if nobody holds it (never waiting); a clean one is upgraded to
//      exclusive and freed at once, a dirty one is kept latched shared.
//   2. With no pool mutex held, write the dirty ones together (behind the
//      write gate). The shared latch keeps writers out, readers may join.
//   3. Under policy_mu_ again, free each written page that is still clean
//      and that nobody else latched meanwhile. A page whose write failed
//      stays cached and dirty and is marked write_failed: later rounds pass
//      over it while other victims exist.
// Resident pages (BufferPool::KeepResident) are passed over on a normal
// round; when a round names nothing but spared some, one more round takes
// one of them, so a pool whose other frames are all pinned still gets a
// frame.
// AllocateFrame runs rounds until a frame is free. When no round frees
// anything and some pages are marked write_failed, it retries their writes
// once (space may have come back); if that fails too, the read fails with
// the write error. When every frame is merely pinned it waits (up to 2 s).
#include <chrono>
#include <thread>

#include "bufferpool/buffer_pool.h"
#include "bufferpool/frame.h"
#include "bufferpool/page_table.h"
#include "util/check.h"

namespace ringdb {

// Accepts frames nobody holds that this round has not named yet, on a
// normal round only those whose last write did not fail, and with
// spare_resident only those without the resident mark: a resident frame it
// refuses is marked 2 in *chosen and listed in *spared (once a round).
// Called by the policy under policy_mu_.
class BufferPool::VictimFilter final : public FrameFilter {
 public:
  VictimFilter(const FrameHeader* frames, std::vector<uint8_t>* chosen, bool retry_unwritable,
               bool spare_resident, std::vector<FrameIndex>* spared)
      : frames_(frames),
        chosen_(chosen),
        retry_unwritable_(retry_unwritable),
        spare_resident_(spare_resident),
        spared_(spared) {}

  bool CanEvict(FrameIndex f) const override {
    if (f >= chosen_->size() || (*chosen_)[f] != 0) return false;
    const FrameHeader& fr = frames_[f];
    if (PageState::Latch(fr.state.Load()) != PageState::kUnlocked) return false;
    if (!retry_unwritable_ && fr.write_failed.load(std::memory_order_relaxed)) return false;
    if (spare_resident_ && fr.resident.load(std::memory_order_relaxed)) {
      (*chosen_)[f] = 2;
      spared_->push_back(f);
      return false;
    }
    return true;
  }

 private:
  const FrameHeader* frames_;
  std::vector<uint8_t>* chosen_;
  bool retry_unwritable_;
  bool spare_resident_;
  std::vector<FrameIndex>* spared_;
};

Result<FrameIndex> BufferPool::AllocateFrame(bool may_wait) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool waited = false;
  bool retried = false;
  for (;;) {
    FrameIndex f;
    if (PopFree(&f)) {
      RINGDB_CHECK(frame(f).state.TryClaimEvicted());
      return f;
    }
    EvictRound round;
    bool spare = resident_count_.load(std::memory_order_relaxed) > 0;
    EvictBatch(/*retry_unwritable=*/false, &round, nullptr, spare);
    if (round.freed > 0 || round.named > 0) continue;  // look again
    if (round.spared > 0) {
      // Only resident pages can go: take one rather than starve.
      EvictRound any;
      EvictBatch(/*retry_unwritable=*/false, &any, nullptr, /*spare_resident=*/false,
                 /*max_victims=*/1);
      if (any.freed > 0 || any.named > 0) continue;
    }

    if (!retried && unwritable_count_.load(std::memory_order_relaxed) > 0) {
      retried = true;
      EvictRound retry;
      EvictBatch(/*retry_unwritable=*/true, &retry);
      if (retry.freed > 0) continue;
      if (retry.write_failed > 0) {
        return retry.write_error.WithContext(
            "buffer pool: no frame can be freed: " +
            std::to_string(unwritable_count_.load(std::memory_order_relaxed)) + " of " +
            std::to_string(active_frames()) +
            " frames hold dirty pages that cannot be written and the others are in use");
      }
    }
    if (!may_wait) return Status::Busy("buffer pool: no frame free for read-ahead");
    if (!waited) {
      waited = true;
      busy_waits_.fetch_add(1, std::memory_order_relaxed);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Busy("buffer pool: all " + std::to_string(active_frames()) +
                          " frames stayed pinned for 2 s; use a larger pool or fewer threads");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void BufferPool::EvictBatch(bool retry_unwritable, EvictRound* round,
                            const std::vector<FrameIndex>* forced, bool spare_resident,
                            uint32_t max_victims) {
  // Frees victim `f`, latched exclusive: the policy forgets it, the page
  // leaves the table and the frame goes to the free list.
  auto free_victim = [&](FrameIndex f) REQUIRES(policy_mu_) {
    policy_->OnRemove(f);
    Unmap(PageId{frame(f).page.load(std::memory_order_relaxed)}, f);
    round->freed++;
    evictions_.fetch_add(1, std::memory_order_relaxed);
  };
  // Phase 1: pick victims; free the clean ones, latch the dirty ones.
  std::vector<FrameIndex> dirty;
  {
    MutexLock lock(&policy_mu_);
    std::vector<FrameIndex> spared;
    VictimFilter filter(frames_.get(), &chosen_, retry_unwritable, spare_resident, &spared);
    std::vector<FrameIndex> named;
    size_t next = 0;
    const uint32_t batch = max_victims > 0 ? max_victims : eviction_batch_;
    for (uint32_t n = 0; forced != nullptr ? next < forced->size() : n < batch; n++) {
      FrameIndex v;
      if (forced != nullptr) {
        v = (*forced)[next++];
        if (!filter.CanEvict(v)) continue;
      } else if (!policy_->Victim(filter, &v)) {
        break;
      }
      RINGDB_CHECK(v < num_frames_ && chosen_[v] == 0);
      chosen_[v] = 1;
      named.push_back(v);
      round->named++;
      FrameIndex f{v};
      FrameHeader& fr = frame(f);
      if (!fr.state.TrySharedIfUnlocked()) continue;  // latched since
      if (fr.dirty.load(std::memory_order_relaxed)) {
        if (fr.writing.exchange(true, std::memory_order_acquire)) {
          fr.state.UnlockShared();  // FlushAll is writing it
        } else {
          dirty.push_back(f);
        }
        continue;
      }
      if (!fr.state.TryUpgrade()) {
        fr.state.UnlockShared();
        continue;
      }
      free_victim(f);
    }
    for (FrameIndex v : named) chosen_[v] = 0;
    // The spared frames' second chance: to the policy they were just used,
    // so it looks elsewhere first (an LRU list moves them to the front
    // instead of walking past them on every call).
    for (FrameIndex v : spared) {
      chosen_[v] = 0;
      policy_->OnAccess(v);
    }
    round->spared += static_cast<uint32_t>(spared.size());
  }
  if (dirty.empty()) return;

  // Phase 2: write the dirty victims together.
  std::vector<Status> results;
  WriteFrames(dirty, &results);

  // Phase 3: free those that stayed clean and unused.
  MutexLock lock(&policy_mu_);
  for (size_t i = 0; i < dirty.size(); i++) {
    FrameIndex f = dirty[i];
    FrameHeader& fr = frame(f);
    if (!results[i].ok()) {
      round->write_failed++;
      if (round->write_error.ok()) round->write_error = results[i];
      fr.state.UnlockShared();
      continue;
    }
    if (fr.dirty.load(std::memory_order_relaxed) || !fr.state.TryUpgrade()) {
      fr.state.UnlockShared();
      continue;
    }
    free_victim(f);
  }
}

}  // namespace ringdb
