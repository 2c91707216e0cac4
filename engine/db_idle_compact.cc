// The idle compactor (Options::idle_compact_ms) and DB::CompactIfSparse.
//
// A load of random keys leaves the leaves about 84% full (splits, with
// shifts into siblings: btree_put.cc), and the file stays that size until
// someone calls Compact. An LSM's background compaction writes full files
// on its own; this is ringdb's counterpart, run when it costs the writers
// nothing: once no write has arrived for idle_compact_ms, a background
// thread samples the leaves' fill (64 random descents:
// BTree::SampleLeafFill) and, when it is below idle_compact_fill, runs
// Compact's steps, stopping between two steps as soon as a write arrives.
// A tree sampled dense enough is not sampled again until writes change it;
// a sparse one is compacted only after writes of half its live pages'
// bytes since the last compaction (kRewrittenShare).
#include <algorithm>
#include <chrono>

#include "engine/db_impl.h"

namespace ringdb {

namespace {
constexpr int kFillSamples = 64;
// A compaction rewrites every leaf (about twice: packed past the end of
// the file in key order, then moved into its low part). Right after one,
// the packed leaves split at the first inserts, and a few percent of new keys take the sampled fill
// below the threshold again: compacting then would write the whole tree
// for a little data. So a sparse tree is compacted only once the log has
// grown by at least this share of the live pages' bytes since the last
// compaction (since the database was created, for the first one in a
// process), which bounds the writes of compactions to a small multiple of
// the writes that made the tree sparse.
constexpr double kRewrittenShare = 0.5;
// How often the thread looks at the applied LSN: a quarter of the idle
// period, between 1 ms and 250 ms.
std::chrono::milliseconds IdleTick(uint32_t idle_ms) {
  return std::chrono::milliseconds(std::clamp<uint32_t>(idle_ms / 4, 1, 250));
}
}  // namespace

void DBImpl::StartIdleCompactor() {
  idle_thread_ = std::thread([this] { IdleCompactLoop(); });
}

void DBImpl::StopIdleCompactor() {
  {
    MutexLock lock(&idle_mu_);
    stop_idle_ = true;
  }
  idle_cv_.notify_all();
  if (idle_thread_.joinable()) idle_thread_.join();
}

bool DBImpl::idle_stopping() {
  MutexLock lock(&idle_mu_);
  return stop_idle_;
}

void DBImpl::IdleCompactLoop() {
  using Clock = std::chrono::steady_clock;
  const auto idle = std::chrono::milliseconds(options_.idle_compact_ms);
  Lsn seen = applied_lsn_.load(std::memory_order_acquire);
  // The LSN the tree was last judged at (found dense enough, deferred,
  // compacted, or failed): none yet, so a database opened after an earlier
  // session's random load is looked at once it is idle.
  bool judged = false;
  Lsn judged_at{};
  Clock::time_point quiet_since = Clock::now();
  // A compaction a write stopped is taken up again at the next idle period
  // without a new sample: the leaves it packed would make the sample look
  // dense while the rest of its work (the layout, the shrink) is undone.
  bool unfinished = false;
  idle_mu_.Lock();
  while (!stop_idle_) {
    idle_cv_.wait_for(idle_mu_, IdleTick(options_.idle_compact_ms));
    if (stop_idle_) break;
    idle_mu_.Unlock();
    const Lsn now_lsn = applied_lsn_.load(std::memory_order_acquire);
    const Clock::time_point now = Clock::now();
    if (now_lsn != seen) {
      seen = now_lsn;
      quiet_since = now;
    } else if ((!judged || now_lsn != judged_at) && now - quiet_since >= idle &&
               background_severity() == Severity::kNone) {
      // Stops at the first write that arrives, or at Close.
      auto stop = [this, now_lsn]() {
        return applied_lsn_.load(std::memory_order_acquire) != now_lsn || idle_stopping();
      };
      bool compacted = false, stopped = false;
      Status s = CompactIfSparseImpl(stop, /*sample=*/!unfinished, &compacted, &stopped);
      unfinished = stopped;
      if (stopped) {
        idle_stops_.fetch_add(1, std::memory_order_relaxed);
      } else if (s.IsBusy()) {
        quiet_since = Clock::now();  // a backup runs: try again after another idle period
      } else {
        // Judged at this LSN, also after an error (it is logged; the next
        // writes make it try again), so a failing disk is not hammered.
        if (!s.ok() && !idle_stopping()) Log("idle compaction: " + s.ToString());
        judged = true;
        judged_at = now_lsn;
      }
    }
    idle_mu_.Lock();
  }
  idle_mu_.Unlock();
}

Status DBImpl::CompactIfSparse(bool* compacted) {
  bool ran = false, stopped = false;
  Status s = CompactIfSparseImpl(nullptr, /*sample=*/true, &ran, &stopped);
  if (compacted != nullptr) *compacted = ran;
  return s;
}

Status DBImpl::CompactIfSparseImpl(const std::function<bool()>& stop, bool sample,
                                   bool* compacted, bool* stopped) {
  *compacted = false;
  *stopped = false;
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::InvalidArgument("database is open read-only");
  MutexLock one_at_a_time(&compact_mu_);
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (stop && stop()) {
    *stopped = true;
    return Status::OK();
  }
  if (!sample) return FinishCompaction(stop, compacted, stopped);
  double fill = 1;
  const uint64_t seed = sparse_checks_.fetch_add(1, std::memory_order_relaxed) + 1;
  Status s = tree_->SampleLeafFill(seed, kFillSamples, &fill);
  if (!s.ok()) return s.WithContext("sampling the leaves' fill");
  last_sampled_fill_permille_.store(static_cast<uint64_t>(fill * 1000 + 0.5),
                                    std::memory_order_relaxed);
  const uint64_t live_bytes = store_->stats().live_pages * pool_->page_size();
  if (fill >= options_.idle_compact_fill || live_bytes < options_.idle_compact_min_bytes) {
    return Status::OK();
  }
  const uint64_t written = applied_lsn_.load(std::memory_order_acquire) - compacted_at_;
  if (static_cast<double>(written) < kRewrittenShare * static_cast<double>(live_bytes)) {
    sparse_deferred_.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
  }
  return FinishCompaction(stop, compacted, stopped);
}

Status DBImpl::FinishCompaction(const std::function<bool()>& stop, bool* compacted,
                                bool* stopped) {
  Status s = CompactLocked(stop, stopped);
  if (s.ok() && !*stopped) {
    *compacted = true;
    sparse_compacts_.fetch_add(1, std::memory_order_relaxed);
  }
  return s;
}

}  // namespace ringdb
