// The page cleaner: a background thread that writes cold dirty pages ahead
// of the checkpoint (Options::page_cleaner).
//
// A checkpoint holds the writers back while it flushes every dirty page
// (see CheckpointBodyLocked). With a 1 GiB pool a bulk load leaves hundreds
// of MiB dirty, and the writer that triggers the checkpoint stalled for
// seconds. The cleaner writes, in the background, the dirty pages that no
// write has changed for a while (a bulk load's full leaves, the cold part
// of any working set), so the checkpoint finds little left to write.
//
// Under shadow paging an early write is safe: it goes to a slot the last
// checkpoint does not reference (PageStore::WriteOffset), exactly like an
// eviction's write-back, and recovery never reads it. The cost is a second
// write of a page that changes again before the checkpoint; the age test
// below keeps that to pages that were idle for 1/16 of an interval.
#include <chrono>

#include "engine/db_impl.h"

namespace ringdb {

namespace {
// A pass scans every frame header (one cache line each): every 20 ms while
// passes find work, every 100 ms when the last one found none.
constexpr auto kBusyPeriod = std::chrono::milliseconds(20);
constexpr auto kIdlePeriod = std::chrono::milliseconds(100);
constexpr size_t kPagesPerPass = 1024;
}  // namespace

void DBImpl::StartPageCleaner() {
  cleaner_ = std::thread([this] { PageCleanerLoop(); });
}

void DBImpl::StopPageCleaner() {
  {
    MutexLock lock(&cleaner_mu_);
    stop_cleaner_ = true;
  }
  cleaner_cv_.notify_all();
  if (cleaner_.joinable()) cleaner_.join();
}

void DBImpl::PageCleanerLoop() {
  // The thread also runs the adaptive cache split (db_cache_balance.cc),
  // alone for a read-only handle or with page_cleaner off. While the split
  // is on it ticks every kBusyPeriod, so that it follows a phase of reads
  // within a fraction of a second; the cleaner still passes only every
  // kIdlePeriod while its passes find nothing (a pass reads every frame
  // header).
  const bool cleaning = !options_.read_only && options_.page_cleaner;
  size_t n = 0;
  bool quick = false;
  auto last_pass = std::chrono::steady_clock::now();
  cleaner_mu_.Lock();
  while (!stop_cleaner_) {
    cleaner_cv_.wait_for(cleaner_mu_, n > 0 || quick ? kBusyPeriod : kIdlePeriod);
    if (stop_cleaner_) break;
    cleaner_mu_.Unlock();
    quick = BalanceCaches();
    const auto now = std::chrono::steady_clock::now();
    if (cleaning && (n > 0 || now - last_pass >= kIdlePeriod)) {
      last_pass = now;
      // Passes back to back while they find a full pass of work.
      do {
        n = CleanOnce();
      } while (n == kPagesPerPass && !cleaner_stopping());
    }
    cleaner_mu_.Lock();
  }
  cleaner_mu_.Unlock();
}

bool DBImpl::cleaner_stopping() {
  MutexLock lock(&cleaner_mu_);
  return stop_cleaner_;
}

size_t DBImpl::CleanOnce() {
  const uint64_t interval = options_.checkpoint_log_bytes;
  const Lsn now = applied_lsn_.load(std::memory_order_acquire);
  const Lsn ckpt = ckpt_lsn_.load(std::memory_order_acquire);
  if (now <= ckpt || now - ckpt < interval / 4) return 0;
  const Lsn max_lsn = now - interval / 16;
  if (max_lsn <= ckpt) return 0;
  // While writes are refused the pages wait for Resume's checkpoint.
  if (background_severity() != Severity::kNone) return 0;
  MutexLock lock(&flush_mu_);
  Result<size_t> r = pool_->FlushCold(max_lsn, kPagesPerPass);
  if (!r.ok()) {
    // The pages stay dirty; eviction and the checkpoint report the error
    // where a caller sees it.
    return 0;
  }
  cleaner_pages_.fetch_add(r.value(), std::memory_order_relaxed);
  return r.value();
}

}  // namespace ringdb
