// BTree::PackLeaves: rewrites the leaves nearly full, for DBImpl::Compact.
//
// Random inserts leave a B+tree's leaves about 85% full even with the
// shifts into siblings Put does before a split (btree_put.cc): each split
// leaves two halves that fill up again slowly. An LSM writes its files full
// at each compaction; Compact does the same for the leaves, so a database
// that was loaded at random takes as few pages as its data needs (and a
// scan or a cache holds more entries per page).
//
// The pass walks the parents of leaves in key order. Under one parent it
// takes the leaves in pairs, left to right: when the pair's cells fit in
// the left one within the budget the right one is merged into it and freed
// (MergePair), else cells move left until the left one is as full as the
// budget allows (MoveSplitPoint, with a new separator in the parent); then
// the right one becomes the next left. Leaves are not moved across
// parents, so each parent's last leaf keeps what it has. Both steps are
// the ones Delete's rebalancing uses (btree_rebalance.cc): they change a
// pair and its parent under exclusive latches, and readers (optimistic or
// latching, btree.h) see the tree before or after each step.
#include <algorithm>

#include "engine/btree.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

Status BTree::PackLeaves(double fill, Lsn lsn, PackStats* stats) {
  *stats = PackStats{};
  if (!(fill >= 0.5 && fill <= 1.0)) {
    return Status::InvalidArgument("leaf fill " + std::to_string(fill) + " is not in [0.5, 1]");
  }
  const uint64_t budget = static_cast<uint64_t>(fill * NodeCapacity(page_size_));
  std::vector<PageId> parents;
  RINGDB_RETURN_IF_ERROR(CollectLeafParents(&parents));
  if (parents.empty()) {
    stats->leaves_before = stats->leaves_after = 1;  // the root is the only leaf
    return Status::OK();
  }
  std::vector<PageId> to_free;
  for (PageId p : parents) {
    Status s = PackChildren(p, budget, lsn, stats, &to_free);
    FreePages(to_free);  // no latch is held here
    to_free.clear();
    RINGDB_RETURN_IF_ERROR(s);
  }
  return Status::OK();
}

Status BTree::CollectLeafParents(std::vector<PageId>* ids) {
  std::function<Status(const PageGuard&, uint32_t)> walk = [&](const PageGuard& g,
                                                               uint32_t level) -> Status {
    if (level == 1) {
      ids->push_back(g.id());
      return Status::OK();
    }
    NodeView v = View(g);
    for (int i = 0; i <= v.count(); ++i) {
      PageId child;
      RINGDB_RETURN_IF_ERROR(v.ChildAt(i, &child));
      PageGuard cg;
      RINGDB_RETURN_IF_ERROR(FetchNode(child, LatchMode::kShared, level - 1, &cg));
      RINGDB_RETURN_IF_ERROR(walk(cg, level - 1));
    }
    return Status::OK();
  };
  PageGuard root;
  uint32_t height;
  RINGDB_RETURN_IF_ERROR(LatchRootShared(&root, &height));
  if (height < 2) return Status::OK();
  return walk(root, height - 1);
}

Status BTree::PackChildren(PageId parent_id, uint64_t budget, Lsn lsn, PackStats* stats,
                           std::vector<PageId>* to_free) {
  PageGuard parent;
  RINGDB_RETURN_IF_ERROR(FetchNode(parent_id, LatchMode::kExclusive, 1, &parent));
  RINGDB_RETURN_IF_ERROR(View(parent).ValidateCells());
  // The children as they are now. Each step consumes the next of them as
  // the right leaf of the pair, whether it is merged or becomes the left.
  std::vector<PageId> kids(View(parent).count() + 1);
  for (size_t i = 0; i < kids.size(); ++i) {
    RINGDB_RETURN_IF_ERROR(View(parent).ChildAt(static_cast<int>(i), &kids[i]));
  }
  stats->leaves_before += kids.size();
  auto failed = [&](PageId a, PageId b) {
    return Status::IOError("packing leaves " + std::to_string(a.value) + " and " +
                           std::to_string(b.value) + " under page " +
                           std::to_string(parent_id.value) + " failed");
  };
  // Read ahead in one batch per window: the pass reads every leaf once.
  const size_t window = std::clamp<size_t>(pool_->num_frames() / 8, 1, 64);
  size_t read_to = 0;
  auto read_ahead = [&](size_t from) {
    if (from < read_to) return;
    read_to = std::min(kids.size(), from + window);
    (void)pool_->Prefetch(std::span<const PageId>(kids).subspan(from, read_to - from));
  };
  read_ahead(0);
  PageGuard left;
  RINGDB_RETURN_IF_ERROR(FetchNode(kids[0], LatchMode::kExclusive, 0, &left));
  RINGDB_RETURN_IF_ERROR(View(left).ValidateCells());
  int left_ci = 0;
  std::vector<std::string> owned;
  for (size_t k = 1; k < kids.size(); ++k) {
    read_ahead(k);
    PageId rid;
    RINGDB_RETURN_IF_ERROR(View(parent).ChildAt(left_ci + 1, &rid));
    if (rid != kids[k]) {
      return Status::Corruption("page " + std::to_string(parent_id.value) +
                                " changed under compaction's leaf packing");
    }
    PageGuard right;
    RINGDB_RETURN_IF_ERROR(FetchNode(rid, LatchMode::kExclusive, 0, &right));
    RINGDB_RETURN_IF_ERROR(View(right).ValidateCells());
    owned.clear();
    AppendWholeCells(View(left), &owned);
    const size_t left_count = owned.size();
    AppendWholeCells(View(right), &owned);
    std::vector<std::string_view> cells = CellViews(owned);
    const uint64_t errors = rebalance_errors_;
    if (PackedSize(cells, /*leaf=*/true, page_size_) <= budget) {
      if (!MergePair(&parent, left_ci + 1, &left, &right, cells, lsn, to_free)) {
        return failed(left.id(), rid);
      }
      ++stats->merged;
      continue;  // `left` takes the next leaf too; `right` is freed later
    }
    const size_t split = PackedPrefix(cells, budget, page_size_);
    if (split > left_count) {
      if (MoveSplitPoint(&parent, left_ci + 1, &left, &right, cells, split, lsn, to_free)) {
        ++stats->moved;
      } else if (rebalance_errors_ != errors) {
        return failed(left.id(), rid);
      }  // else the new separator did not fit in the parent: leave the pair
    }
    left = std::move(right);
    ++left_ci;
  }
  stats->leaves_after += left_ci + 1;
  return Status::OK();
}

}  // namespace ringdb
