// DBImpl::Compact: packs the leaves (BTree::PackParent, one parent of
// leaves at a time) and lays them out in key order, then moves live pages
// down so the data file can shrink to about the pages in use. See db.h.
//
// A checkpointed page is never rewritten in place (page_store.h), so
// marking a page dirty and checkpointing moves it to the lowest free slot.
// Round by round: the pages beyond the target size are dirtied and a
// checkpoint writes them low; the next checkpoint frees their old slots and
// cuts the free end of the file off. A few rounds settle it (the page map
// itself may land high once and move down the next time).
#include <sys/statvfs.h>

#include "engine/db_impl.h"

namespace ringdb {

Status DBImpl::Compact() {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::InvalidArgument("database is open read-only");
  MutexLock one_at_a_time(&compact_mu_);
  bool stopped = false;
  return CompactLocked(nullptr, &stopped);
}

Status DBImpl::CompactLocked(const std::function<bool()>& stop, bool* stopped) {
  *stopped = false;
  const std::function<void(std::string_view)> hook = compact_step_hook_;
  const Lsn start = applied_lsn_.load(std::memory_order_acquire);
  // Between steps, a stop request (the idle compactor's, when a write
  // arrives) ends the compaction early: the tree is valid and packed up to
  // there, and the holes the hold kept are punched now, as at the end.
  auto stop_now = [&]() -> bool {
    if (!stop || !stop()) return false;
    *stopped = true;
    return true;
  };
  auto end = [this]() -> Status {
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(CheckOpen());
    return store_->DropReservation();
  };
  // No holes are punched until the end, and the ones in the part of the
  // file the live pages will fill get blocks again (PageStore::
  // HoldFreeBlocks): the pages packed and moved below are written into
  // allocated blocks. On every way out the hold ends; DropReservation at
  // the end punches the free slots left.
  struct EndHold {
    PageStore* store;
    ~EndHold() { store->HoldFreeBlocks(false); }
  } end_hold{store_.get()};
  {
    MutexLock lock(&write_mu_);
    store_->HoldFreeBlocks(true);
    RINGDB_RETURN_IF_ERROR(CheckpointLocked());
  }
  // The layout (below) needs room for a copy of the leaves; without it
  // Compact packs and shrinks only.
  const bool lay_out = RoomToLayOutLeaves();
  // First the leaves are packed (btree_pack.cc), one parent of leaves at a
  // time under write_mu_, so a writer waits for one parent's packing at
  // most, not for the whole pass. The pages change content, not keys: they
  // take the LSN of the last batch applied, so none is written before the
  // log holds every change it carries (GateWrite). Each parent and its
  // packed leaves then get consecutive slots past the end of the file, in
  // key order: the checkpoint after the packing writes them there, the
  // first of the layout's two passes (OrderLeaves). Packing left holes all
  // over the file, which is why they go past its end first.
  BTree::PackStats packed;
  std::string from, next;
  for (bool first = true, more = true; more; first = false) {
    if (hook) hook("pack");
    if (stop_now()) return end();
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(CheckOpen());
    RINGDB_RETURN_IF_ERROR(BackgroundError());
    Status s = tree_->PackParent(options_.compact_leaf_fill, first, from,
                                 applied_lsn_.load(std::memory_order_acquire), &packed, &next,
                                 &more);
    if (!s.ok()) return s.WithContext("compact: packing leaves");
    if (lay_out) {
      // The parent just packed: PackParent and LeafRun walk alike.
      std::string same_next;
      bool same_more = false;
      RINGDB_RETURN_IF_ERROR(
          PlaceLeafRun(first, from, PageStore::Place::kAtEnd, &same_next, &same_more));
    }
    from.swap(next);
  }
  // Packing freed the pages it emptied and moved the rest; a checkpoint
  // writes them and makes the old slots free, and the second pass and the
  // rounds below move the pages beyond the new size into them. Before each
  // checkpoint the pages to write are written without the writers' lock
  // (WriteAhead), so the checkpoint, which holds writers back, finds
  // little left to write.
  auto checkpoint = [this, &hook]() -> Status {
    WriteAhead();
    if (hook) hook("checkpoint");
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(CheckOpen());
    return CheckpointLocked();
  };
  RINGDB_RETURN_IF_ERROR(checkpoint());
  if (stop_now()) return end();
  if (lay_out) RINGDB_RETURN_IF_ERROR(OrderLeaves(checkpoint, stop_now));
  if (*stopped) return end();
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds; round++) {
    if (stop_now()) return end();
    {
      MutexLock lock(&write_mu_);
      RINGDB_RETURN_IF_ERROR(CheckOpen());
      uint64_t target = 0;
      std::vector<PageId> movers = store_->PagesToMoveDown(&target);
      if (movers.empty()) {
        if (store_->stats().slots <= target || round > 0) break;
        // Nothing can move yet, but the last checkpoint may have freed the
        // end of the file: one more checkpoint lets the store cut it.
      }
      for (PageId id : movers) {
        Result<PageGuard> g = pool_->Fetch(id, LatchMode::kExclusive);
        if (!g.ok()) {
          return g.status().WithContext("compact: reading page " + std::to_string(id.value));
        }
        g->MarkDirty(g->lsn());  // same contents, same LSN: only its place changes
      }
    }
    RINGDB_RETURN_IF_ERROR(checkpoint());
  }
  // Whole: the writes that make the tree sparse again count from here.
  compacted_at_ = start;
  return end();
}

bool DBImpl::RoomToLayOutLeaves() {
  // The first pass of the layout writes the leaves past the end of the
  // file (it grows by about the size of the leaves). On a file system
  // without room for that beyond the reserve and what a checkpoint needs
  // (CheckSpaceLocked's terms), the layout is skipped: Compact still packs
  // and shrinks, and a nearly full disk is not filled by an optional step.
  MutexLock lock(&write_mu_);
  const uint64_t need = store_->stats().live_pages * pool_->page_size();
  struct statvfs v;
  if (::statvfs(dir_.c_str(), &v) != 0) return true;
  const uint64_t total = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
  const uint64_t free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  const uint64_t keep = ReserveFor(total) + CheckpointBytes(pool_->dirty_pages());
  if (free >= need + keep) return true;
  Log("compact: leaves not laid out in key order: that needs " + HumanBytes(need) +
      " free beside " + HumanBytes(keep) + " kept free; the file system has " +
      HumanBytes(free));
  return false;
}

Status DBImpl::PlaceLeafRun(bool first, std::string_view from, PageStore::Place where,
                            std::string* next, bool* more) {
  std::vector<PageId> run, placed;
  Status s = tree_->LeafRun(first, from, &run, next, more);
  if (!s.ok()) return s.WithContext("compact: ordering the leaves");
  store_->PlaceInOrder(run, where, &placed);
  (void)pool_->Prefetch(placed);  // one batch of reads; errors surface on Fetch
  for (PageId id : placed) {
    Result<PageGuard> g = pool_->Fetch(id, LatchMode::kExclusive);
    if (!g.ok()) {
      // The pages placed but not dirtied stay where they are (the
      // checkpoint gives their new slots back).
      return g.status().WithContext("compact: reading page " + std::to_string(id.value));
    }
    g->MarkDirty(g->lsn());  // same contents, same LSN: only its place changes
  }
  return Status::OK();
}

Status DBImpl::OrderLeaves(const std::function<Status()>& checkpoint,
                           const std::function<bool()>& stop) {
  // Each parent of leaves and its leaves, in key order, get consecutive
  // slots (PageStore::PlaceInOrder), so a scan reads neighbouring leaves
  // at neighbouring offsets: the kernel merges a read-ahead batch into a
  // few large requests instead of one per leaf. The packing wrote them past
  // the end of the file, in order, and its checkpoint freed their old
  // slots; this pass writes them, in order, into the lowest free slots: the
  // low part of the file, which emptied but for the few upper inner pages.
  // The rounds after it move what is left beyond the new size down, and
  // the end is cut off. A parent whose leaves already sit in order low in
  // the file (a second Compact) is skipped. One parent at a time under
  // write_mu_, as packing.
  std::string from, next;
  for (bool first = true, more = true; more; first = false) {
    if (compact_step_hook_) compact_step_hook_("order");
    // Stopped midway, the parents laid out so far keep their new slots
    // (the checkpoint below is skipped: the next one writes them).
    if (stop()) return Status::OK();
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(CheckOpen());
    RINGDB_RETURN_IF_ERROR(BackgroundError());
    RINGDB_RETURN_IF_ERROR(PlaceLeafRun(first, from, PageStore::Place::kLowest, &next, &more));
    from.swap(next);
  }
  return checkpoint();
}

Status DBImpl::LeafOffsetsForTest(std::vector<uint64_t>* offsets) {
  offsets->clear();
  MutexLock lock(&write_mu_);
  std::string from, next;
  std::vector<PageId> run;
  for (bool first = true, more = true; more; first = false) {
    RINGDB_RETURN_IF_ERROR(tree_->LeafRun(first, from, &run, &next, &more));
    // run[0] is the parent (or, alone, the root leaf).
    for (size_t i = run.size() == 1 ? 0 : 1; i < run.size(); i++) {
      Result<uint64_t> at = store_->ReadOffset(run[i]);
      if (!at.ok()) return at.status();
      offsets->push_back(at.value());
    }
    from.swap(next);
  }
  return Status::OK();
}

void DBImpl::WriteAhead() {
  // As the page cleaner writes cold pages (db_cleaner.cc): under shadow
  // paging each goes to a slot no checkpoint names yet, so the write is
  // safe at any time; the checkpoint then finds the page clean. Pages that
  // writers change meanwhile (newer LSNs) are left to the checkpoint, and
  // so are errors (the pages stay dirty and the checkpoint reports them).
  const Lsn upto = applied_lsn_.load(std::memory_order_acquire);
  constexpr size_t kBatch = 4096;
  for (;;) {
    if (background_severity() != Severity::kNone) return;
    MutexLock flush(&flush_mu_);
    Result<size_t> r = pool_->FlushCold(upto, kBatch);
    if (!r.ok() || r.value() == 0) return;
  }
}

}  // namespace ringdb
