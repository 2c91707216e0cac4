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
  size_t key_part = kLeafCellHeader + (kref.overflow ? kKeyOverflowFields : 0) +
                    kref.inline_key.size();
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
  {
    PageGuard leaf;
    uint32_t height;
    RINGDB_RETURN_IF_ERROR(DescendToLeaf(key, LatchMode::kExclusive, &leaf, &height));
    NodeView v = View(leaf);
    RINGDB_RETURN_IF_ERROR(v.ValidateCells());
    int idx;
    bool found;
    RINGDB_RETURN_IF_ERROR(LeafSearch(v, key, false, &idx, &found));
    if (found) {
      LeafCell old;
      RINGDB_RETURN_IF_ERROR(v.LeafCellAt(idx, &old));
      if (v.FreeTotal() + old.size >= cell.size()) {
        RINGDB_RETURN_IF_ERROR(CollectCellBlobs(old, to_free));
        RemoveCell(leaf.mutable_data(), page_size_, idx);
        InsertCell(leaf.mutable_data(), page_size_, idx, cell);
        leaf.MarkDirty(lsn);
        return Status::OK();
      }
    } else if (v.FreeTotal() >= cell.size() + kSlotSize) {
      InsertCell(leaf.mutable_data(), page_size_, idx, cell);
      leaf.MarkDirty(lsn);
      return Status::OK();
    }
  }
  return PutPessimistic(key, cell, lsn, to_free);
}

Status BTree::PutPessimistic(std::string_view key, std::string_view cell, Lsn lsn,
                             std::vector<PageId>* to_free) {
  const uint32_t inner_need = MaxCellSize(page_size_) + kSlotSize;
  auto safe = [&](const NodeView& v) {
    return v.FreeTotal() >= (v.is_leaf() ? cell.size() + kSlotSize : inner_need);
  };
  Path path;
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kExclusive);
    if (!meta.ok()) return meta.status();
    path.meta = std::move(*meta);
  }
  PageId root;
  uint32_t height;
  RINGDB_RETURN_IF_ERROR(ReadMeta(path.meta, &root, &height));
  uint32_t level = height - 1;
  PathEntry top;
  RINGDB_RETURN_IF_ERROR(FetchNode(root, LatchMode::kExclusive, level, &top.guard));
  if (safe(View(top.guard))) path.meta.Release();
  path.nodes.push_back(std::move(top));
  while (level > 0) {
    NodeView v = View(path.nodes.back().guard);
    int idx;
    RINGDB_RETURN_IF_ERROR(InnerSearch(v, key, false, &idx));
    PageId child;
    RINGDB_RETURN_IF_ERROR(v.ChildAt(idx, &child));
    path.nodes.back().child = idx;
    --level;
    PathEntry e;
    RINGDB_RETURN_IF_ERROR(FetchNode(child, LatchMode::kExclusive, level, &e.guard));
    if (safe(View(e.guard))) {
      path.meta.Release();
      path.nodes.clear();
    }
    path.nodes.push_back(std::move(e));
  }
  for (PathEntry& e : path.nodes) RINGDB_RETURN_IF_ERROR(View(e.guard).ValidateCells());

  PageGuard& leaf = path.nodes.back().guard;
  NodeView v = View(leaf);
  int idx;
  bool found;
  RINGDB_RETURN_IF_ERROR(LeafSearch(v, key, false, &idx, &found));
  LeafCell old;
  if (found) {
    RINGDB_RETURN_IF_ERROR(v.LeafCellAt(idx, &old));
    // Collected before any change; freed by the caller only on success.
    size_t mark = to_free->size();
    Status s = CollectCellBlobs(old, to_free);
    if (!s.ok()) {
      to_free->resize(mark);
      return s;
    }
    if (v.FreeTotal() + old.size >= cell.size()) {
      RemoveCell(leaf.mutable_data(), page_size_, idx);
      InsertCell(leaf.mutable_data(), page_size_, idx, cell);
      leaf.MarkDirty(lsn);
      return Status::OK();
    }
  } else if (v.FreeTotal() >= cell.size() + kSlotSize) {
    InsertCell(leaf.mutable_data(), page_size_, idx, cell);
    leaf.MarkDirty(lsn);
    return Status::OK();
  }
  size_t mark = to_free->size();
  Status s = SplitAndInsert(&path, key, cell, idx, found, lsn);
  if (!s.ok()) to_free->resize(mark);  // the old cell stays: keep its blobs
  return s;
}

Status BTree::SplitAndInsert(Path* path, std::string_view key, std::string_view cell, int idx,
                             bool found, Lsn lsn) {
  const uint32_t cap = NodeCapacity(page_size_);
  PageGuard& leaf = path->nodes.back().guard;
  NodeView v = View(leaf);

  // 1. The leaf's cells after the operation, and where they split.
  std::vector<std::string_view> cells;
  cells.reserve(v.count() + 1);
  for (int i = 0; i < v.count(); ++i) {
    if (i == idx) {
      cells.push_back(cell);
      if (found) continue;
    }
    std::string_view raw;
    RINGDB_RETURN_IF_ERROR(v.CellBytes(i, &raw));
    cells.push_back(raw);
  }
  if (idx == v.count()) cells.push_back(cell);
  size_t split = BalancedSplit(cells, cap, false);
  if (split == 0) return v.Corrupt("cells too large to split");

  // 2. The shortest separator: a prefix of the right side's first key.
  std::string left_key, right_key;
  {
    LeafCell lc, rc;
    RINGDB_RETURN_IF_ERROR(ParseLeafCell(cells[split - 1], leaf.id(), &lc));
    RINGDB_RETURN_IF_ERROR(ParseLeafCell(cells[split], leaf.id(), &rc));
    RINGDB_RETURN_IF_ERROR(FullKey(lc.key, &left_key));
    RINGDB_RETURN_IF_ERROR(FullKey(rc.key, &right_key));
  }
  if (left_key >= right_key) return v.Corrupt("leaf keys out of order");
  std::string_view sep = ShortestSeparator(left_key, right_key);

  // 3. Allocate and create every page the split may need.
  size_t inner_held = path->nodes.size() - 1;
  size_t new_pages = 1 + inner_held + (path->meta.valid() ? 1 : 0);
  std::vector<PageId> ids;
  std::vector<PageId> sep_blob;
  std::vector<PageGuard> fresh;
  PageGuard next_leaf;
  auto fail = [&](const Status& s) {
    fresh.clear();
    next_leaf.Release();
    for (PageId id : ids) alloc_->Free(id);
    for (PageId id : sep_blob) alloc_->Free(id);
    return s;
  };
  for (size_t i = 0; i < new_pages; ++i) {
    auto r = alloc_->Allocate();
    if (!r.ok()) return fail(r.status());
    ids.push_back(*r);
  }
  KeyRef sref;
  {
    Status s = MakeSeparator(sep, lsn, &sref, &sep_blob);
    if (!s.ok()) return fail(s);
  }
  PageId old_next = v.link1();
  if (old_next.valid()) {
    Status s = FetchNode(old_next, LatchMode::kExclusive, 0, &next_leaf);
    if (!s.ok()) return fail(s);
  }
  for (PageId id : ids) {
    auto g = pool_->NewPage(id);
    if (!g.ok()) return fail(g.status());
    fresh.push_back(std::move(*g));
  }

  // 4. Nothing below can fail. Split the leaf.
  size_t used = 0;
  PageGuard& right = fresh[used++];
  InitNode(right.mutable_data(), page_size_, kPageTypeLeaf, 0, leaf.id(), old_next);
  RebuildNode(right.mutable_data(), page_size_,
              std::span<const std::string_view>(cells).subspan(split));
  RebuildNode(leaf.mutable_data(), page_size_,
              std::span<const std::string_view>(cells).first(split));
  SetLink1(leaf.mutable_data(), right.id());
  if (next_leaf.valid()) {
    SetLink0(next_leaf.mutable_data(), right.id());
    next_leaf.MarkDirty(lsn);
  }
  right.MarkDirty(lsn);
  leaf.MarkDirty(lsn);

  // 5. Insert (separator, right) into the parents, splitting upward.
  std::string promote, next_promote;
  EncodeInnerCell(sref, right.id(), &promote);
  for (size_t level = path->nodes.size() - 1; level-- > 0;) {
    PageGuard& parent = path->nodes[level].guard;
    NodeView pv = View(parent);
    int pos = path->nodes[level].child;  // new child goes right after child `pos`
    if (pv.FreeTotal() >= promote.size() + kSlotSize) {
      InsertCell(parent.mutable_data(), page_size_, pos, promote);
      parent.MarkDirty(lsn);
      promote.clear();
      break;
    }
    std::vector<std::string_view> pcells;
    for (int i = 0; i < pv.count(); ++i) {
      if (i == pos) pcells.push_back(promote);
      std::string_view raw;
      RINGDB_CHECK(pv.CellBytes(i, &raw).ok());  // ValidateCells passed
      pcells.push_back(raw);
    }
    if (pos == pv.count()) pcells.push_back(promote);
    size_t m = BalancedSplit(pcells, cap, true);
    RINGDB_CHECK(m != 0);  // cells are at most MaxCellSize (ValidateCells)
    InnerCell mid;
    RINGDB_CHECK(ParseInnerCell(pcells[m], parent.id(), &mid).ok());
    PageGuard& sib = fresh[used++];
    InitNode(sib.mutable_data(), page_size_, kPageTypeInner, pv.level(), mid.child, PageId{});
    RebuildNode(sib.mutable_data(), page_size_,
                std::span<const std::string_view>(pcells).subspan(m + 1));
    InnerCellWithChild(pcells[m], sib.id(), &next_promote);
    RebuildNode(parent.mutable_data(), page_size_,
                std::span<const std::string_view>(pcells).first(m));
    sib.MarkDirty(lsn);
    parent.MarkDirty(lsn);
    promote.swap(next_promote);
  }
  if (!promote.empty()) {
    // The root split: a new root above it.
    RINGDB_CHECK(path->meta.valid());
    PageGuard& old_root = path->nodes[0].guard;
    PageGuard& new_root = fresh[used++];
    uint16_t level = View(old_root).level() + 1;
    InitNode(new_root.mutable_data(), page_size_, kPageTypeInner, level, old_root.id(), PageId{});
    InsertCell(new_root.mutable_data(), page_size_, 0, promote);
    new_root.MarkDirty(lsn);
    char* m = path->meta.mutable_data();
    Store<uint64_t>(m + kMetaRootOff, new_root.id().value);
    Store<uint32_t>(m + kMetaHeightOff, Load<uint32_t>(m + kMetaHeightOff) + 1);
    path->meta.MarkDirty(lsn);
  }
  // Give back what the split did not need.
  std::vector<PageId> unused;
  for (size_t i = used; i < fresh.size(); ++i) unused.push_back(fresh[i].id());
  fresh.clear();
  next_leaf.Release();
  path->nodes.clear();
  path->meta.Release();
  FreePages(unused);
  return Status::OK();
}

}  // namespace ringdb
