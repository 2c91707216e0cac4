// BTree iteration: CopyLeaf (descend and copy one leaf), its adaptive scan
// read-ahead (ReadAhead), and the Iterator that holds no latches or pins
// between calls.
#include <algorithm>
#include <cstring>

#include "engine/btree.h"
#include "engine/btree_overflow.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

namespace {

constexpr int kMaxReadAheadLeaves = 64;

bool Forward(BTree::SeekMode m) {
  return m == BTree::SeekMode::kFirst || m == BTree::SeekMode::kGE ||
         m == BTree::SeekMode::kGT;
}

}  // namespace

Status BTree::CopyLeaf(std::string_view target, SeekMode mode, LeafCopy* out) {
  return Optimistically(
      [&](Status* r) {
        Opt o = CopyLeafOptimistic(target, mode, out);
        if (o == Opt::kOk) *r = Status::OK();
        return o;
      },
      [&]() REQUIRES_SHARED(batch_mu_) { return CopyLeafPessimistic(target, mode, out); });
}

namespace {

// Sets *out to separator i of inner node v read optimistically: false when
// it cannot be read (a torn image) or overflows (its blob is read latched).
bool InlineSeparator(const NodeView& v, int i, std::string* out) {
  InnerCell c;
  if (!v.InnerCellAt(i, &c).ok() || c.key.overflow) return false;
  c.key.InlineTo(out);
  return true;
}

void ResetCopy(BTree::LeafCopy* out) {
  out->has_low = out->has_high = false;
  out->arena.clear();
  out->entries.clear();
  out->pos = -1;
  out->has_parent = false;
}

}  // namespace

BTree::Opt BTree::CopyLeafOptimistic(std::string_view target, SeekMode mode, LeafCopy* out) {
  ResetCopy(out);
  OptimisticGuard node;
  uint32_t level;
  Opt o = OptimisticRoot(&node, &level, Reads::kYes);
  if (o != Opt::kOk) return o;
  for (; level > 0; --level) {
    NodeView v(node.data(), page_size_, node.id());
    int n = std::min(v.count(), v.SlotLimit());
    int idx;
    switch (mode) {
      case SeekMode::kFirst: idx = 0; break;
      case SeekMode::kLast: idx = n; break;
      case SeekMode::kLT:
        if (!InnerSearch(v, target, true, &idx, true).ok()) return Torn(node);
        break;
      default:
        if (!InnerSearch(v, target, false, &idx, true).ok()) return Torn(node);
        break;
    }
    if (level == 1) {
      out->has_parent = true;
      out->parent = node;
      out->parent_idx = idx;
      out->parent_n = n;
      out->parent_has_low = out->has_low;
      out->parent_has_high = out->has_high;
      if (out->has_low) out->parent_low = out->low;
      if (out->has_high) out->parent_high = out->high;
    }
    if (idx > 0) {
      if (!InlineSeparator(v, idx - 1, &out->low)) return Torn(node);
      out->has_low = true;
    }
    if (idx < n) {
      if (!InlineSeparator(v, idx, &out->high)) return Torn(node);
      out->has_high = true;
    }
    PageId child;
    if (!v.ChildAt(idx, &child).ok()) return Torn(node);
    if (level == 1) {
      // Before the leaf is fetched: the batch reads it too when it is not
      // cached, and cannot evict it after it was fetched.
      o = ReadAheadOptimistic(node, v, idx, Forward(mode), out);
      if (o != Opt::kOk) return o;
    }
    OptimisticGuard next;
    o = OptimisticChild(node, child, &next, Reads::kYes);
    if (o == Opt::kOk) o = OptimisticNode(next, level - 1);
    if (o != Opt::kOk) return o;
    node = next;
  }
  NodeView v(node.data(), page_size_, node.id());
  if (!CopyCells(v, true, out).ok()) return Torn(node);
  if (!node.Validate()) return Opt::kRestart;
  PickPosition(target, mode, out);
  return Opt::kOk;
}

Status BTree::CopySibling(bool forward, LeafCopy* out) {
  const std::string fence = forward ? out->high : out->low;
  // A successful attempt moves parent_idx to the sibling: a retry (a batch
  // moved batch_seq_ meanwhile) must step from the same leaf again, not
  // from that sibling, or it skips a leaf.
  const int from_idx = out->parent_idx;
  for (int i = 0; i < kOptimisticAttempts && out->has_parent; ++i) {
    uint64_t seq = batch_seq_.load(std::memory_order_acquire);
    if (seq & 1) break;
    out->parent_idx = from_idx;
    Opt o;
    {
      OptimisticReadScope scope;
      o = SiblingOptimistic(forward, out);
    }
    if (o == Opt::kOk && batch_seq_.load(std::memory_order_acquire) == seq) return Status::OK();
    if (o != Opt::kOk) break;  // the parent changed or ends here: descend
  }
  return CopyLeaf(fence, forward ? SeekMode::kGE : SeekMode::kLT, out);
}

BTree::Opt BTree::SiblingOptimistic(bool forward, LeafCopy* out) {
  const OptimisticGuard parent = out->parent;
  const int n = out->parent_n;
  const int idx = out->parent_idx + (forward ? 1 : -1);
  if (idx < 0 || idx > n) return Opt::kFallback;  // the sibling has another parent
  NodeView v(parent.data(), page_size_, parent.id());
  // The new leaf's fences: separators of the parent, or at its edges the
  // parent's own fences.
  out->has_low = idx > 0 || out->parent_has_low;
  if (idx > 0) {
    if (!InlineSeparator(v, idx - 1, &out->low)) return Torn(parent);
  } else if (out->has_low) {
    out->low = out->parent_low;
  }
  out->has_high = idx < n || out->parent_has_high;
  if (idx < n) {
    if (!InlineSeparator(v, idx, &out->high)) return Torn(parent);
  } else if (out->has_high) {
    out->high = out->parent_high;
  }
  PageId child;
  if (!v.ChildAt(idx, &child).ok()) return Torn(parent);
  Opt o = ReadAheadOptimistic(parent, v, idx, forward, out);
  if (o != Opt::kOk) return o;
  OptimisticGuard leaf;
  o = OptimisticChild(parent, child, &leaf, Reads::kYes);
  if (o == Opt::kOk) o = OptimisticNode(leaf, 0);
  if (o != Opt::kOk) return o;
  out->arena.clear();
  out->entries.clear();
  NodeView lv(leaf.data(), page_size_, leaf.id());
  if (!CopyCells(lv, true, out).ok()) return Torn(leaf);
  if (!leaf.Validate()) return Opt::kRestart;
  out->parent_idx = idx;
  out->pos = forward ? 0 : static_cast<int>(out->entries.size()) - 1;
  return Opt::kOk;
}

BTree::Opt BTree::ReadAheadOptimistic(const OptimisticGuard& parent, const NodeView& v, int idx,
                                      bool forward, LeafCopy* out) {
  std::vector<PageId> ids;
  PlanReadAhead(v, idx, forward, out, &ids);
  if (ids.empty()) return Opt::kOk;
  PageId leaf;
  if (v.ChildAt(idx, &leaf).ok()) ids.insert(ids.begin(), leaf);
  // The ids are trusted only while the parent is unchanged: latched shared
  // at the version read, it cannot change (nor be evicted by the batch).
  PageGuard pin;
  if (!parent.TryLatch(LatchMode::kShared, &pin)) return Opt::kRestart;
  (void)pool_->Prefetch(ids);  // a hint: errors surface on Fetch
  return Opt::kOk;
}

Status BTree::CopyLeafPessimistic(std::string_view target, SeekMode mode, LeafCopy* out) {
  ResetCopy(out);
  PageGuard cur;
  uint32_t level;
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kShared);
    if (!meta.ok()) return meta.status();
    PageId root;
    uint32_t height;
    RINGDB_RETURN_IF_ERROR(ReadMeta(*meta, &root, &height));
    level = height - 1;
    RINGDB_RETURN_IF_ERROR(FetchNode(root, LatchMode::kShared, level, &cur));
  }
  while (level > 0) {
    NodeView v = View(cur);
    int n = v.count();
    int idx;
    switch (mode) {
      case SeekMode::kFirst: idx = 0; break;
      case SeekMode::kLast: idx = n; break;
      case SeekMode::kLT: RINGDB_RETURN_IF_ERROR(InnerSearch(v, target, true, &idx)); break;
      default: RINGDB_RETURN_IF_ERROR(InnerSearch(v, target, false, &idx)); break;
    }
    InnerCell c;
    if (idx > 0) {
      RINGDB_RETURN_IF_ERROR(v.InnerCellAt(idx - 1, &c));
      RINGDB_RETURN_IF_ERROR(FullKey(c.key, &out->low));
      out->has_low = true;
    }
    if (idx < n) {
      RINGDB_RETURN_IF_ERROR(v.InnerCellAt(idx, &c));
      RINGDB_RETURN_IF_ERROR(FullKey(c.key, &out->high));
      out->has_high = true;
    }
    PageId child;
    RINGDB_RETURN_IF_ERROR(v.ChildAt(idx, &child));
    --level;
    PageGuard next;
    RINGDB_RETURN_IF_ERROR(FetchNode(child, LatchMode::kShared, level, &next));
    if (level == 0) ReadAhead(v, idx, Forward(mode), out);
    cur = std::move(next);
  }
  NodeView v = View(cur);
  RINGDB_RETURN_IF_ERROR(CopyCells(v, false, out));
  PickPosition(target, mode, out);
  return Status::OK();
}

Status BTree::CopyCells(const NodeView& v, bool optimistic, LeafCopy* out) {
  // One copy of the node (a streaming memcpy), then the cells are parsed
  // from the private image and the entries point into it: no value byte is
  // copied twice. Keys are rebuilt after the image (node prefix + stored
  // bytes, or an overflowed key's full bytes); without a prefix a key
  // points into the image too. The page header is left out (zeroed): a
  // write-back stamps its checksum under a shared latch, and nothing here
  // reads it.
  out->arena.resize(page_size_);
  std::memset(out->arena.data(), 0, kNodeOff);
  std::memcpy(out->arena.data() + kNodeOff, v.data() + kNodeOff, page_size_ - kNodeOff);
  NodeView img(out->arena.data(), page_size_, v.id());
  const int n = std::min(img.count(), img.SlotLimit());
  const size_t p = img.prefix().size();
  out->arena.reserve(page_size_ + n * (p + 32));
  LeafCell c;
  thread_local std::string key;
  out->entries.resize(n);
  for (int i = 0; i < n; ++i) {
    // The arena may have moved: parse from its current image.
    img = NodeView(out->arena.data(), page_size_, v.id());
    const char* base = out->arena.data();
    RINGDB_RETURN_IF_ERROR(img.LeafCellAt(i, &c));
    LeafEntry& e = out->entries[i];
    e.value_overflow = c.value_overflow;
    e.value_off = static_cast<uint32_t>(c.inline_value.data() - base);
    e.value_len = c.value_overflow ? 0 : static_cast<uint32_t>(c.inline_value.size());
    if (!c.key.overflow && p == 0) {
      e.key_off = static_cast<uint32_t>(c.key.inline_key.data() - base);
      e.key_len = static_cast<uint32_t>(c.key.inline_key.size());
      continue;
    }
    if (c.key.overflow && optimistic) return Status::Busy("overflowed key");
    RINGDB_RETURN_IF_ERROR(FullKey(c.key, &key));
    e.key_off = static_cast<uint32_t>(out->arena.size());
    e.key_len = static_cast<uint32_t>(key.size());
    out->arena.append(key);  // may move the arena: offsets only from here on
  }
  for (size_t i = 1; i < out->entries.size(); ++i) {
    if (out->KeyAt(i - 1) >= out->KeyAt(i)) return v.Corrupt("leaf keys out of order");
  }
  return Status::OK();
}

void BTree::PickPosition(std::string_view target, SeekMode mode, LeafCopy* out) {
  int n = static_cast<int>(out->entries.size());
  auto lower = [&](bool upper) {
    int lo = 0, hi = n;
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      int cmp = out->KeyAt(mid).compare(target);
      if (cmp < 0 || (upper && cmp == 0)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  };
  switch (mode) {
    case SeekMode::kFirst: out->pos = 0; break;
    case SeekMode::kLast: out->pos = n - 1; break;
    case SeekMode::kGE: out->pos = lower(false); break;
    case SeekMode::kGT: out->pos = lower(true); break;
    case SeekMode::kLE: out->pos = lower(true) - 1; break;
    case SeekMode::kLT: out->pos = lower(false) - 1; break;
  }
}

int BTree::MaxReadAhead() const {
  return std::clamp<int>(static_cast<int>(pool_->num_frames() / 8), 1, kMaxReadAheadLeaves);
}

void BTree::NoteScanLength(int crossings) {
  // Racy on purpose: a lost update only shifts the average a little.
  const uint32_t sample = static_cast<uint32_t>(std::clamp(crossings, 0, MaxReadAhead())) * 16;
  const uint32_t old = scan_crossings16_.load(std::memory_order_relaxed);
  const uint32_t next = old - old / 8 + sample / 8;
  if (next != old) scan_crossings16_.store(next, std::memory_order_relaxed);
}

int BTree::SeekReadAhead() const {
  const uint32_t avg16 = scan_crossings16_.load(std::memory_order_relaxed);
  return std::clamp<int>(static_cast<int>((avg16 + 15) / 16), 1, MaxReadAhead());
}

void BTree::PlanReadAhead(const NodeView& parent, int idx, bool forward, LeafCopy* out,
                          std::vector<PageId>* ids) {
  ids->clear();
  const int n = std::min(parent.count(), parent.SlotLimit());  // children 0..n
  int ahead = 0;                 // leaves already read ahead of idx
  if (!out->ra_continue) {
    // A Seek: as far as scans have gone lately. More only once the scan
    // reaches the last leaf of that (a longer scan than usual).
    out->ra_window = SeekReadAhead();
    out->ra_seeded = true;
  } else if (out->ra_forward != forward || out->ra_window == 0) {
    out->ra_window = 1;  // a turn: the next leaf only
    out->ra_seeded = false;
  } else {
    const bool same_parent = out->ra_parent == parent.id();
    const int left = forward ? out->ra_end - idx : idx - out->ra_end;
    if (same_parent) ahead = std::max(0, left);
    // A seeded window was sized to what scans use: more only once the scan
    // goes past it. A growing window reads on when half of it is used.
    if (out->ra_seeded ? same_parent && left >= 0 : 2 * ahead >= out->ra_window) {
      return;  // the last batch still covers the way
    }
    out->ra_seeded = false;
    out->ra_window = std::min(2 * out->ra_window, MaxReadAhead());
  }
  out->ra_forward = forward;
  int end = idx;
  for (int k = 1; k <= out->ra_window; ++k) {
    int i = forward ? idx + k : idx - k;
    if (i < 0 || i > n) break;
    end = i;
    if (k <= ahead) continue;
    PageId id;
    if (!parent.ChildAt(i, &id).ok()) break;
    ids->push_back(id);
  }
  out->ra_parent = parent.id();
  out->ra_end = end;
}

void BTree::ReadAhead(const NodeView& parent, int idx, bool forward, LeafCopy* out) {
  // The parent's latch keeps the ids from being freed meanwhile.
  std::vector<PageId> ids;
  PlanReadAhead(parent, idx, forward, out, &ids);
  if (!ids.empty()) (void)pool_->Prefetch(ids);  // a hint: errors surface on Fetch
}

namespace {

class BTreeIterator : public Iterator {
 public:
  BTreeIterator(BTree* tree, std::unique_ptr<BTree::IteratorView> view)
      : tree_(tree), view_(std::move(view)) {}
  ~BTreeIterator() override {
    if (seeked_) tree_->NoteScanLength(crossings_);
  }

  bool Valid() const override { return valid_; }
  void SeekToFirst() override { Position(BTree::SeekMode::kFirst, {}); }
  void SeekToLast() override { Position(BTree::SeekMode::kLast, {}); }
  void Seek(std::string_view target) override { Position(BTree::SeekMode::kGE, target); }
  void SeekForPrev(std::string_view target) override {
    Position(BTree::SeekMode::kLE, target);
  }
  void Next() override {
    if (!valid_) return;
    ++leaf_.pos;
    Settle(true);
  }
  void Prev() override {
    if (!valid_) return;
    --leaf_.pos;
    Settle(false);
  }
  std::string_view key() const override { return leaf_.KeyAt(leaf_.pos); }
  std::string_view value() const override {
    const BTree::LeafEntry& e = leaf_.entries[leaf_.pos];
    if (e.value_overflow) return big_value_;
    return std::string_view(leaf_.arena).substr(e.value_off, e.value_len);
  }
  Status status() const override { return status_; }

 private:
  void Position(BTree::SeekMode mode, std::string_view target) {
    status_ = Status::OK();
    valid_ = false;
    target_.assign(target);
    leaf_.ra_continue = false;  // a Seek starts the read-ahead over
    if (seeked_) tree_->NoteScanLength(crossings_);
    seeked_ = true;
    crossings_ = 0;
    Status s = tree_->CopyLeaf(target_, mode, &leaf_);
    if (s.ok() && view_) {
      s = view_->PatchLeaf(&leaf_);
      BTree::PickPosition(target_, mode, &leaf_);
    }
    if (!s.ok()) return Fail(s);
    Settle(Forward(mode));
  }

  // Moves from leaf_.pos to the first usable entry in the direction,
  // crossing to neighbouring leaves by key as needed.
  void Settle(bool forward) {
    valid_ = false;
    std::string last_fence;
    bool have_fence = false;
    for (;;) {
      int n = static_cast<int>(leaf_.entries.size());
      while (leaf_.pos >= 0 && leaf_.pos < n) {
        const BTree::LeafEntry& e = leaf_.entries[leaf_.pos];
        if (!e.value_overflow) {
          valid_ = true;
          return;
        }
        // Large values are read on arrival with a fresh lookup; a key
        // deleted since the copy is skipped.
        Status s = view_ ? view_->Get(leaf_.KeyAt(leaf_.pos), &big_value_)
                         : tree_->Get(leaf_.KeyAt(leaf_.pos), &big_value_);
        if (s.ok()) {
          valid_ = true;
          return;
        }
        if (!s.IsNotFound()) return Fail(s);
        leaf_.pos += forward ? 1 : -1;
      }
      // Cross to the neighbouring leaf (CopySibling: through the parent
      // when it is unchanged, else by the fence key: the next leaf starts
      // at this leaf's high fence; the previous one holds the keys just
      // below its low fence). Fences must move monotonically (a corrupt
      // tree could otherwise loop).
      if (forward) {
        if (!leaf_.has_high) return;  // past the last key
        if (have_fence && leaf_.high <= last_fence) {
          return Fail(Status::Corruption("btree: leaf fences do not advance"));
        }
        last_fence = leaf_.high;
      } else {
        if (!leaf_.has_low) return;  // before the first key
        if (have_fence && leaf_.low >= last_fence) {
          return Fail(Status::Corruption("btree: leaf fences do not advance"));
        }
        last_fence = leaf_.low;
      }
      have_fence = true;
      leaf_.ra_continue = true;
      ++crossings_;
      Status s = tree_->CopySibling(forward, &leaf_);
      if (s.ok() && view_) {
        // The view may add keys below (above) the fence crossed: start
        // past it, as the sibling copy does.
        s = view_->PatchLeaf(&leaf_);
        BTree::PickPosition(last_fence, forward ? BTree::SeekMode::kGE : BTree::SeekMode::kLT,
                            &leaf_);
      }
      if (!s.ok()) return Fail(s);
    }
  }

  void Fail(const Status& s) {
    status_ = s;
    valid_ = false;
  }

  BTree* tree_;
  std::unique_ptr<BTree::IteratorView> view_;
  BTree::LeafCopy leaf_;
  std::string target_;
  std::string big_value_;
  Status status_;
  bool valid_ = false;
  // Since the last Seek: leaves crossed to, reported to the tree's
  // read-ahead (NoteScanLength).
  bool seeked_ = false;
  int crossings_ = 0;
};

}  // namespace

std::unique_ptr<Iterator> BTree::NewIterator(std::unique_ptr<IteratorView> view) {
  return std::make_unique<BTreeIterator>(this, std::move(view));
}

}  // namespace ringdb
