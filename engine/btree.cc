// BTree: formatting, opening, key search, the descents, point reads and MultiGet
// (its read pipeline, PrefetchPaths, is btree_prefetch.cc).
#include "engine/btree.h"

#include <algorithm>
#include <mutex>
#include <numeric>

#include "engine/btree_overflow.h"
#include "ringdb/db.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

namespace {

Status MetaCorrupt(PageId id, std::string_view what) {
  return Status::Corruption("btree meta page " + std::to_string(id.value) + ": " +
                            std::string(what));
}

void WriteMeta(char* p, uint32_t page_size, PageId root, uint32_t height) {
  std::memset(p + kMetaOff, 0, 32);
  Store<uint16_t>(p + kMetaTypeOff, kPageTypeMeta);
  Store<uint16_t>(p + kMetaVersionOff, kMetaFormatVersion);
  Store<uint32_t>(p + kMetaPageSizeOff, page_size);
  Store<uint64_t>(p + kMetaTagOff, kMetaFormatTag);
  Store<uint64_t>(p + kMetaRootOff, root.value);
  Store<uint32_t>(p + kMetaHeightOff, height);
}

}  // namespace

Result<PageId> BTree::Create(BufferPool* pool, PageAllocator* alloc, Lsn lsn) {
  auto meta = alloc->Allocate();
  if (!meta.ok()) return meta.status();
  auto root = alloc->Allocate();
  if (!root.ok()) {
    alloc->Free(*meta);
    return root.status();
  }
  auto fail = [&](const Status& s) {
    alloc->Free(*meta);
    alloc->Free(*root);
    return s;
  };
  uint32_t ps = pool->page_size();
  {
    auto rg = pool->NewPage(*root);
    if (!rg.ok()) return fail(rg.status());
    InitNode(rg->mutable_data(), ps, kPageTypeLeaf, 0, PageId{}, PageId{});
    rg->MarkDirty(lsn);
  }
  {
    auto mg = pool->NewPage(*meta);
    if (!mg.ok()) return fail(mg.status());
    WriteMeta(mg->mutable_data(), ps, *root, 1);
    mg->MarkDirty(lsn);
  }
  return *meta;
}

Result<std::unique_ptr<BTree>> BTree::Open(BufferPool* pool, PageAllocator* alloc, PageId meta) {
  std::unique_ptr<BTree> tree(new BTree(pool, alloc, meta, pool->page_size()));
  // Every node is checked whole once, when it is read from disk (the pool
  // calls this before anyone sees the page); writers then edit cached nodes
  // without re-checking them, since the mutators keep a node valid.
  const uint32_t page_size = pool->page_size();
  pool->SetReadCheck([page_size](PageId id, const char* page) {
    return VerifyNodePage(id, page, page_size);
  });
  auto g = pool->Fetch(meta, LatchMode::kShared);
  if (!g.ok()) return g.status();
  PageId root;
  uint32_t height;
  RINGDB_RETURN_IF_ERROR(tree->ReadMeta(g->data(), meta, &root, &height, /*at_open=*/true));
  return tree;
}

Status BTree::ReadMeta(const char* p, PageId id, PageId* root, uint32_t* height,
                       bool at_open) const {
  if (Load<uint16_t>(p + kMetaTypeOff) != kPageTypeMeta ||
      Load<uint64_t>(p + kMetaTagOff) != kMetaFormatTag) {
    return MetaCorrupt(id, "not a tree meta page");
  }
  if (uint16_t version = Load<uint16_t>(p + kMetaVersionOff); version != kMetaFormatVersion) {
    // As the superblock and the log answer for their versions.
    std::string what = "btree meta page " + std::to_string(id.value) + ": tree format version " +
                       std::to_string(version) + ", this build reads only version " +
                       std::to_string(kMetaFormatVersion) +
                       " (dump it with the ringdb that wrote it, then load it into a new"
                       " database)";
    return at_open ? Status::NotSupported(what) : Status::Corruption(what);
  }
  if (Load<uint32_t>(p + kMetaPageSizeOff) != page_size_) {
    return MetaCorrupt(id, "formatted for another page size");
  }
  *root = PageId{Load<uint64_t>(p + kMetaRootOff)};
  *height = Load<uint32_t>(p + kMetaHeightOff);
  if (!root->valid() || *root == id) return MetaCorrupt(id, "bad root id");
  if (*height < 1 || *height > kMaxHeight) return MetaCorrupt(id, "bad height");
  return Status::OK();
}

Status BTree::FetchNode(PageId id, LatchMode mode, uint32_t level, PageGuard* out) {
  if (!id.valid() || id == meta_) {
    return Status::Corruption("btree: bad child page id " + std::to_string(id.value));
  }
  auto r = pool_->Fetch(id, mode);
  if (!r.ok()) return r.status();
  // Constant time, on the cache line the search reads first anyway (the
  // miss it takes is the search's): what SearchSlots needs to read the slot
  // array safely. Cells are bounds-checked when parsed; the whole node
  // (every slot head against its key) is checked by the read check when the
  // page is read from disk, and by Verify.
  NodeView v(r->data(), page_size_, id);
  RINGDB_RETURN_IF_ERROR(v.Validate());
  if (v.level() != level) return v.Corrupt("node level does not match its depth");
  if (level > 0) r->KeepResident();  // inner nodes stay cached ahead of leaves
  *out = std::move(*r);
  return Status::OK();
}

uint32_t BTree::Height() {
  auto g = pool_->Fetch(meta_, LatchMode::kShared);
  if (!g.ok()) return 0;
  PageId root;
  uint32_t height;
  if (!ReadMeta(*g, &root, &height).ok()) return 0;
  return height;
}

Status BTree::FullKey(const KeyRef& k, std::string* out) {
  if (!k.overflow) {
    k.InlineTo(out);
    return Status::OK();
  }
  RINGDB_RETURN_IF_ERROR(ReadBlobString(pool_, k.blob, k.full_len, out));
  std::string_view full(*out);
  if (full.substr(0, k.prefix.size()) != k.prefix ||
      full.substr(k.prefix.size(), k.inline_key.size()) != k.inline_key) {
    return Status::Corruption("btree overflow page " + std::to_string(k.blob.value) +
                              ": key does not match its inline prefix");
  }
  return Status::OK();
}

namespace {

// Compares a's first bytes with b: <0 / >0 where they differ, else 0.
int ComparePart(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  return n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
}

}  // namespace

Status BTree::CompareKey(std::string_view search, const KeyRef& k, int* cmp, bool inline_only) {
  // The stored key's inline part is its node prefix, then its stored bytes.
  int c = ComparePart(search, k.prefix);
  if (c == 0 && search.size() < k.prefix.size()) c = -1;  // every key has the prefix
  if (c == 0) c = ComparePart(search.substr(k.prefix.size()), k.inline_key);
  if (c != 0) {
    *cmp = c;
    return Status::OK();
  }
  if (!k.overflow || search.size() <= k.inline_size()) {
    // Without overflow the lengths decide; with overflow the stored key is
    // longer than its inline part, so a search key no longer than it is
    // smaller.
    size_t stored = k.full_size();
    *cmp = search.size() < stored ? -1 : (search.size() > stored ? 1 : 0);
    return Status::OK();
  }
  if (inline_only) return Status::Busy("overflowed key");
  thread_local std::string full;
  RINGDB_RETURN_IF_ERROR(FullKey(k, &full));
  *cmp = search.compare(full);
  *cmp = *cmp < 0 ? -1 : (*cmp > 0 ? 1 : 0);
  return Status::OK();
}

Status BTree::SearchNode(const NodeView& v, std::string_view key, bool upper, int* idx,
                         bool* found, bool inline_only) {
  auto tie = [&](int i, int* cmp) {
    KeyRef k;
    // An inline key without parsing the rest of its cell; else every field.
    if (v.InlineSuffix(i, &k.inline_key)) {
      k.prefix = v.prefix();
    } else {
      RINGDB_RETURN_IF_ERROR(v.KeyAt(i, &k));
    }
    return CompareKey(key, k, cmp, inline_only);
  };
  return SearchSlots(v, key, upper, tie, idx, found);
}

Status BTree::LeafSearch(const NodeView& v, std::string_view key, bool upper, int* idx,
                         bool* found) {
  return SearchNode(v, key, upper, idx, found);
}

Status BTree::FindCell(const NodeView& v, std::string_view key, int* idx, bool* found,
                       LeafCell* cell) {
  RINGDB_RETURN_IF_ERROR(LeafSearch(v, key, false, idx, found));
  return *found ? v.LeafCellAt(*idx, cell) : Status::OK();
}

Status BTree::FindInLeaf(std::string_view key, LatchMode leaf_mode, LeafSpot* spot) {
  RINGDB_RETURN_IF_ERROR(DescendToLeaf(key, leaf_mode, &spot->leaf, &spot->height));
  return FindCell(View(spot->leaf), key, &spot->idx, &spot->found, &spot->cell);
}

void BTree::WriteCell(PageGuard* leaf, int idx, bool replace, std::string_view cell, Lsn lsn) {
  if (replace) RemoveCell(leaf->mutable_data(), page_size_, idx);
  InsertCell(leaf->mutable_data(), page_size_, idx, cell);
  leaf->MarkDirty(lsn);
}

Status BTree::InnerSearch(const NodeView& v, std::string_view key, bool strict, int* child,
                          bool inline_only) {
  // Number of separators s with s <= key (s < key when strict).
  bool found;
  return SearchNode(v, key, !strict, child, &found, inline_only);
}

Status BTree::LatchRootShared(PageGuard* root, uint32_t* height) {
  auto meta = pool_->Fetch(meta_, LatchMode::kShared);
  if (!meta.ok()) return meta.status();
  PageId id;
  RINGDB_RETURN_IF_ERROR(ReadMeta(*meta, &id, height));
  return FetchNode(id, LatchMode::kShared, *height - 1, root);
}

Status BTree::DescendToLeaf(std::string_view key, LatchMode leaf_mode, PageGuard* leaf,
                            uint32_t* height) {
  auto meta = pool_->Fetch(meta_, LatchMode::kShared);
  if (!meta.ok()) return meta.status();
  PageId root;
  RINGDB_RETURN_IF_ERROR(ReadMeta(*meta, &root, height));
  uint32_t level = *height - 1;
  PageGuard cur;
  RINGDB_RETURN_IF_ERROR(
      FetchNode(root, level == 0 ? leaf_mode : LatchMode::kShared, level, &cur));
  meta->Release();
  while (level > 0) {
    NodeView v = View(cur);
    int idx;
    RINGDB_RETURN_IF_ERROR(InnerSearch(v, key, false, &idx));
    PageId child;
    RINGDB_RETURN_IF_ERROR(v.ChildAt(idx, &child));
    --level;
    PageGuard next;
    RINGDB_RETURN_IF_ERROR(
        FetchNode(child, level == 0 ? leaf_mode : LatchMode::kShared, level, &next));
    cur = std::move(next);  // releases the parent after the child is latched
  }
  *leaf = std::move(cur);
  return Status::OK();
}

Status BTree::DescendExclusive(std::string_view key,
                               const std::function<bool(const NodeView&, bool)>& safe,
                               Path* path) {
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kExclusive);
    if (!meta.ok()) return meta.status();
    path->meta = std::move(*meta);
  }
  PageId root;
  uint32_t height;
  RINGDB_RETURN_IF_ERROR(ReadMeta(path->meta, &root, &height));
  uint32_t level = height - 1;
  PathEntry top;
  RINGDB_RETURN_IF_ERROR(FetchNode(root, LatchMode::kExclusive, level, &top.guard));
  if (safe(View(top.guard), true)) path->meta.Release();
  path->nodes.push_back(std::move(top));
  while (level > 0) {
    NodeView v = View(path->nodes.back().guard);
    int idx;
    RINGDB_RETURN_IF_ERROR(InnerSearch(v, key, false, &idx));
    PageId child;
    RINGDB_RETURN_IF_ERROR(v.ChildAt(idx, &child));
    path->nodes.back().child = idx;
    --level;
    PathEntry e;
    RINGDB_RETURN_IF_ERROR(FetchNode(child, LatchMode::kExclusive, level, &e.guard));
    if (safe(View(e.guard), false)) {
      path->meta.Release();
      path->nodes.clear();
    }
    path->nodes.push_back(std::move(e));
  }
  return Status::OK();
}

Status BTree::ReadValue(const LeafCell& c, std::string* value) {
  if (!c.value_overflow) {
    value->assign(c.inline_value);
    return Status::OK();
  }
  if (c.value_len > kMaxValueSize) {
    return Status::Corruption("btree: overflowed value length " + std::to_string(c.value_len) +
                              " exceeds the limit");
  }
  return ReadBlobString(pool_, c.value_blob, c.value_len, value);
}

Status BTree::CollectCellBlobs(const LeafCell& c, std::vector<PageId>* ids) {
  if (c.key.overflow) RINGDB_RETURN_IF_ERROR(CollectBlobPages(pool_, c.key.blob, c.key.full_len, ids));
  if (c.value_overflow) {
    RINGDB_RETURN_IF_ERROR(CollectBlobPages(pool_, c.value_blob, c.value_len, ids));
  }
  return Status::OK();
}

// ---- Optimistic reading --------------------------------------------------

void BTree::BeginBatch() {
  batch_mu_.Lock();
  // Any page the batch changes is unlatched (a release) after this, so a
  // reader that sees such a page also sees the odd sequence.
  batch_seq_.fetch_add(1, std::memory_order_relaxed);
}

void BTree::EndBatch() {
  batch_seq_.fetch_add(1, std::memory_order_release);
  batch_mu_.Unlock();
}

BTree::Opt BTree::OptimisticRoot(OptimisticGuard* root, uint32_t* level, Reads reads,
                                 MissAt* miss) {
  OptimisticGuard meta;  // the meta page is never freed
  if (reads == Reads::kNoWait) {
    if (pool_->ProbeOptimistic(meta_, &meta) != BufferPool::Probe::kHit) return Opt::kMiss;
  } else {
    auto r = pool_->FetchOptimistic(meta_);
    if (!r.ok()) return Opt::kFallback;
    meta = *r;
  }
  PageId id;
  uint32_t height;
  if (!ReadMeta(meta.data(), meta_, &id, &height).ok()) return Torn(meta);
  *level = height - 1;
  Opt o = OptimisticChild(meta, id, root, reads);
  if (o == Opt::kMiss && miss != nullptr) *miss = {id, *level};
  if (o != Opt::kOk) return o;
  return OptimisticNode(*root, *level);
}

BTree::Opt BTree::OptimisticChild(const OptimisticGuard& parent, PageId id,
                                  OptimisticGuard* child, Reads reads) {
  if (!parent.Validate()) return Opt::kRestart;  // `id` may be torn
  if (!id.valid() || id == meta_) return Opt::kFallback;
  if (reads == Reads::kNoWait) {
    if (pool_->ProbeOptimistic(id, child) != BufferPool::Probe::kHit) return Opt::kMiss;
  } else if (!pool_->TryFetchOptimistic(id, child)) {
    if (reads == Reads::kNo) return Opt::kMiss;
    // A miss reads the page with the parent latched shared at the version
    // that named it: no writer can unlink (and so free) the child
    // meanwhile, and the read cannot evict the parent (latch coupling for
    // the miss only).
    PageGuard pin;
    if (!parent.TryLatch(LatchMode::kShared, &pin)) return Opt::kRestart;
    auto r = pool_->FetchOptimistic(id);
    if (!r.ok()) return Opt::kFallback;  // the pessimistic path reports it
    *child = *r;
  }
  return parent.Validate() ? Opt::kOk : Opt::kRestart;
}

BTree::Opt BTree::OptimisticNode(const OptimisticGuard& g, uint32_t level) {
  NodeView v(g.data(), page_size_, g.id());
  if (!v.Validate().ok() || v.level() != level) return Torn(g);
  // Inner nodes stay cached ahead of leaves. A torn image that passed the
  // checks above only lends the priority to a page until it leaves.
  if (level > 0) g.KeepResident();
  return Opt::kOk;
}

BTree::Opt BTree::GetOptimistic(std::string_view key, std::string* value, Status* result,
                                Reads reads, MissAt* miss) {
  OptimisticGuard node;
  uint32_t level;
  Opt o = OptimisticRoot(&node, &level, reads, miss);
  if (o != Opt::kOk) return o;
  for (; level > 0; --level) {
    NodeView v(node.data(), page_size_, node.id());
    int idx;
    PageId child;
    if (!InnerSearch(v, key, false, &idx, true).ok() || !v.ChildAt(idx, &child).ok()) {
      return Torn(node);
    }
    OptimisticGuard next;
    o = OptimisticChild(node, child, &next, reads);
    if (o == Opt::kMiss && miss != nullptr) *miss = {child, level - 1};
    if (o == Opt::kOk) o = OptimisticNode(next, level - 1);
    if (o != Opt::kOk) return o;
    node = next;
  }
  NodeView v(node.data(), page_size_, node.id());
  int idx;
  bool found;
  if (!SearchNode(v, key, false, &idx, &found, true).ok()) return Torn(node);
  if (!found) {
    if (!node.Validate()) return Opt::kRestart;
    *result = Status::NotFound();
    return Opt::kOk;
  }
  LeafCell c;
  if (!v.LeafCellAt(idx, &c).ok()) return Torn(node);
  if (c.value_overflow) return Torn(node);  // blob pages are read latched
  value->assign(c.inline_value);
  if (!node.Validate()) return Opt::kRestart;
  *result = Status::OK();
  return Opt::kOk;
}

Status BTree::Get(std::string_view key, std::string* value) {
  return Optimistically([&](Status* r) { return GetOptimistic(key, value, r, Reads::kYes); },
                        [&]() REQUIRES_SHARED(batch_mu_) { return GetPessimistic(key, value); });
}

Status BTree::GetPessimistic(std::string_view key, std::string* value) {
  LeafSpot at;
  RINGDB_RETURN_IF_ERROR(FindInLeaf(key, LatchMode::kShared, &at));
  if (!at.found) return Status::NotFound();
  return ReadValue(at.cell, value);
}

void BTree::MultiGet(std::span<const std::string_view> keys, std::vector<std::string>* values,
                     std::vector<Status>* statuses) {
  values->resize(keys.size());
  statuses->assign(keys.size(), Status::OK());
  std::vector<size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  const size_t chunk = PrefetchChunk();
  std::vector<std::string_view> sorted;
  // Optimistic: every key is looked up without reading; the keys whose
  // path missed have their pages read by the pipeline, each walk starting
  // at the page its first look missed, and are looked up again as their
  // leaves come in (while the other reads are in flight). Past the first
  // chunk of PrefetchChunk() keys the walks start at the root
  // (PrefetchPaths) and the lookups follow each chunk. The whole call is
  // one read of the tree as far as batches go (batch_seq_ checked at the
  // end).
  auto lookup = [&](size_t k, Reads reads, MissAt* miss) {
    for (int restarts = 0; restarts < 16; ++restarts) {
      OptimisticReadScope scope;
      Opt o = GetOptimistic(keys[k], &(*values)[k], &(*statuses)[k], reads, miss);
      if (o != Opt::kRestart) return o;
    }
    return Opt::kFallback;
  };
  std::vector<size_t> missed;
  std::vector<MissAt> miss_at;
  std::vector<uint8_t> done;
  for (int attempt = 0; attempt < kOptimisticAttempts; ++attempt) {
    uint64_t seq = batch_seq_.load(std::memory_order_acquire);
    if (seq & 1) break;
    missed.clear();
    miss_at.clear();
    bool fallback = false;
    size_t first = 0;  // keys of the first chunk
    {
      // Shared from the first look to the end of the first chunk's reads:
      // the pages the first look named stay allocated until read.
      std::shared_lock gate(free_gate_);
      for (size_t i = 0; i < order.size() && !fallback; ++i) {
        MissAt at;
        Opt o = lookup(order[i], Reads::kNo, &at);
        if (o == Opt::kMiss) {
          missed.push_back(order[i]);
          miss_at.push_back(at);
        }
        fallback = o == Opt::kFallback;
      }
      first = fallback ? 0 : std::min(missed.size(), chunk);
      if (first > 0) {
        sorted.clear();
        for (size_t i = 0; i < first; ++i) sorted.push_back(keys[missed[i]]);
        done.assign(first, 0);
        PrefetchMissed(sorted, std::span<const MissAt>(miss_at).first(first), [&](size_t i) {
          done[i] = lookup(missed[i], Reads::kNoWait, nullptr) == Opt::kOk;
        });
      }
    }
    for (size_t i = 0; i < first && !fallback; ++i) {
      if (!done[i]) fallback = lookup(missed[i], Reads::kYes, nullptr) != Opt::kOk;
    }
    for (size_t b = first; b < missed.size() && !fallback; b += chunk) {
      size_t e = std::min(missed.size(), b + chunk);
      sorted.clear();
      for (size_t i = b; i < e; ++i) sorted.push_back(keys[missed[i]]);
      PrefetchPaths(sorted);
      for (size_t i = b; i < e && !fallback; ++i) {
        fallback = lookup(missed[i], Reads::kYes, nullptr) != Opt::kOk;
      }
    }
    if (!fallback && batch_seq_.load(std::memory_order_acquire) == seq) return;
    if (fallback) break;
  }
  ReaderLock lock(&batch_mu_);
  for (size_t b = 0; b < order.size(); b += chunk) {
    size_t e = std::min(order.size(), b + chunk);
    sorted.clear();
    for (size_t i = b; i < e; ++i) sorted.push_back(keys[order[i]]);
    PrefetchPaths(sorted);
    for (size_t i = b; i < e; ++i) {
      size_t k = order[i];
      (*statuses)[k] = GetPessimistic(keys[k], &(*values)[k]);
    }
  }
}

bool BTree::Cached(std::string_view key) {
  std::string value;
  Status result;
  for (int restarts = 0; restarts < 16; ++restarts) {
    OptimisticReadScope scope;
    Opt o = GetOptimistic(key, &value, &result, Reads::kNo);
    if (o != Opt::kRestart) return o != Opt::kMiss;
  }
  return true;  // busy pages: the caller's pessimistic path will do
}

void BTree::FreePages(const std::vector<PageId>& ids) {
  if (ids.empty()) return;
  std::unique_lock gate(free_gate_);
  for (PageId id : ids) {
    if (id == last_append_leaf_) last_append_leaf_ = PageId{};  // never a freed page's
    alloc_->Free(id);
  }
}

}  // namespace ringdb
