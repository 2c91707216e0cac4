// BTree::PackParent: rewrites the leaves nearly full, for DBImpl::Compact.
//
// Random inserts leave a B+tree's leaves about 85% full even with the
// shifts into siblings Put does before a split (btree_put.cc): each split
// leaves two halves that fill up again slowly. An LSM writes its files full
// at each compaction; Compact does the same for the leaves, so a database
// that was loaded at random takes as few pages as its data needs (and a
// scan or a cache holds more entries per page).
//
// Compact walks the parents of leaves in key order, one per call, and lets
// writers in between (each call finds its parent by the high fence of the
// last one, so splits and merges meanwhile do not lose its place). Under
// one parent the leaves are taken in pairs, left to right: when the pair's
// cells fit in the left one within the budget the right one is merged into
// it and freed (MergePair), else cells move left until the left one is as
// full as the budget allows (MoveSplitPoint, with a new separator in the
// parent); then the right one becomes the next left. Cells do not move
// across parents, so each parent's last leaf keeps what it has. Both steps
// are the ones Delete's rebalancing uses (btree_rebalance.cc): they change
// a pair and its parent under exclusive latches, and readers (optimistic
// or latching, btree.h) see the tree before or after each step.
#include <algorithm>

#include "engine/btree.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

Status BTree::PackParent(double fill, bool first, std::string_view from, Lsn lsn,
                         PackStats* stats, std::string* next, bool* more) {
  *more = false;
  if (!(fill >= 0.5 && fill <= 1.0)) {
    return Status::InvalidArgument("leaf fill " + std::to_string(fill) + " is not in [0.5, 1]");
  }
  const uint64_t budget = static_cast<uint64_t>(fill * NodeCapacity(page_size_));
  std::vector<PageId> to_free;
  Status s;
  {
    PageGuard parent;
    s = LatchLeafParent(first, from, &parent, next, more);
    if (s.ok() && parent.valid()) s = PackChildren(&parent, budget, lsn, stats, &to_free);
  }
  FreePages(to_free);  // no latch is held here
  return s;
}

Status BTree::LeafRun(bool first, std::string_view from, std::vector<PageId>* ids,
                      std::string* next, bool* more) {
  ids->clear();
  *more = false;
  PageGuard parent;
  RINGDB_RETURN_IF_ERROR(LatchLeafParent(first, from, &parent, next, more));
  if (!parent.valid()) {  // the root is the only leaf
    PageGuard root;
    uint32_t height;
    RINGDB_RETURN_IF_ERROR(LatchRootShared(&root, &height));
    ids->push_back(root.id());
    return Status::OK();
  }
  const NodeView v = View(parent);
  RINGDB_RETURN_IF_ERROR(v.ValidateCells());
  ids->push_back(parent.id());
  for (int i = 0; i <= v.count(); ++i) {
    PageId child;
    RINGDB_RETURN_IF_ERROR(v.ChildAt(i, &child));
    ids->push_back(child);
  }
  return Status::OK();
}

Status BTree::LatchLeafParent(bool first, std::string_view key, PageGuard* parent,
                              std::string* high, bool* has_high) {
  *has_high = false;
  PageGuard cur;
  uint32_t height;
  RINGDB_RETURN_IF_ERROR(LatchRootShared(&cur, &height));
  if (height < 2) return Status::OK();  // the root is the only leaf
  uint32_t level = height - 1;
  if (level == 1) {
    // The root is the parent. Only this writer changes the tree, so it is
    // still the root when latched again, exclusively.
    const PageId id = cur.id();
    cur.Release();
    return FetchNode(id, LatchMode::kExclusive, 1, parent);
  }
  while (level > 1) {
    NodeView v = View(cur);
    int idx = 0;
    if (!first) RINGDB_RETURN_IF_ERROR(InnerSearch(v, key, /*strict=*/false, &idx));
    if (idx < v.count()) {
      InnerCell c;
      RINGDB_RETURN_IF_ERROR(v.InnerCellAt(idx, &c));
      RINGDB_RETURN_IF_ERROR(FullKey(c.key, high));
      *has_high = true;
    }
    PageId child;
    RINGDB_RETURN_IF_ERROR(v.ChildAt(idx, &child));
    --level;
    PageGuard below;
    RINGDB_RETURN_IF_ERROR(FetchNode(
        child, level == 1 ? LatchMode::kExclusive : LatchMode::kShared, level, &below));
    cur = std::move(below);
  }
  *parent = std::move(cur);
  return Status::OK();
}

Status BTree::PackChildren(PageGuard* parent_guard, uint64_t budget, Lsn lsn, PackStats* stats,
                           std::vector<PageId>* to_free) {
  PageGuard& parent = *parent_guard;
  const PageId parent_id = parent.id();
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
