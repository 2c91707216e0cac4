// DB::NewIterator: the B+tree's iterator read at a snapshot
// (SnapshotIterator) for an open database, or one that only reports why
// there is none (ErrorIterator).
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

// The tree's iterator read at a snapshot: merges the tree's keys with the
// keys that have a version saved for the snapshot (version_store.h), the
// version winning. Each step reads the tree first (a leaf copy) and asks
// the store afterwards, for keys up to the tree's next key only; a key
// whose version says it was absent is skipped. The tree iterator stays at
// the first tree key at or after (before, backward) the current key.
class SnapshotIterator final : public Iterator {
 public:
  SnapshotIterator(std::unique_ptr<Iterator> tree, VersionStore* versions,
                   const SnapshotImpl* snap, bool owned)
      : tree_(std::move(tree)), versions_(versions), snap_(snap), owned_(owned) {}
  ~SnapshotIterator() override {
    tree_.reset();
    if (owned_) versions_->Release(snap_);
  }
  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    forward_ = true;
    tree_->SeekToFirst();
    Settle(std::nullopt, true);
  }
  void SeekToLast() override {
    forward_ = false;
    tree_->SeekToLast();
    Settle(std::nullopt, true);
  }
  void Seek(std::string_view target) override {
    forward_ = true;
    std::string t(target);  // target may point into this iterator's key
    tree_->Seek(t);
    Settle(t, true);
  }
  void SeekForPrev(std::string_view target) override {
    forward_ = false;
    std::string t(target);
    tree_->SeekForPrev(t);
    Settle(t, true);
  }
  void Next() override { Step(true); }
  void Prev() override { Step(false); }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return from_tree_ ? tree_->value() : value_; }
  Status status() const override { return status_; }

 private:
  void Step(bool forward) {
    if (!valid_) return;
    if (forward != forward_) {
      // Turn the tree iterator around at the current key.
      forward_ = forward;
      if (forward) {
        tree_->Seek(key_);
      } else {
        tree_->SeekForPrev(key_);
      }
    }
    if (tree_->Valid() && tree_->key() == key_) {
      if (forward) {
        tree_->Next();
      } else {
        tree_->Prev();
      }
    }
    std::string from = key_;
    Settle(from, false);
  }

  // Positions at the first key the snapshot sees from `from` on in the
  // direction (inclusive or not), with the tree iterator at the first tree
  // key at or past `from`.
  void Settle(std::optional<std::string> from, bool inclusive) {
    valid_ = false;
    status_ = Status::OK();
    for (;;) {
      if (!tree_->status().ok()) {
        status_ = tree_->status();
        return;
      }
      std::optional<std::string_view> tk;
      if (tree_->Valid()) tk = tree_->key();
      VersionStore::Found found = VersionStore::Found::kNone;
      std::string vkey, vvalue;
      if (!versions_->empty() || snap_->expired()) {
        Status s = versions_->Next(snap_, from, inclusive, forward_, tk, &vkey, &found, &vvalue);
        if (!s.ok()) {
          status_ = s;
          return;
        }
      }
      if (found == VersionStore::Found::kNone) {
        if (!tk) return;  // the end
        key_.assign(*tk);
        from_tree_ = true;  // the value is the tree iterator's (no copy)
        valid_ = true;
        return;
      }
      if (found == VersionStore::Found::kValue) {
        key_ = std::move(vkey);
        value_ = std::move(vvalue);
        from_tree_ = false;
        valid_ = true;
        return;
      }
      // Absent at the snapshot: skip it (and the tree's copy of it).
      if (tk && *tk == vkey) {
        if (forward_) {
          tree_->Next();
        } else {
          tree_->Prev();
        }
      }
      from = std::move(vkey);
      inclusive = false;
    }
  }

  std::unique_ptr<Iterator> tree_;
  VersionStore* const versions_;
  const SnapshotImpl* const snap_;
  const bool owned_;
  bool forward_ = true;
  bool valid_ = false;
  bool from_tree_ = false;  // value() is the tree iterator's
  std::string key_, value_;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  Status s = CheckOpen();
  const SnapshotImpl* snap = nullptr;
  bool owned = false;
  if (s.ok()) s = ReadSnapshot(options, /*implicit=*/true, &snap, &owned);
  if (!s.ok()) return std::make_unique<ErrorIterator>(s);
  return std::make_unique<SnapshotIterator>(tree_->NewIterator(), versions_.get(), snap, owned);
}

}  // namespace ringdb
