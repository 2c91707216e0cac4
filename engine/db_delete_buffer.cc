// DBImpl's side of the delete buffer (delete_buffer.h): which deletes are
// buffered, and applying them to the tree.
#include "engine/db_impl.h"

namespace ringdb {

Status DBImpl::ShouldBufferLocked(const WriteBatch& batch, bool recording,
                                  std::string_view* key, bool* buffer) {
  *buffer = false;
  // A snapshot would need the value the delete replaces: the leaf is read
  // anyway. A batch of several must reach readers whole: it goes to the
  // tree under BeginBatch.
  std::string_view del;
  if (!deletes_->enabled() || recording || !WriteBatchInternal::SingleDelete(batch, &del) ||
      tree_->Cached(del)) {
    return Status::OK();
  }
  if (!deletes_->HasRoom(del.size())) {
    // Full: apply one prefetch chunk of entries, then buffer. One chunk,
    // not half the buffer: this delete waits for one round of leaf reads
    // (a 694 ms stall at 37 k entries when it applied half).
    RINGDB_RETURN_IF_ERROR(ApplyBufferedDeletesLocked(tree_->PrefetchChunk()));
    // (The chunk is the run of keys after the last one applied: see
    // DeleteBuffer::UnappliedFrom.)
    if (!deletes_->HasRoom(del.size())) return Status::OK();  // held by snapshots
  }
  *key = del;
  *buffer = true;
  return Status::OK();
}

Status DBImpl::ApplyBufferedDeletesLocked(size_t max_entries) {
  if (deletes_->empty()) return Status::OK();
  // Entries applied while a snapshot was open, which none needs now.
  if (!versions_->HasSnapshots()) deletes_->EraseApplied();
  const size_t chunk = tree_->PrefetchChunk();
  std::vector<std::pair<std::string, Lsn>> pending;
  // In key order: all of them, or the run after the last key applied
  // (wrapping around), so that each part of the key space waits its turn
  // and its deletes share leaves as densely as the whole buffer's.
  if (max_entries == SIZE_MAX) {
    deletes_->Unapplied(&pending);
  } else {
    deletes_->UnappliedFrom(apply_cursor_, max_entries, &pending);
  }
  if (!pending.empty()) apply_cursor_ = pending.back().first;
  std::vector<std::string_view> keys;
  for (size_t b = 0; b < pending.size(); b += chunk) {
    std::span<const std::pair<std::string, Lsn>> batch(pending.data() + b,
                                                        std::min(chunk, pending.size() - b));
    keys.clear();
    for (const auto& e : batch) keys.push_back(e.first);
    tree_->PrefetchKeys(keys);
    for (const auto& [key, lsn] : batch) {
      bool existed = false;
      Status s = tree_->Delete(key, lsn, &existed);
      if (!s.ok()) {
        SetBackgroundError(s, Severity::kHard,
                           "applying a buffered delete to the tree failed (the log holds it; "
                           "reopen to replay)");
        return s.WithContext("applying buffered deletes");
      }
    }
    // After the tree changed: a snapshot registered after this check sees
    // every delete above (version_store.h); one open now may hold a leaf
    // copy from before them, so the entries stay, applied, to hide them.
    deletes_->MarkApplied(batch, /*erase=*/!versions_->HasSnapshots());
  }
  return Status::OK();
}

}  // namespace ringdb
