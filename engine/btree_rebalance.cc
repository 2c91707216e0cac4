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
  const uint32_t cap = NodeCapacity(page_size_);
  PageGuard& parent = path->nodes[level - 1].guard;
  NodeView pv = View(parent);
  int ci = path->nodes[level - 1].child;
  uint32_t node_level = pv.level() - 1;
  auto give_up = [&] {
    ++rebalance_errors_;
    return Rebalanced::kNone;
  };

  // 1. Latch the pair, left before right.
  PageGuard left, right;
  int right_ci;
  Status s;
  if (ci < pv.count()) {
    left = std::move(path->nodes[level].guard);
    PageId rid;
    s = pv.ChildAt(ci + 1, &rid);
    if (s.ok()) s = FetchNode(rid, LatchMode::kExclusive, node_level, &right);
    right_ci = ci + 1;
  } else if (ci > 0) {
    // Let go of this node, latch its left sibling, then latch it again.
    // The parent's exclusive latch keeps both unchanged meanwhile.
    PageId self = path->nodes[level].guard.id(), lid;
    path->nodes[level].guard.Release();
    s = pv.ChildAt(ci - 1, &lid);
    if (s.ok()) s = FetchNode(lid, LatchMode::kExclusive, node_level, &left);
    if (s.ok()) s = FetchNode(self, LatchMode::kExclusive, node_level, &right);
    right_ci = ci;
  } else {
    return Rebalanced::kNone;  // an only child
  }
  if (s.ok()) s = View(left).ValidateCells();
  if (s.ok()) s = View(right).ValidateCells();
  InnerCell sep;
  std::string_view sep_raw;
  if (s.ok()) s = pv.InnerCellAt(right_ci - 1, &sep);
  if (s.ok()) s = pv.CellBytes(right_ci - 1, &sep_raw);
  if (!s.ok()) return give_up();
  NodeView lv = View(left), rv = View(right);
  const bool leaf = lv.is_leaf();

  // 2. Every cell of the pair, left to right, copied (both pages are
  // rewritten from them). Between inner nodes the parent's separator comes
  // down, carrying right's leftmost child.
  std::vector<std::string> owned;
  owned.reserve(lv.count() + rv.count() + 1);
  for (int i = 0; i < lv.count(); ++i) {
    std::string_view c;
    RINGDB_CHECK(lv.CellBytes(i, &c).ok());  // ValidateCells passed
    owned.emplace_back(c);
  }
  if (!leaf) {
    owned.emplace_back();
    InnerCellWithChild(sep_raw, rv.link0(), &owned.back());
  }
  for (int i = 0; i < rv.count(); ++i) {
    std::string_view c;
    RINGDB_CHECK(rv.CellBytes(i, &c).ok());
    owned.emplace_back(c);
  }
  std::vector<std::string_view> cells(owned.begin(), owned.end());
  uint64_t total = 0;
  for (std::string_view c : cells) total += c.size() + kSlotSize;

  if (total <= cap) {
    // 3a. Merge right into left. A leaf separator leaves the parent: its
    // blob goes.
    std::vector<PageId> old_sep_blob;
    if (leaf && sep.key.overflow) {
      if (!CollectBlobPages(pool_, sep.key.blob, sep.key.full_len, &old_sep_blob).ok()) {
        return give_up();
      }
    }
    PageGuard next_leaf;
    if (leaf && rv.link1().valid()) {
      if (!FetchNode(rv.link1(), LatchMode::kExclusive, 0, &next_leaf).ok()) return give_up();
    }
    PageId next = rv.link1();
    RebuildNode(left.mutable_data(), page_size_, cells);
    if (leaf) {
      SetLink1(left.mutable_data(), next);
      if (next_leaf.valid()) {
        SetLink0(next_leaf.mutable_data(), left.id());
        next_leaf.MarkDirty(lsn);
      }
    }
    left.MarkDirty(lsn);
    RemoveCell(parent.mutable_data(), page_size_, right_ci - 1);
    parent.MarkDirty(lsn);
    to_free->insert(to_free->end(), old_sep_blob.begin(), old_sep_blob.end());
    to_free->push_back(right.id());
    return Rebalanced::kMerged;
  }

  // 3b. Redistribute: split the combined cells evenly; the parent's
  // separator for right changes.
  if (cells.size() < (leaf ? 2u : 3u)) return Rebalanced::kNone;
  size_t split = BalancedSplit(cells, cap, !leaf);
  if (split == 0 || split == static_cast<size_t>(lv.count())) {
    return Rebalanced::kNone;  // nothing moves
  }
  if (!MoveSplitPoint(&parent, right_ci, &left, &right, cells, split, lsn, to_free)) {
    return Rebalanced::kNone;
  }
  return Rebalanced::kRedistributed;
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
    LeafCell lc, rc;
    std::string lkey, rkey;
    Status s = ParseLeafCell(all[split - 1], left->id(), &lc);
    if (s.ok()) s = ParseLeafCell(all[split], left->id(), &rc);
    if (s.ok()) s = FullKey(lc.key, &lkey);
    if (s.ok()) s = FullKey(rc.key, &rkey);
    if (s.ok() && lkey >= rkey) s = View(*left).Corrupt("leaf keys out of order");
    KeyRef sref;
    if (s.ok()) s = MakeSeparator(ShortestSeparator(lkey, rkey), lsn, &sref, &new_sep_blob);
    if (!s.ok()) return error();
    EncodeInnerCell(sref, right->id(), &pcell);
  } else {
    InnerCell mid;
    RINGDB_CHECK(ParseInnerCell(all[split], left->id(), &mid).ok());
    right_first = mid.child;
    InnerCellWithChild(all[split], right->id(), &pcell);
  }
  if (pv.FreeTotal() + old_sep.size < pcell.size()) {
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
