// DeleteBuffer: deletes logged but not yet applied to the B+tree, as
// InnoDB's change buffer does for secondary-index changes.
//
// Why: a B+tree delete must find its key's leaf. When the data is far
// larger than the pool, that leaf is usually on disk, so each DB::Delete
// cost one device read while an LSM writes a blind tombstone. Instead, a
// single delete whose leaf is not cached (BTree::Cached) is logged as
// usual and its key recorded here; it reaches the tree later, many at a
// time in key order, with their leaves read by one pipelined prefetch
// (DBImpl::ApplyBufferedDeletesLocked): one chunk, the run of keys after
// the last applied, when the buffer is full (UnappliedFrom); all at every
// checkpoint (so the log a checkpoint deletes holds no delete that only
// the buffer knows) and so at Close.
//
// What readers see: the database is the tree minus the keys here. Get and
// MultiGet look here before the tree; iterators drop the keys here from
// each leaf copy (before a snapshot's versions patch it). A write that
// puts or deletes a key through the tree removes its entry afterwards
// (Erase), so a reader that found no entry reads the tree's newer state.
//
// Snapshots (version_store.h): a write saves, while a snapshot is open,
// the value each of its keys had in this combined view (a key here was
// absent). Applying an entry changes only the tree, not the view, so it
// saves nothing; but a reader with a snapshot may hold a leaf copy taken
// before the apply and test the buffer after it, so an applied entry stays
// here (marked applied, still hiding its key) until no snapshot is open.
// A delete is buffered only when no snapshot is open (nothing to save),
// so no entry is added while one is.
//
// Memory: entries live on the heap, outside the buffer pool, counted as
// key bytes plus kEntryOverhead; max_bytes bounds them (0: buffering off).
// A hash table: a delete's insert and a reader's lookup cost one probe
// (an ordered map's string compares down the tree were a third of a
// buffered delete's time with 400 k entries); the key order the apply
// needs is sorted once per apply.
//
// Thread-safety: the readers' methods may be called from any thread; the
// writer's (Add, Erase, Unapplied, MarkApplied, EraseApplied) only under
// DBImpl's write_mu_, one at a time. mu_ is a leaf lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bufferpool/page.h"
#include "util/thread_annotations.h"

namespace ringdb {

class DeleteBuffer {
 public:
  // Bytes counted per entry besides its key: the map node and the entry.
  static constexpr uint64_t kEntryOverhead = 96;
  // The most entries whose buckets are made at the first delete (8 MiB of
  // buckets): a huge max_bytes then grows the table as it fills.
  static constexpr uint64_t kMaxReserve = 1 << 20;

  explicit DeleteBuffer(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  DeleteBuffer(const DeleteBuffer&) = delete;
  DeleteBuffer& operator=(const DeleteBuffer&) = delete;

  // --- Readers.
  // No entry at all: a reader may skip the lookups below.
  bool empty() const { return entries_count_.load(std::memory_order_acquire) == 0; }
  // Whether `key` is deleted here (applied to the tree or not).
  bool Contains(std::string_view key) const EXCLUDES(mu_);
  // The indexes i < n whose key `key_at(i)` is not here, in order.
  template <typename KeyAt>
  void Keep(size_t n, KeyAt&& key_at, std::vector<size_t>* kept) const EXCLUDES(mu_);

  // --- The writer (under DBImpl's write_mu_).
  bool enabled() const { return max_bytes_ > 0; }
  uint64_t max_bytes() const { return max_bytes_; }
  // Whether an entry for a key of `key_size` bytes fits max_bytes.
  bool HasRoom(size_t key_size) const EXCLUDES(mu_);
  // Records the delete of `key` logged at `lsn` (replacing an entry).
  void Add(std::string_view key, Lsn lsn) EXCLUDES(mu_);
  // The tree now holds a newer state of `key` (a put or a delete applied
  // by a write): its entry, if any, goes.
  void Erase(std::string_view key) EXCLUDES(mu_);
  // Every entry not yet applied, in key order.
  void Unapplied(std::vector<std::pair<std::string, Lsn>>* out) const EXCLUDES(mu_);
  // Up to `limit` entries not yet applied, in key order: those with the
  // smallest keys >= `from`, then (wrapping around) the smallest keys.
  // A run of neighbouring keys, so that their deletes share leaves as
  // densely as the whole buffer's would; without sorting the buffer.
  void UnappliedFrom(std::string_view from, size_t limit,
                     std::vector<std::pair<std::string, Lsn>>* out) const EXCLUDES(mu_);
  // The entries for `keys` were applied to the tree: erased when `erase`
  // (no snapshot is open), else kept, marked applied.
  void MarkApplied(std::span<const std::pair<std::string, Lsn>> keys, bool erase) EXCLUDES(mu_);
  // Erases the applied entries (call only with no snapshot open).
  void EraseApplied() EXCLUDES(mu_);

  struct Stats {
    uint64_t entries = 0;
    uint64_t unapplied = 0;
    uint64_t bytes = 0;
    uint64_t max_bytes = 0;
    uint64_t buffered = 0;  // deletes buffered since open
    uint64_t applied = 0;   // entries applied to the tree since open
  };
  Stats stats() const EXCLUDES(mu_);

 private:
  struct Entry {
    Lsn lsn;
    bool applied = false;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>()(k); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;
  static uint64_t Cost(size_t key_size) { return key_size + kEntryOverhead; }
  void EraseLocked(Map::iterator it) REQUIRES(mu_);

  const uint64_t max_bytes_;
  mutable SharedMutex mu_;
  Map entries_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t unapplied_ GUARDED_BY(mu_) = 0;
  uint64_t buffered_ GUARDED_BY(mu_) = 0;
  uint64_t applied_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> entries_count_{0};  // entries_.size(), for empty()
};

template <typename KeyAt>
void DeleteBuffer::Keep(size_t n, KeyAt&& key_at, std::vector<size_t>* kept) const {
  kept->clear();
  ReaderLock lock(&mu_);
  for (size_t i = 0; i < n; i++) {
    if (entries_.find(key_at(i)) == entries_.end()) kept->push_back(i);
  }
}

}  // namespace ringdb
