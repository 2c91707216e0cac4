// DBImpl::Compact: packs the leaves (BTree::PackParent, one parent of
// leaves at a time), then moves live pages down so the data file can
// shrink to about the pages in use. See db.h.
//
// A checkpointed page is never rewritten in place (page_store.h), so
// marking a page dirty and checkpointing moves it to the lowest free slot.
// Round by round: the pages beyond the target size are dirtied and a
// checkpoint writes them low; the next checkpoint frees their old slots and
// cuts the free end of the file off. A few rounds settle it (the page map
// itself may land high once and move down the next time).
#include "engine/db_impl.h"

namespace ringdb {

Status DBImpl::Compact() {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::InvalidArgument("database is open read-only");
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
  // First the leaves are packed (btree_pack.cc), one parent of leaves at a
  // time under write_mu_, so a writer waits for one parent's packing at
  // most, not for the whole pass. The pages change content, not keys: they
  // take the LSN of the last batch applied, so none is written before the
  // log holds every change it carries (GateWrite).
  BTree::PackStats packed;
  std::string from, next;
  for (bool first = true, more = true; more; first = false) {
    if (compact_step_hook_) compact_step_hook_("pack");
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(CheckOpen());
    RINGDB_RETURN_IF_ERROR(BackgroundError());
    Status s = tree_->PackParent(options_.compact_leaf_fill, first, from,
                                 applied_lsn_.load(std::memory_order_acquire), &packed, &next,
                                 &more);
    if (!s.ok()) return s.WithContext("compact: packing leaves");
    from.swap(next);
  }
  // Packing freed the pages it emptied; a checkpoint makes their slots
  // free, and the rounds below move the pages beyond the new size into
  // them. Before each checkpoint the pages to write are written without the
  // writers' lock (WriteAhead), so the checkpoint, which holds writers
  // back, finds little left to write.
  auto checkpoint = [this]() -> Status {
    WriteAhead();
    if (compact_step_hook_) compact_step_hook_("checkpoint");
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(CheckOpen());
    return CheckpointLocked();
  };
  RINGDB_RETURN_IF_ERROR(checkpoint());
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds; round++) {
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
  MutexLock lock(&write_mu_);
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  return store_->DropReservation();
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
