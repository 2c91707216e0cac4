// DB::GetSnapshot and reads at a snapshot: see version_store.h for the
// design and db_iterators.cc for the iterator.
#include <unordered_set>

#include "engine/db_impl.h"

namespace ringdb {

const Snapshot* DBImpl::GetSnapshot() {
  if (!CheckOpen().ok()) return nullptr;
  return versions_->Acquire([this] { return applied_lsn_.load(std::memory_order_acquire); });
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  const auto* s = static_cast<const SnapshotImpl*>(snapshot);
  RINGDB_CHECK(s->owner() == versions_.get());  // a snapshot of another DB
  versions_->Release(s);
}

Status DBImpl::ReadSnapshot(const ReadOptions& options, bool implicit, const SnapshotImpl** snap,
                            bool* owned) {
  *owned = false;
  *snap = nullptr;
  if (options.snapshot != nullptr) {
    const auto* s = static_cast<const SnapshotImpl*>(options.snapshot);
    if (s->owner() != versions_.get()) {
      return Status::InvalidArgument("ReadOptions::snapshot belongs to another database");
    }
    *snap = s;
    return Status::OK();
  }
  if (implicit) {
    *snap = static_cast<const SnapshotImpl*>(GetSnapshot());
    *owned = *snap != nullptr;
  }
  return Status::OK();
}

Status DBImpl::ResolveAt(const SnapshotImpl* snap, std::string_view key, Status tree_status,
                         std::string* value) {
  if (snap == nullptr) return tree_status;
  return versions_->Resolve(snap, key, std::move(tree_status), value);
}

namespace {

// Collects each key of a batch once, in order.
class KeyCollector : public WriteBatch::Handler {
 public:
  Status Put(std::string_view key, std::string_view) override { return Add(key); }
  Status Delete(std::string_view key) override { return Add(key); }
  std::vector<std::string_view> keys;

 private:
  Status Add(std::string_view key) {
    if (seen_.insert(key).second) keys.push_back(key);
    return Status::OK();
  }
  std::unordered_set<std::string_view> seen_;
};

}  // namespace

Status DBImpl::ReadOldValues(const WriteBatch& batch,
                             std::vector<std::pair<std::string, std::optional<std::string>>>* olds) {
  KeyCollector keys;
  RINGDB_RETURN_IF_ERROR(batch.Iterate(&keys));
  // Several keys: one MultiGet reads the pages they miss together. One key
  // (most writes): a Get, which costs less than MultiGet's setup.
  std::vector<std::string> values(1);
  std::vector<Status> statuses(1);
  if (keys.keys.size() == 1) {
    statuses[0] = tree_->Get(keys.keys[0], &values[0]);
  } else {
    tree_->MultiGet(keys.keys, &values, &statuses);
  }
  olds->reserve(keys.keys.size());
  for (size_t i = 0; i < keys.keys.size(); i++) {
    // A buffered delete (delete_buffer.h): absent, whatever the tree holds.
    if (!deletes_->empty() && deletes_->Contains(keys.keys[i])) statuses[i] = Status::NotFound();
    if (statuses[i].ok()) {
      olds->emplace_back(std::string(keys.keys[i]), std::move(values[i]));
    } else if (statuses[i].IsNotFound()) {
      olds->emplace_back(std::string(keys.keys[i]), std::nullopt);
    } else {
      return statuses[i];
    }
  }
  return Status::OK();
}

}  // namespace ringdb
