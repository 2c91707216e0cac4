// BTree::Delete: optimistic leaf update, else a pessimistic descent, then
// rebalancing underfull nodes (btree_rebalance.cc) and shrinking the root.
#include "engine/btree.h"
#include "engine/btree_overflow.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

namespace {

// The fill below which a node wants a merge (or, when the pair does not
// fit in one page, an even share of its sibling's cells): a third for
// leaves, so delete-heavy loads keep leaves fuller, yet below the half that
// a split leaves (no merge-split ping-pong); a quarter for inner nodes,
// which are few.
uint32_t MinUsed(const NodeView& v) { return v.Capacity() / (v.is_leaf() ? 3 : 4); }

bool Underfull(const NodeView& v) { return v.count() == 0 || v.Used() < MinUsed(v); }

}  // namespace

Status BTree::Delete(std::string_view key, Lsn lsn, bool* existed) {
  *existed = false;
  std::vector<PageId> to_free;
  {
    LeafSpot at;
    RINGDB_RETURN_IF_ERROR(FindInLeaf(key, LatchMode::kExclusive, &at));
    if (!at.found) return Status::OK();
    NodeView v = View(at.leaf);
    bool stays_full = v.count() > 1 && v.Used() - at.cell.size - kSlotSize >= MinUsed(v);
    if (at.height == 1 || stays_full) {
      RINGDB_RETURN_IF_ERROR(CollectCellBlobs(at.cell, &to_free));
      RemoveCell(at.leaf.mutable_data(), page_size_, at.idx);
      at.leaf.MarkDirty(lsn);
      *existed = true;
    }
  }
  if (!*existed) RINGDB_RETURN_IF_ERROR(DeletePessimistic(key, lsn, existed, &to_free));
  FreePages(to_free);
  return Status::OK();
}

Status BTree::DeletePessimistic(std::string_view key, Lsn lsn, bool* existed,
                                std::vector<PageId>* to_free) {
  const uint32_t max_cell = MaxCellSize(page_size_) + kSlotSize;
  auto safe = [&](const NodeView& v, bool is_root) {
    if (is_root) return v.is_leaf() || v.count() >= 2;
    return v.count() >= 2 && v.Used() >= MinUsed(v) + max_cell;
  };
  Path path;
  RINGDB_RETURN_IF_ERROR(DescendExclusive(key, safe, &path));

  PageGuard& leaf = path.nodes.back().guard;
  int idx;
  bool found;
  LeafCell c;
  RINGDB_RETURN_IF_ERROR(FindCell(View(leaf), key, &idx, &found, &c));
  if (!found) return Status::OK();
  RINGDB_RETURN_IF_ERROR(CollectCellBlobs(c, to_free));
  RemoveCell(leaf.mutable_data(), page_size_, idx);
  leaf.MarkDirty(lsn);
  *existed = true;

  for (size_t lvl = path.nodes.size() - 1; lvl >= 1; --lvl) {
    if (!Underfull(View(path.nodes[lvl].guard))) break;
    if (Rebalance(&path, lvl, lsn, to_free) != Rebalanced::kMerged) break;
  }
  ShrinkRoot(&path, lsn, to_free);
  return Status::OK();
}

void BTree::ShrinkRoot(Path* path, Lsn lsn, std::vector<PageId>* to_free) {
  if (!path->meta.valid()) return;
  PageGuard& root = path->nodes[0].guard;
  NodeView v = View(root);
  if (v.is_leaf() || v.count() != 0) return;
  // One child left: it becomes the root.
  char* m = path->meta.mutable_data();
  Store<uint64_t>(m + kMetaRootOff, v.link0().value);
  Store<uint32_t>(m + kMetaHeightOff, Load<uint32_t>(m + kMetaHeightOff) - 1);
  path->meta.MarkDirty(lsn);
  to_free->push_back(root.id());
  // The caller releases every guard before freeing.
  path->nodes.clear();
  path->meta.Release();
}

}  // namespace ringdb
