// DB::NewIterator: the B+tree's iterator read at a snapshot (SnapshotView)
// for an open database, or one that only reports why there is none
// (ErrorIterator).
#include "engine/btree.h"
#include "engine/db_impl.h"

namespace ringdb {

namespace {

// An iterator that is never Valid() and reports `s` (e.g. "database is
// closed"), so NewIterator never returns null.
class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(Status s) : s_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(std::string_view) override {}
  void SeekForPrev(std::string_view) override {}
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return s_; }

 private:
  Status s_;
};

// Makes the tree's iterator read at a snapshot (version_store.h): each
// leaf copy is rewritten to the snapshot's version of the keys in its
// fences once it is taken (values replaced, keys inserted after the
// snapshot dropped, keys deleted since put back), so stepping within a
// leaf costs nothing extra; with no version saved, a leaf costs one atomic
// load. Owns the snapshot when it was taken for this iterator.
class SnapshotView final : public BTree::IteratorView {
 public:
  SnapshotView(BTree* tree, const DeleteBuffer* deletes, VersionStore* versions,
               const SnapshotImpl* snap, bool owned)
      : tree_(tree), deletes_(deletes), versions_(versions), snap_(snap), owned_(owned) {}
  ~SnapshotView() override {
    if (owned_) versions_->Release(snap_);
  }

  Status PatchLeaf(BTree::LeafCopy* leaf) override {
    // First the buffered deletes (delete_buffer.h): the tree minus them is
    // the state the versions below patch.
    if (!deletes_->empty()) DropBufferedDeletes(leaf);
    if (versions_->empty() && !snap_->expired()) return Status::OK();
    std::optional<std::string_view> low, high;
    if (leaf->has_low) low = leaf->low;
    if (leaf->has_high) high = leaf->high;
    RINGDB_RETURN_IF_ERROR(versions_->Collect(snap_, low, high, &found_));
    if (found_.empty()) return Status::OK();
    // Merge the copy's entries with the versions, both in key order.
    merged_.clear();
    const size_t n = leaf->entries.size();
    size_t i = 0;
    for (const VersionStore::KeyAt& f : found_) {
      while (i < n && leaf->KeyAt(i) < f.key) merged_.push_back(leaf->entries[i++]);
      BTree::LeafEntry e{};
      if (i < n && leaf->KeyAt(i) == f.key) {
        e = leaf->entries[i++];  // keep the key, replace or drop the value
      } else {
        e.key_off = static_cast<uint32_t>(leaf->arena.size());
        e.key_len = static_cast<uint32_t>(f.key.size());
        if (f.present) leaf->arena += f.key;
      }
      if (!f.present) continue;
      e.value_off = static_cast<uint32_t>(leaf->arena.size());
      e.value_len = static_cast<uint32_t>(f.value.size());
      e.value_overflow = false;
      leaf->arena += f.value;
      merged_.push_back(e);
    }
    while (i < n) merged_.push_back(leaf->entries[i++]);
    leaf->entries.swap(merged_);
    return Status::OK();
  }

  Status Get(std::string_view key, std::string* value) override {
    Status s = !deletes_->empty() && deletes_->Contains(key) ? Status::NotFound()
                                                             : tree_->Get(key, value);
    return versions_->Resolve(snap_, key, std::move(s), value);
  }

 private:
  void DropBufferedDeletes(BTree::LeafCopy* leaf) {
    deletes_->Keep(leaf->entries.size(), [&](size_t i) { return leaf->KeyAt(i); }, &kept_);
    if (kept_.size() == leaf->entries.size()) return;
    merged_.clear();
    for (size_t i : kept_) merged_.push_back(leaf->entries[i]);
    leaf->entries.swap(merged_);
  }

  BTree* const tree_;
  const DeleteBuffer* const deletes_;
  VersionStore* const versions_;
  const SnapshotImpl* const snap_;
  const bool owned_;
  std::vector<VersionStore::KeyAt> found_;  // reused across leaves
  std::vector<BTree::LeafEntry> merged_;
  std::vector<size_t> kept_;
};

}  // namespace

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  Status s = CheckOpen();
  const SnapshotImpl* snap = nullptr;
  bool owned = false;
  if (s.ok()) s = ReadSnapshot(options, /*implicit=*/true, &snap, &owned);
  if (!s.ok()) return std::make_unique<ErrorIterator>(s);
  return tree_->NewIterator(
      std::make_unique<SnapshotView>(tree_.get(), deletes_.get(), versions_.get(), snap, owned));
}

}  // namespace ringdb
