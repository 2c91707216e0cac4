// The adaptive split of the memory budget between the buffer pool and the
// row cache (Options::kAutoRowCacheBytes).
//
// Why: with the data far larger than memory and skewed Gets whose hot keys
// are spread over the key space, a cached leaf spends 4 KiB on one or two
// hot pairs, while a row cache holds each of them for about 200 bytes. For
// scans, MultiGet, writes or uniform Gets the row cache is no help, and
// every byte it takes is missing from the pool. No fixed share suits both.
//
// What it measures, over windows of at least kWindowEvents row cache
// lookups and pool misses together, while the row cache is on:
//   - hot: the lookups that hit the row cache, or missed it with their key
//     in its ghost (util/ghost_list.h: the distinct keys it evicted last,
//     one step of bytes of them; an empty row cache "evicts" every fill at
//     once, so it still learns). Uniform Gets over data much larger than
//     the budget almost never come back that soon; Zipfian ones do.
//   - get_reads: the device reads the Gets' tree reads made
//     (BufferPool::ThreadDemandReads around each), against pool_reads, all
//     the pool's misses (scans, MultiGet, writes, read-ahead too).
// The row cache is worth its memory when at least one lookup in
// kHotShareInverse is hot and the Gets make at least half the device
// reads. Then its target is first kBaseRowSteps steps (a quarter of the
// budget), otherwise 0, and each window moves one step (a kSteps-th of the
// budget) toward the target. BalanceCaches runs on the background thread,
// every 20 ms while the split is on (every 100 ms while off), so a phase of
// skewed Gets at 50 k/s reaches the quarter in about a third of a second.
// Why a fixed first target rather than climbing by marginal gain from 0
// (ARC's ghost hits): the first step of row cache holds the hottest keys,
// whose leaves the pool keeps anyway, so its marginal gain in device reads
// is near 0 even when a quarter of the budget would save many (tried: it
// never left 0).
//
// From the quarter it climbs by marginal gain, up to kMaxRowSteps (three
// quarters): a window moves one more step to the row cache when the Gets
// its ghost would have served with one more step, and that read the
// device (gained), outnumber what one step less of pool would cost. That
// cost is taken as the pool's hits for Gets (row cache misses that read
// nothing) per step of pool, an upper bound for its last step's since its
// hottest pages hit more, plus every device read beyond the first of one
// Get (inner pages the pool lacked: a pool too small for the tree's upper
// levels). When gained falls under half that cost, a step goes back. Why:
// in a long Zipfian phase the row cache keeps earning well past a quarter
// (a simulation of the bench's ycsbc, 1 M Gets over 2 M keys with a
// 22 MiB budget: a quarter misses 355 k times, three quarters 280 k),
// while the bench's short phase (100 k Gets, 40% of them first reads of a
// key no cache can serve) is flat across shares; a fixed quarter had been
// chosen on that short phase (bench/results/2026-12-02-adaptive-row-cache.txt).
// When the row cache stops being wanted, its share drops to the quarter
// at once and then a step per window, so scans get the pool back quickly.
//
// A move to the row cache shrinks the pool first (BufferPool::Resize evicts
// the retired frames and gives their memory back), then raises the row
// cache's capacity; a move to the pool lowers the row cache first (its
// pairs are freed), then grows the pool. So together they never hold more
// than the budget, beyond what the heap keeps of freed pairs.
//
// On and off: while the pool evicts nothing, nothing competes for memory.
// Then Get does not look at the row cache (rows_on_ false: one load per
// Get), writers do not mark their keys in it (rows_marking_ false), and
// its ghost is empty. The pool's first evictions turn it on (TurnRowsOn):
// writers mark from then on; write_mu_ is taken once, so every write that
// did not mark has finished; every ticket handed out before is voided (a
// Get stalled since an earlier on-period must not fill); only then do Gets
// look. After kQuietTicks ticks without an eviction the target is 0; once
// the row cache is empty (capacity 0, so a fill only reaches the ghost) it
// turns off. So a cached value is always current (row_cache.h).
//
// The pool's memory: the pool is created with the part the row cache never
// takes (chunk 0, registered once) and grown at Open to the budget in
// chunks of one step each, so each move gives a whole chunk back
// (buffer_pool_resize.cc) rather than shrinking inside a registered region
// that stays pinned.
//
// Lock order: split_mu_ is taken before the pool's and the row cache's
// mutexes. Open takes it under write_mu_; TurnRowsOn takes write_mu_ with
// split_mu_ released.
#include <algorithm>

#include "engine/db_impl.h"

namespace ringdb {

namespace {
// Steps in the budget: the granularity of the split.
constexpr uint64_t kSteps = 32;
// The row cache's share when it is worth its memory: a quarter, and from
// there by marginal gain up to three quarters.
constexpr uint64_t kBaseRowSteps = kSteps / 4;
constexpr uint64_t kMaxRowSteps = kSteps * 3 / 4;
// Smallest pool the split applies to (pages); below it the split is off.
// (A step is then at least 16 pages, the pool's smallest chunk.)
constexpr uint64_t kMinSplitPages = 16 * kSteps;
// Lookups and pool misses in a window before it decides.
constexpr uint64_t kWindowEvents = 1000;
// At least one lookup in this many must be hot.
constexpr uint64_t kHotShareInverse = 5;
// Ticks (20 ms each while on) without an eviction before the target is 0.
constexpr uint32_t kQuietTicks = 50;
// The row cache's largest share: three quarters of the budget at Open,
// or of the budget SetBufferPoolBytes set since, if that is smaller.
uint64_t MaxRows(uint64_t budget, uint64_t step) {
  return std::min(kMaxRowSteps * step, budget / 4 * 3 / step * step);
}
// Its share when skewed Gets call for a row cache at all, before the
// climb: a quarter, within MaxRows.
uint64_t BaseRows(uint64_t budget, uint64_t step) {
  return std::min(kBaseRowSteps * step, MaxRows(budget, step));
}
}  // namespace

void DBImpl::PlanCacheSplit(size_t* pool_bytes, size_t* max_pool_bytes, size_t* chunk_bytes,
                            uint32_t page_size) {
  MutexLock lock(&split_mu_);
  split_ = CacheSplit{};
  if (options_.row_cache_bytes != Options::kAutoRowCacheBytes) return;
  const uint64_t pages = *pool_bytes / page_size;
  if (pages < kMinSplitPages) {
    // Too small to split: no row cache at all, so writers need not mark
    // their keys in it. (Open runs this before any read or write.)
    rows_ = std::make_unique<RowCache>(0);
    return;
  }
  const uint64_t step_pages = pages / kSteps;
  split_.on = true;
  split_.budget = pages * page_size;
  split_.step = step_pages * page_size;
  *max_pool_bytes = std::max<size_t>(*max_pool_bytes, split_.budget);
  // Chunk 0: what the pool keeps at the row cache's largest share.
  *pool_bytes = split_.budget - kMaxRowSteps * split_.step;
  *chunk_bytes = split_.step;
}

Status DBImpl::StartCacheSplit() {
  MutexLock lock(&split_mu_);
  if (!split_.on) return Status::OK();
  // Off until the pool evicts; no reader or writer runs yet.
  rows_on_.store(false, std::memory_order_relaxed);
  rows_marking_.store(false, std::memory_order_relaxed);
  split_.evictions = pool_->evictions();
  return pool_->Resize(split_.budget);
}

bool DBImpl::split_on() {
  MutexLock lock(&split_mu_);
  return split_.on;
}

DBImpl::CacheSplit DBImpl::split_snapshot() {
  MutexLock lock(&split_mu_);
  return split_;
}

void DBImpl::TurnRowsOn() {
  // Writers mark their keys from now on. A write that did not holds
  // write_mu_ from that decision to its last change of the tree, so once
  // write_mu_ is free the tree holds every unmarked write. Tickets taken
  // in an earlier on-period (a Get stalled across the off-period) are
  // then refused, and only after that do Gets look (release: they load
  // rows_on_ with acquire before their ticket and tree read).
  rows_marking_.store(true, std::memory_order_release);
  write_mu_.Lock();
  write_mu_.Unlock();
  rows_->InvalidateTickets();
  rows_on_.store(true, std::memory_order_release);
}

bool DBImpl::BalanceCaches() {
  bool turn_on = false;
  {
    MutexLock lock(&split_mu_);
    if (!split_.on || rows_on_.load(std::memory_order_relaxed)) {
      // on, or not adaptive
    } else if (pool_->evictions() != split_.evictions) {
      turn_on = true;
    }
  }
  // Outside split_mu_: Open takes split_mu_ under write_mu_.
  if (turn_on) TurnRowsOn();
  MutexLock lock(&split_mu_);
  CacheSplit& sp = split_;
  if (!sp.on) return false;
  const uint64_t evictions = pool_->evictions();
  const bool evicting = evictions != sp.evictions;
  sp.evictions = evictions;
  auto begin_window = [&]() REQUIRES(split_mu_) {
    const RowCache::Stats rs = rows_->stats();
    sp.lookups = rs.hits + rs.misses;
    sp.hot = rs.hits + rs.ghost_hits;
    sp.get_reads = get_reads_.load(std::memory_order_relaxed);
    sp.pool_reads = pool_->misses();
    sp.ghost_reads = get_ghost_reads_.Sum();
    sp.pool_hits = get_pool_hits_.Sum();
    sp.extra_reads = get_extra_reads_.Sum();
  };
  if (!rows_on_.load(std::memory_order_relaxed)) return false;
  if (turn_on) {
    rows_->SetGhostBytes(sp.step);
    begin_window();
    sp.quiet_ticks = 0;
    return true;
  }
  bool want_rows = false;
  // Above the base share: whether one more step of row cache would save
  // more device reads than one step less of pool would cost (climb), or
  // clearly fewer (fall back a step).
  bool climb = false, fall = false;
  if (!evicting) {
    if (++sp.quiet_ticks < kQuietTicks) return true;
    if (sp.rows == 0) {
      // Nothing left to give back: off until the pool evicts again. The
      // row cache is empty (capacity 0: a fill only reaches the ghost), so
      // writers may stop marking; TurnRowsOn voids the tickets of Gets
      // still under way.
      rows_on_.store(false, std::memory_order_relaxed);
      rows_marking_.store(false, std::memory_order_relaxed);
      rows_->SetGhostBytes(0);
      return false;
    }
  } else {
    sp.quiet_ticks = 0;
    const RowCache::Stats rs = rows_->stats();
    const uint64_t lookups = rs.hits + rs.misses - sp.lookups;
    const uint64_t hot = rs.hits + rs.ghost_hits - sp.hot;
    const uint64_t get_reads = get_reads_.load(std::memory_order_relaxed) - sp.get_reads;
    const uint64_t pool_reads = pool_->misses() - sp.pool_reads;
    if (lookups + pool_reads < kWindowEvents) return true;
    want_rows = hot * kHotShareInverse >= lookups && lookups > 0 && get_reads * 2 >= pool_reads;
    // The climb's terms, per window: the Gets one more step of row cache
    // would have served (their key was in its ghost, one step of bytes
    // deep, and they read the device), against the pool's hits for Gets
    // per step (an upper bound for its last step's: its hottest pages
    // hit more) plus the extra reads of Gets whose inner pages the pool
    // lacked (a pool too small for them).
    const uint64_t gained = get_ghost_reads_.Sum() - sp.ghost_reads;
    const uint64_t pool_hits = get_pool_hits_.Sum() - sp.pool_hits;
    const uint64_t extra = get_extra_reads_.Sum() - sp.extra_reads;
    const uint64_t pool_steps = std::max<uint64_t>(1, (sp.budget - sp.rows) / sp.step);
    const uint64_t lost = pool_hits + extra * pool_steps;  // per step: / pool_steps
    climb = gained * pool_steps > lost;
    fall = gained * pool_steps * 2 < lost;
    begin_window();
  }
  const uint64_t base = BaseRows(sp.budget, sp.step);
  const uint64_t max_rows = MaxRows(sp.budget, sp.step);
  if (want_rows && sp.rows < max_rows && (sp.rows < base || climb)) {
    // The pool first: its memory goes back before the row cache may fill.
    Status s = pool_->Resize(sp.budget - sp.rows - sp.step);
    // Busy: some retired frames stayed pinned; the pool keeps the smaller
    // size and frees them as they are released, so the move stands.
    if (s.ok() || s.IsBusy()) {
      sp.rows += sp.step;
      rows_->SetCapacity(sp.rows);
      sp.moves_to_rows++;
    }
  } else if ((!want_rows && sp.rows > 0) || (sp.rows > base && fall) || sp.rows > max_rows) {
    // Back to the base share at once when the row cache is no longer
    // wanted (scans should not wait for the pool a step at a time), then
    // a step per window.
    sp.rows = !want_rows && sp.rows > base ? base : sp.rows - sp.step;
    rows_->SetCapacity(sp.rows);
    (void)pool_->Resize(sp.budget - sp.rows);  // a grow: only a bad size fails
    sp.moves_to_pool++;
  }
  return true;
}

Status DBImpl::SetSplitBudget(size_t bytes) {
  MutexLock lock(&split_mu_);
  CacheSplit& sp = split_;
  const uint32_t page_size = pool_->page_size();
  const uint64_t budget = bytes / page_size * page_size;
  // The row cache keeps its share if the new budget leaves the pool at
  // least three times as much.
  const uint64_t rows = std::min(sp.rows, MaxRows(budget, sp.step));
  if (rows < sp.rows) rows_->SetCapacity(rows);
  Status s = pool_->Resize(budget - rows);
  if (!s.ok() && !s.IsBusy()) {
    if (rows < sp.rows) rows_->SetCapacity(sp.rows);
    return s;
  }
  sp.rows = rows;
  sp.budget = budget;
  return s;
}

}  // namespace ringdb
