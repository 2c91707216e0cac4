// DBImpl::Compact: packs the leaves (BTree::PackLeaves), then moves live
// pages down so the data file can shrink to about the pages in use. See
// db.h.
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
  std::lock_guard<std::mutex> lock(write_mu_);
  RINGDB_RETURN_IF_ERROR(CheckpointLocked());
  // First the leaves are packed (btree_pack.cc), which frees the pages it
  // empties; a checkpoint makes their slots free, and the rounds below move
  // the pages beyond the new size into them. The pages change content, not
  // keys: they take the LSN of the last batch applied (every log record up
  // to it is durable after the checkpoint above).
  BTree::PackStats packed;
  Status s = tree_->PackLeaves(options_.compact_leaf_fill, applied_lsn_.load(), &packed);
  if (!s.ok()) return s.WithContext("compact: packing leaves");
  RINGDB_RETURN_IF_ERROR(CheckpointLocked());
  constexpr int kMaxRounds = 4;
  for (int round = 0; round < kMaxRounds; round++) {
    uint64_t target = 0;
    std::vector<PageId> movers = store_->PagesToMoveDown(&target);
    if (movers.empty()) {
      if (store_->stats().slots <= target || round > 0) break;
      // Nothing can move yet, but the last checkpoint may have freed the
      // end of the file: one more checkpoint lets the store cut it.
    }
    for (PageId id : movers) {
      Result<PageGuard> g = pool_->Fetch(id, LatchMode::kExclusive);
      if (!g.ok()) return g.status().WithContext("compact: reading page " + std::to_string(id.value));
      g->MarkDirty(g->lsn());  // same contents, same LSN: only its place changes
    }
    RINGDB_RETURN_IF_ERROR(CheckpointLocked());
  }
  return store_->DropReservation();
}

}  // namespace ringdb
