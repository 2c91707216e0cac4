// BTree::Put: optimistic leaf update, else a pessimistic descent and
// splits. Every page a split needs is allocated and created before the first
// page is changed, so a failure leaves the tree as it was.
#include <algorithm>

#include "engine/btree.h"
#include "engine/btree_overflow.h"
#include "ringdb/db.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

Status BTree::Put(std::string_view key, std::string_view value, Lsn lsn) {
  if (key.size() > kMaxKeySize) return Status::InvalidArgument("btree: key too long");
  if (value.size() > kMaxValueSize) return Status::InvalidArgument("btree: value too long");
  std::vector<PageId> created;  // blob pages of the new cell
  KeyRef kref;
  kref.inline_key = key;
  kref.full_len = static_cast<uint32_t>(key.size());
  if (key.size() > MaxInlineKey(page_size_)) {
    RINGDB_RETURN_IF_ERROR(WriteBlob(pool_, alloc_, key, lsn, &created));
    kref.overflow = true;
    kref.blob = created[0];
    kref.inline_key = key.substr(0, KeyPrefixLen(page_size_));
  }
  size_t key_part =
      kLeafCellHeader + LeafOverflowFields(kref.overflow, false) + kref.inline_key.size();
  bool value_overflow = key_part + value.size() > MaxCellSize(page_size_);
  PageId value_blob;
  if (value_overflow) {
    std::vector<PageId> pages;
    Status s = WriteBlob(pool_, alloc_, value, lsn, &pages);
    if (!s.ok()) {
      FreePages(created);
      return s;
    }
    value_blob = pages[0];
    created.insert(created.end(), pages.begin(), pages.end());
  }
  thread_local std::string cell;
  EncodeLeafCell(kref, value_overflow, value, value.size(), value_blob, &cell);
  std::vector<PageId> to_free;
  Status s = PutCell(key, cell, lsn, &to_free);
  if (!s.ok()) {
    FreePages(created);
    return s;
  }
  FreePages(to_free);
  return Status::OK();
}

Status BTree::MakeSeparator(std::string_view sep, Lsn lsn, KeyRef* ref,
                            std::vector<PageId>* blob) {
  ref->inline_key = sep;
  ref->full_len = static_cast<uint32_t>(sep.size());
  ref->overflow = false;
  ref->blob = PageId{};
  if (sep.size() <= MaxInlineKey(page_size_)) return Status::OK();
  RINGDB_RETURN_IF_ERROR(WriteBlob(pool_, alloc_, sep, lsn, blob));
  ref->overflow = true;
  ref->blob = (*blob)[0];
  ref->inline_key = sep.substr(0, KeyPrefixLen(page_size_));
  return Status::OK();
}

Status BTree::PutCell(std::string_view key, std::string_view cell, Lsn lsn,
                      std::vector<PageId>* to_free) {
  if (TryAppend(key, cell, lsn)) return Status::OK();
  {
    LeafSpot at;
    RINGDB_RETURN_IF_ERROR(FindInLeaf(key, LatchMode::kExclusive, &at));
    NodeView v = View(at.leaf);
    if (InsertFits(v, cell, at.found ? at.idx : -1)) {
      if (at.found) {
        RINGDB_RETURN_IF_ERROR(CollectCellBlobs(at.cell, to_free));
      } else {
        NoteInsert(at.leaf.id(), at.idx == v.count());
      }
      WriteCell(&at.leaf, at.idx, /*replace=*/at.found, cell, lsn);
      return Status::OK();
    }
  }
  return PutPessimistic(key, cell, lsn, to_free);
}

bool BTree::TryAppend(std::string_view key, std::string_view cell, Lsn lsn) {
  // Sequential inserts skip the descent (PostgreSQL's fastpath for the
  // rightmost leaf). The hint only saves the walk; what makes the insert
  // right is checked on the latched page: a leaf with no right sibling has
  // no upper fence, so a key after its last key belongs there. A freed page
  // is never the hint (FreePages clears it).
  if (!last_append_leaf_.valid()) return false;
  PageGuard leaf;
  if (!FetchNode(last_append_leaf_, LatchMode::kExclusive, 0, &leaf).ok()) {
    last_append_leaf_ = PageId{};  // the descent reports whatever went wrong
    return false;
  }
  NodeView v = View(leaf);
  if (!v.is_leaf() || v.link1().valid() || v.count() == 0) return false;
  int idx;
  bool found;
  LeafCell old;
  if (!FindCell(v, key, &idx, &found, &old).ok() || found || idx != v.count()) return false;
  if (!InsertFits(v, cell, -1)) return false;  // a split: the descent does it
  WriteCell(&leaf, idx, /*replace=*/false, cell, lsn);
  ++appends_;
  return true;
}

Status BTree::PutPessimistic(std::string_view key, std::string_view cell, Lsn lsn,
                             std::vector<PageId>* to_free) {
  // A node is safe when what may be inserted into it fits, whatever prefix
  // it breaks.
  auto safe = [&](const NodeView& v, bool /*is_root*/) {
    return v.is_leaf() ? InsertFits(v, cell) : v.FreeTotal() >= WorstInsertNeed(v);
  };
  Path path;
  RINGDB_RETURN_IF_ERROR(DescendExclusive(key, safe, &path));

  PageGuard& leaf = path.nodes.back().guard;
  NodeView v = View(leaf);
  int idx;
  bool found;
  LeafCell old;
  RINGDB_RETURN_IF_ERROR(FindCell(v, key, &idx, &found, &old));
  if (found) {
    // Collected before any change; freed by the caller only on success.
    size_t mark = to_free->size();
    Status s = CollectCellBlobs(old, to_free);
    if (!s.ok()) {
      to_free->resize(mark);
      return s;
    }
  }
  if (InsertFits(v, cell, found ? idx : -1)) {
    if (!found) NoteInsert(leaf.id(), idx == v.count());
    WriteCell(&leaf, idx, /*replace=*/found, cell, lsn);
    return Status::OK();
  }
  // The leaf is full. An append (the key lands after the last cell of the
  // rightmost leaf, or of the leaf the last insert appended to) splits
  // there; any other insert first tries to make room in a sibling.
  const bool append =
      !found && idx == v.count() && (!v.link1().valid() || leaf.id() == last_append_leaf_);
  size_t mark = to_free->size();
  Status s;
  if (!append && path.nodes.size() >= 2) {
    bool shifted = false;
    s = ShiftToSibling(&path, cell, idx, found, lsn, to_free, &shifted);
    if (s.ok() && shifted) {
      NoteInsert(PageId{}, false);
      return Status::OK();
    }
  }
  if (s.ok()) s = SplitAndInsert(&path, key, cell, idx, found, append, lsn);
  if (!s.ok()) to_free->resize(mark);  // the old cell stays: keep its blobs
  return s;
}

Status BTree::ShiftToSibling(Path* path, std::string_view cell, int idx, bool found, Lsn lsn,
                             std::vector<PageId>* to_free, bool* shifted) {
  *shifted = false;
  PathEntry& up = path->nodes[path->nodes.size() - 2];
  PageGuard& leaf = path->nodes.back().guard;
  const int ci = up.child;
  const int siblings = View(up.guard).count();

  // Every cell of the pair after the insert, copied as whole cells: both
  // pages are rewritten from them. A sibling with room for the new cell
  // takes part. (Asking for room for two or three such cells shifts
  // less and leaves random loads at 82% or 81% leaf fill instead of 84%,
  // measured with 116-byte entries.)
  auto try_pair = [&](PageGuard* left, PageGuard* right, int right_ci, bool leaf_first) {
    NodeView sib = View(leaf_first ? *right : *left);
    if (!sib.ValidateCells().ok() || sib.FreeTotal() < cell.size() + kSlotSize) return false;
    std::vector<std::string> owned;
    if (!leaf_first) AppendWholeCells(sib, &owned);
    AppendWholeCells(View(leaf), &owned, idx, cell, found);
    if (leaf_first) AppendWholeCells(sib, &owned);
    std::vector<std::string_view> all = CellViews(owned);
    size_t split = BalancedSplit(all, true, page_size_);
    if (split == 0) return false;
    return MoveSplitPoint(&up.guard, right_ci, left, right, all, split, lsn, to_free);
  };

  // 1. The right sibling: latched after the leaf, as the order wants.
  if (ci < siblings) {
    PageId rid;
    PageGuard right;
    if (View(up.guard).ChildAt(ci + 1, &rid).ok() &&
        FetchNode(rid, LatchMode::kExclusive, 0, &right).ok() &&
        try_pair(&leaf, &right, ci + 1, true)) {
      *shifted = true;
      return Status::OK();
    }
  }
  // 2. The left sibling: let go of the leaf, latch the sibling, then the
  // leaf again. The parent's exclusive latch keeps both unchanged meanwhile.
  if (ci > 0) {
    PageId lid, self = leaf.id();
    if (!View(up.guard).ChildAt(ci - 1, &lid).ok()) return Status::OK();
    leaf.Release();
    PageGuard left;
    Status s = FetchNode(lid, LatchMode::kExclusive, 0, &left);
    if (!s.ok()) {
      ++rebalance_errors_;
      left.Release();
    }
    RINGDB_RETURN_IF_ERROR(FetchNode(self, LatchMode::kExclusive, 0, &leaf));
    if (s.ok() && try_pair(&left, &leaf, ci, false)) *shifted = true;
  }
  return Status::OK();
}

Status BTree::SplitAndInsert(Path* path, std::string_view /*key*/, std::string_view cell,
                             int idx, bool found, bool append, Lsn lsn) {
  PageGuard& leaf = path->nodes.back().guard;
  NodeView v = View(leaf);
  // 1. The leaf's cells after the operation, where they split, and the
  // shortest separator. An append keeps the leaf as it is (InnoDB's split
  // at the insertion point): the new cell alone starts the right leaf, and
  // only the leaf's last cell is copied, for the separator.
  std::vector<std::string> owned;
  std::vector<std::string_view> cells;
  size_t split;
  std::string sep;
  if (append && !found && idx == v.count() && v.count() > 0) {
    owned.resize(1);
    RINGDB_RETURN_IF_ERROR(v.FullCell(v.count() - 1, &owned[0]));
    RINGDB_RETURN_IF_ERROR(LeafSeparator(v, owned[0], cell, &sep));
    cells = {cell};
    split = 0;  // every cell of `cells` goes right; the leaf keeps its own
  } else {
    AppendWholeCells(v, &owned, idx, cell, found);
    cells = CellViews(owned);
    RINGDB_RETURN_IF_ERROR(ChooseLeafSplit(v, cells, append, &split, &sep));
  }
  // 2. Every page the split may need, allocated and created first.
  SplitPages pages;
  RINGDB_RETURN_IF_ERROR(PrepareSplit(*path, v.link1(), sep, lsn, &pages));
  // 3. Nothing below can fail: split the leaf, then insert (separator,
  // right) into the parents, splitting upward.
  PageId right = SplitLeaf(&leaf, cells, split, &pages, lsn);
  // The new cell is the right leaf's last: the next append may go there.
  NoteInsert(right, split == 0 || (!found && static_cast<size_t>(idx) + 1 == cells.size()));
  std::string promote;
  EncodeInnerCell(pages.sep, right, &promote);
  InsertUpward(path, std::move(promote), append, &pages, lsn);
  // 4. Give back what the split did not need.
  std::vector<PageId> unused;
  for (size_t i = pages.used; i < pages.fresh.size(); ++i) unused.push_back(pages.fresh[i].id());
  pages.fresh.clear();
  pages.next_leaf.Release();
  path->nodes.clear();
  path->meta.Release();
  FreePages(unused);
  return Status::OK();
}

Status BTree::LeafSeparator(const NodeView& v, std::string_view left_cell,
                            std::string_view right_cell, std::string* sep) {
  LeafCell lc, rc;
  std::string left_key, right_key;
  RINGDB_RETURN_IF_ERROR(ParseLeafCell(left_cell, v.id(), &lc));
  RINGDB_RETURN_IF_ERROR(ParseLeafCell(right_cell, v.id(), &rc));
  RINGDB_RETURN_IF_ERROR(FullKey(lc.key, &left_key));
  RINGDB_RETURN_IF_ERROR(FullKey(rc.key, &right_key));
  if (left_key >= right_key) return v.Corrupt("leaf keys out of order");
  sep->assign(ShortestSeparator(left_key, right_key));
  return Status::OK();
}

Status BTree::ChooseLeafSplit(const NodeView& v, std::span<const std::string_view> cells,
                              bool append, size_t* split, std::string* sep) {
  // An append keeps the leaf as full as it was: the new cell starts the
  // right leaf (InnoDB's split at the insertion point).
  *split = append ? cells.size() - 1 : BalancedSplit(cells, true, page_size_);
  if (*split == 0) return v.Corrupt("cells too large to split");
  return LeafSeparator(v, cells[*split - 1], cells[*split], sep);
}

Status BTree::PrepareSplit(const Path& path, PageId old_next, std::string_view sep, Lsn lsn,
                           SplitPages* pages) {
  // A new right leaf, a sibling for each inner node held (each may split)
  // and a new root when the root may split.
  const size_t new_pages = path.nodes.size() + (path.meta.valid() ? 1 : 0);
  std::vector<PageId> ids;
  auto fail = [&](const Status& s) {
    pages->fresh.clear();
    pages->next_leaf.Release();
    for (PageId id : ids) alloc_->Free(id);
    for (PageId id : pages->sep_blob) alloc_->Free(id);
    pages->sep_blob.clear();
    return s;
  };
  for (size_t i = 0; i < new_pages; ++i) {
    auto r = alloc_->Allocate();
    if (!r.ok()) return fail(r.status());
    ids.push_back(*r);
  }
  Status s = MakeSeparator(sep, lsn, &pages->sep, &pages->sep_blob);
  if (!s.ok()) return fail(s);
  if (old_next.valid()) {
    s = FetchNode(old_next, LatchMode::kExclusive, 0, &pages->next_leaf);
    if (!s.ok()) return fail(s);
  }
  for (PageId id : ids) {
    auto g = pool_->NewPage(id);
    if (!g.ok()) return fail(g.status());
    pages->fresh.push_back(std::move(*g));
  }
  return Status::OK();
}

PageId BTree::SplitLeaf(PageGuard* leaf, std::span<const std::string_view> cells, size_t split,
                        SplitPages* pages, Lsn lsn) {
  PageGuard& right = pages->fresh[pages->used++];
  const PageId old_next = View(*leaf).link1();
  InitNode(right.mutable_data(), page_size_, kPageTypeLeaf, 0, leaf->id(), old_next);
  RebuildNode(right.mutable_data(), page_size_, cells.subspan(split));
  // split == 0: `cells` are the right leaf's only; the leaf keeps its own.
  if (split > 0) RebuildNode(leaf->mutable_data(), page_size_, cells.first(split));
  SetLink1(leaf->mutable_data(), right.id());
  if (pages->next_leaf.valid()) {
    SetLink0(pages->next_leaf.mutable_data(), right.id());
    pages->next_leaf.MarkDirty(lsn);
  }
  right.MarkDirty(lsn);
  leaf->MarkDirty(lsn);
  return right.id();
}

void BTree::InsertUpward(Path* path, std::string promote, bool append, SplitPages* pages,
                         Lsn lsn) {
  std::string next_promote;
  for (size_t level = path->nodes.size() - 1; level-- > 0;) {
    PageGuard& parent = path->nodes[level].guard;
    const int pos = path->nodes[level].child;  // the new child goes right after child `pos`
    if (InsertFits(View(parent), promote)) {
      InsertCell(parent.mutable_data(), page_size_, pos, promote);
      parent.MarkDirty(lsn);
      return;
    }
    SplitInner(&parent, pos, promote, append, pages, lsn, &next_promote);
    promote.swap(next_promote);
  }
  // The root split: a new root above it.
  RINGDB_CHECK(path->meta.valid());
  PageGuard& old_root = path->nodes[0].guard;
  PageGuard& new_root = pages->fresh[pages->used++];
  uint16_t level = View(old_root).level() + 1;
  InitNode(new_root.mutable_data(), page_size_, kPageTypeInner, level, old_root.id(), PageId{});
  InsertCell(new_root.mutable_data(), page_size_, 0, promote);
  new_root.MarkDirty(lsn);
  char* m = path->meta.mutable_data();
  Store<uint64_t>(m + kMetaRootOff, new_root.id().value);
  Store<uint32_t>(m + kMetaHeightOff, Load<uint32_t>(m + kMetaHeightOff) + 1);
  path->meta.MarkDirty(lsn);
}

void BTree::SplitInner(PageGuard* node, int pos, std::string_view promote, bool append,
                       SplitPages* pages, Lsn lsn, std::string* next_promote) {
  NodeView v = View(*node);
  std::vector<std::string> owned;
  AppendWholeCells(v, &owned, pos, promote);
  std::vector<std::string_view> cells = CellViews(owned);
  // On the append path, when the separator lands at the node's end, the
  // node keeps all but its last cell, which moves up, and the new node
  // starts with the separator (a full inner node holds at least 4 cells).
  // Otherwise a split always exists: the cells on either side of the new
  // one share the node's old prefix, so they fit as they did.
  size_t m = append && pos == v.count() ? cells.size() - 2
                                        : BalancedSplit(cells, false, page_size_);
  RINGDB_CHECK(m != 0);
  InnerCell mid;
  RINGDB_CHECK(ParseInnerCell(cells[m], node->id(), &mid).ok());
  PageGuard& sib = pages->fresh[pages->used++];
  InitNode(sib.mutable_data(), page_size_, kPageTypeInner, v.level(), mid.child, PageId{});
  RebuildNode(sib.mutable_data(), page_size_, std::span(cells).subspan(m + 1));
  InnerCellWithChild(cells[m], sib.id(), next_promote);
  RebuildNode(node->mutable_data(), page_size_, std::span(cells).first(m));
  sib.MarkDirty(lsn);
  node->MarkDirty(lsn);
}

}  // namespace ringdb
