// Moving cells between sibling nodes under one parent. BTree::Rebalance:
// after a delete, merge an underfull node with a sibling, or move cells over
// from that sibling when the two do not fit in one page. MoveSplitPoint:
// the shared step that rewrites a pair and its parent separator (also used
// by Put's shift before a split, btree_put.cc). Called by the single writer
// with the parent, the node and (after this file fetches it) the sibling
// latched exclusively, left before right.
#include "engine/btree.h"
#include "engine/btree_overflow.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

BTree::Rebalanced BTree::Rebalance(Path* path, size_t level, Lsn lsn,
                                   std::vector<PageId>* to_free) {
  PageGuard& parent = path->nodes[level - 1].guard;
  // 1. Latch the pair, left before right.
  PageGuard left, right;
  int right_ci;
  if (!LatchPair(path, level, &left, &right, &right_ci)) return Rebalanced::kNone;
  // 2. Every cell of the pair, left to right, as whole cells (both pages
  // are rewritten from them).
  std::vector<std::string> owned;
  if (!PairCells(View(parent), right_ci, View(left), View(right), &owned)) {
    ++rebalance_errors_;
    return Rebalanced::kNone;
  }
  std::vector<std::string_view> cells = CellViews(owned);
  const bool leaf = View(left).is_leaf();
  // 3a. Merge right into left when they fit in one page.
  if (PackedSize(cells, leaf, page_size_) <= NodeCapacity(page_size_)) {
    if (!MergePair(&parent, right_ci, &left, &right, cells, lsn, to_free)) {
      ++rebalance_errors_;
      return Rebalanced::kNone;
    }
    return Rebalanced::kMerged;
  }
  // 3b. Redistribute: split the combined cells evenly; the parent's
  // separator for right changes.
  if (cells.size() < (leaf ? 2u : 3u)) return Rebalanced::kNone;
  size_t split = BalancedSplit(cells, leaf, page_size_);
  if (split == 0 || split == static_cast<size_t>(View(left).count())) {
    return Rebalanced::kNone;  // nothing moves
  }
  if (!MoveSplitPoint(&parent, right_ci, &left, &right, cells, split, lsn, to_free)) {
    return Rebalanced::kNone;
  }
  return Rebalanced::kRedistributed;
}

bool BTree::LatchPair(Path* path, size_t level, PageGuard* left, PageGuard* right,
                      int* right_ci) {
  NodeView pv = View(path->nodes[level - 1].guard);
  const int ci = path->nodes[level - 1].child;
  const uint32_t node_level = pv.level() - 1;
  Status s;
  if (ci < pv.count()) {
    *left = std::move(path->nodes[level].guard);
    PageId rid;
    s = pv.ChildAt(ci + 1, &rid);
    if (s.ok()) s = FetchNode(rid, LatchMode::kExclusive, node_level, right);
    *right_ci = ci + 1;
  } else if (ci > 0) {
    // Let go of this node, latch its left sibling, then latch it again.
    // The parent's exclusive latch keeps both unchanged meanwhile.
    PageId self = path->nodes[level].guard.id(), lid;
    path->nodes[level].guard.Release();
    s = pv.ChildAt(ci - 1, &lid);
    if (s.ok()) s = FetchNode(lid, LatchMode::kExclusive, node_level, left);
    if (s.ok()) s = FetchNode(self, LatchMode::kExclusive, node_level, right);
    *right_ci = ci;
  } else {
    return false;  // an only child
  }
  if (s.ok()) s = View(*left).ValidateCells();
  if (s.ok()) s = View(*right).ValidateCells();
  if (!s.ok()) ++rebalance_errors_;
  return s.ok();
}

bool BTree::PairCells(const NodeView& pv, int right_ci, const NodeView& lv, const NodeView& rv,
                      std::vector<std::string>* owned) {
  AppendWholeCells(lv, owned);
  if (!rv.is_leaf()) {
    // Between inner nodes the parent's separator comes down, carrying
    // right's leftmost child.
    std::string sep;
    if (!pv.FullCell(right_ci - 1, &sep).ok()) return false;
    owned->emplace_back();
    InnerCellWithChild(sep, rv.link0(), &owned->back());
  }
  AppendWholeCells(rv, owned);
  return true;
}

bool BTree::MergePair(PageGuard* parent, int right_ci, PageGuard* left, PageGuard* right,
                      std::span<const std::string_view> cells, Lsn lsn,
                      std::vector<PageId>* to_free) {
  NodeView rv = View(*right);
  const bool leaf = rv.is_leaf();
  // A leaf separator leaves the parent: its blob goes. (An inner one came
  // down into left with its blob.)
  InnerCell sep;
  std::vector<PageId> old_sep_blob;
  if (!View(*parent).InnerCellAt(right_ci - 1, &sep).ok()) return false;
  if (leaf && sep.key.overflow &&
      !CollectBlobPages(pool_, sep.key.blob, sep.key.full_len, &old_sep_blob).ok()) {
    return false;
  }
  PageGuard next_leaf;
  if (leaf && rv.link1().valid() &&
      !FetchNode(rv.link1(), LatchMode::kExclusive, 0, &next_leaf).ok()) {
    return false;
  }
  // Nothing below can fail.
  const PageId next = rv.link1();
  RebuildNode(left->mutable_data(), page_size_, cells);
  if (leaf) {
    SetLink1(left->mutable_data(), next);
    if (next_leaf.valid()) {
      SetLink0(next_leaf.mutable_data(), left->id());
      next_leaf.MarkDirty(lsn);
    }
  }
  left->MarkDirty(lsn);
  RemoveCell(parent->mutable_data(), page_size_, right_ci - 1);
  parent->MarkDirty(lsn);
  to_free->insert(to_free->end(), old_sep_blob.begin(), old_sep_blob.end());
  to_free->push_back(right->id());
  return true;
}

bool BTree::MoveSplitPoint(PageGuard* parent, int right_ci, PageGuard* left, PageGuard* right,
                           std::span<const std::string_view> all, size_t split, Lsn lsn,
                           std::vector<PageId>* to_free) {
  NodeView pv = View(*parent);
  const bool leaf = View(*left).is_leaf();
  auto error = [&] {
    ++rebalance_errors_;
    return false;
  };
  InnerCell old_sep;
  if (!pv.InnerCellAt(right_ci - 1, &old_sep).ok()) return error();
  std::vector<PageId> old_sep_blob;
  if (leaf && old_sep.key.overflow) {
    // A leaf separator is replaced: its blob goes. (An inner one comes down
    // into a child with its blob.)
    if (!CollectBlobPages(pool_, old_sep.key.blob, old_sep.key.full_len, &old_sep_blob).ok()) {
      return error();
    }
  }
  std::string pcell;
  std::vector<PageId> new_sep_blob;
  PageId right_first;
  if (leaf) {
    std::string sep;
    Status s = LeafSeparator(View(*left), all[split - 1], all[split], &sep);
    KeyRef sref;
    if (s.ok()) s = MakeSeparator(sep, lsn, &sref, &new_sep_blob);
    if (!s.ok()) return error();
    EncodeInnerCell(sref, right->id(), &pcell);
  } else {
    InnerCell mid;
    RINGDB_CHECK(ParseInnerCell(all[split], left->id(), &mid).ok());
    right_first = mid.child;
    InnerCellWithChild(all[split], right->id(), &pcell);
  }
  if (!InsertFits(pv, pcell, right_ci - 1)) {
    for (PageId id : new_sep_blob) alloc_->Free(id);  // never linked
    return false;
  }
  RebuildNode(left->mutable_data(), page_size_, all.first(split));
  RebuildNode(right->mutable_data(), page_size_, all.subspan(leaf ? split : split + 1));
  if (!leaf) SetLink0(right->mutable_data(), right_first);
  RemoveCell(parent->mutable_data(), page_size_, right_ci - 1);
  InsertCell(parent->mutable_data(), page_size_, right_ci - 1, pcell);
  left->MarkDirty(lsn);
  right->MarkDirty(lsn);
  parent->MarkDirty(lsn);
  to_free->insert(to_free->end(), old_sep_blob.begin(), old_sep_blob.end());
  return true;
}

}  // namespace ringdb
