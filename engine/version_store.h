// VersionStore: the old versions that snapshots read (DB::GetSnapshot).
//
// Design (argued in docs/ARCHITECTURE.md, "Snapshots"): the B+tree holds
// only the newest version of each key, as InnoDB's clustered index does.
// While a snapshot is open, the writer saves, before a batch changes the
// tree, the value each key of the batch had just before it (or that it was
// absent), stamped with the batch's LSN W: an in-memory undo chain per key,
// oldest first. A reader at snapshot S reads the tree first and then the
// chain: the first version with W > S is the key's value as of S (the
// batch W is the first to change the key after S); without one, the
// tree's value is.
//
// Why reading the tree first is enough: a version is saved before the
// batch touches the tree, so a tree read that saw any change made after S
// is followed by a chain lookup that finds that change's version, and a
// version is reclaimed only once no registered snapshot is older than its
// batch. Batches are applied whole under one LSN, so every snapshot sees
// a batch all or nothing.
//
// Registration: a snapshot's LSN S is the newest LSN whose batch is
// applied whole (DBImpl::applied_lsn_), read under mu_ once the batch in
// flight when Acquire was called (if any) has ended: Acquire waits for that
// one batch, not for later ones. Two reasons: a batch that began without
// saving versions (no snapshot was open) has no versions for a snapshot
// older than it; and a reader without a snapshot (Get) may already have
// seen part of the batch in flight, so a snapshot taken after that read
// must include it (reads never go back in time). A batch that begins while
// an Acquire waits saves versions, as if the snapshot were open: it may
// still be in flight when the snapshot takes its LSN.
//
// Reclaiming (purge, as InnoDB's): versions are queued in LSN order; those
// with W at or below the oldest snapshot's S (or below every LSN applied
// when no snapshot is open) serve nobody and go at once, on release and at
// the end of each batch.
//
// Bounds: the versions live on the heap, outside the buffer pool, and are
// counted (key, value and bookkeeping bytes). Past notice_bytes a notice is
// returned once for the writer to log; past max_bytes the oldest snapshots
// expire (their reads fail with InvalidArgument naming the limit, as
// Oracle's "snapshot too old") until the versions fit. Snapshots are
// in memory only: recovery starts with none.
//
// Thread-safety: every method may be called from any thread. The writer's
// methods (Begin/Record/End) are called by one writer at a time (DBImpl's
// write_mu_). mu_ is a leaf lock: nothing is taken under it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bufferpool/page.h"
#include "util/result.h"
#include "util/thread_annotations.h"
#include "ringdb/db.h"

namespace ringdb {

class VersionStore;

// What DB::GetSnapshot returns.
class SnapshotImpl final : public Snapshot {
 public:
  uint64_t sequence() const override { return seq_.value; }
  Lsn lsn() const { return seq_; }
  const VersionStore* owner() const { return owner_; }
  // Whether max_bytes made it expire (its reads then fail).
  bool expired() const { return expired_.load(std::memory_order_acquire); }

 private:
  friend class VersionStore;
  SnapshotImpl(const VersionStore* owner, Lsn seq) : owner_(owner), seq_(seq) {}
  ~SnapshotImpl() override = default;

  const VersionStore* const owner_;
  const Lsn seq_;
  const std::chrono::steady_clock::time_point taken_ = std::chrono::steady_clock::now();
  // Set under the owner's mu_ before its versions go; read without it.
  std::atomic<bool> expired_{false};
  std::list<SnapshotImpl*>::iterator pos_;  // in the owner's list; guarded by mu_
};

class VersionStore {
 public:
  struct Limits {
    uint64_t max_bytes = 0;     // 0: no limit
    uint64_t notice_bytes = 0;  // 0: no notice
  };
  explicit VersionStore(Limits limits) : limits_(limits) {}
  // Frees the snapshots nobody released.
  ~VersionStore();
  VersionStore(const VersionStore&) = delete;
  VersionStore& operator=(const VersionStore&) = delete;

  // --- Snapshots.
  // Registers a snapshot at applied(), read once the batch in flight (if
  // any) has ended (see the file comment). `applied` runs under mu_.
  template <typename Applied>
  const SnapshotImpl* Acquire(Applied&& applied) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    const uint64_t ticket = batches_begun_;
    if (batches_ended_ < ticket) {
      // A batch that begins while this waits saves versions (BeginBatch
      // counts waiters_): it ends after the LSN read below.
      waiters_++;
      while (batches_ended_ < ticket) batch_done_.wait(mu_);
      waiters_--;
    }
    return Register(applied());
  }
  // Unregisters and frees `s` and reclaims the versions only it needed.
  // `s` must come from this store's Acquire and not be released yet.
  void Release(const SnapshotImpl* s) EXCLUDES(mu_);

  // Whether any snapshot is registered (expired ones included, until
  // released). A snapshot registered after this returned false reads
  // every change made before the call.
  bool HasSnapshots() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return !snapshots_.empty() || !expired_list_.empty();
  }

  // --- The writer (one at a time).
  // Before a batch: whether it must save versions (a snapshot is open, or
  // one is being acquired). Acquire waits for its EndBatch.
  bool BeginBatch() EXCLUDES(mu_);
  // The keys' values before batch `w` (nullopt: absent), saved before the
  // batch changes the tree. Only the first entry for a key counts. Returns
  // a notice for the log when the versions just passed notice_bytes or
  // made snapshots expire (empty otherwise).
  std::string Record(Lsn w, std::vector<std::pair<std::string, std::optional<std::string>>> olds)
      EXCLUDES(mu_);
  // After the batch (applied or failed); `applied` is the newest LSN
  // applied whole. Reclaims what no snapshot needs.
  void EndBatch(Lsn applied) EXCLUDES(mu_);

  // --- Readers.
  // What `key` was at snapshot s, when a saved version says (kAbsent or
  // kValue into *value); kNone: the tree's value stands. InvalidArgument
  // when s expired. Call after reading the tree.
  enum class Found : uint8_t { kNone, kAbsent, kValue };
  Status Find(const SnapshotImpl* s, std::string_view key, Found* found, std::string* value)
      EXCLUDES(mu_);
  // Get's answer at snapshot s after the tree's (`tree_status`, *value):
  // a saved version overrides it. Call after reading the tree.
  Status Resolve(const SnapshotImpl* s, std::string_view key, Status tree_status,
                 std::string* value) EXCLUDES(mu_);
  // Every key in [low, high) (nullopt: unbounded) with a version for
  // snapshot s, in key order: what it was there (present, value). Call
  // after reading the tree.
  struct KeyAt {
    std::string key;
    bool present = false;
    std::string value;
  };
  Status Collect(const SnapshotImpl* s, std::optional<std::string_view> low,
                 std::optional<std::string_view> high, std::vector<KeyAt>* out) EXCLUDES(mu_);
  // Whether any version is saved (a reader may skip Find/Next when not,
  // having read the tree first).
  bool empty() const { return versions_.load(std::memory_order_acquire) == 0; }

  struct Stats {
    uint64_t snapshots = 0;
    uint64_t oldest_age_ms = 0;     // 0 without snapshots
    uint64_t oldest_lsn = 0;
    uint64_t retained_bytes = 0;    // versions and their bookkeeping
    uint64_t retained_versions = 0;
    uint64_t retained_keys = 0;
    uint64_t expired = 0;           // snapshots expired by max_bytes since open
    uint64_t reclaimed_versions = 0;
  };
  Stats stats() const EXCLUDES(mu_);

 private:
  struct Version {
    Lsn w;          // the batch that replaced it
    bool present;   // false: the key was absent
    std::string value;
  };
  // A chain is short (the versions of one key since the oldest snapshot):
  // a vector, oldest first.
  using Chains = std::map<std::string, std::vector<Version>, std::less<>>;

  const SnapshotImpl* Register(Lsn seq) REQUIRES(mu_);
  // Drops the versions with W <= horizon (oldest first).
  void PurgeUpTo(Lsn horizon) REQUIRES(mu_);
  // The horizon: the oldest snapshot's LSN, else `applied`.
  Lsn Horizon(Lsn applied) const REQUIRES(mu_);
  // Expires the oldest snapshots until the versions fit max_bytes.
  uint64_t ExpireForLimit() REQUIRES(mu_);
  // The version of chain c that snapshot lsn s reads (nullptr: none).
  static const Version* Visible(const std::vector<Version>& c, Lsn s);
  static Status Expired(const SnapshotImpl* s, uint64_t max_bytes);
  static uint64_t Cost(size_t key_size, const Version& v, bool new_key);

  const Limits limits_;
  mutable Mutex mu_;
  std::condition_variable_any batch_done_;
  std::list<SnapshotImpl*> snapshots_ GUARDED_BY(mu_);  // oldest first (LSN order)
  std::list<SnapshotImpl*> expired_list_ GUARDED_BY(mu_);  // expired, not yet released
  uint64_t batches_begun_ GUARDED_BY(mu_) = 0;
  uint64_t batches_ended_ GUARDED_BY(mu_) = 0;
  int waiters_ GUARDED_BY(mu_) = 0;  // Acquire calls waiting on batch_done_
  Lsn last_applied_ GUARDED_BY(mu_);
  Chains chains_ GUARDED_BY(mu_);
  // Every version, in the order saved (LSN order): where its chain is.
  std::deque<std::pair<Lsn, Chains::iterator>> queue_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  bool noticed_ GUARDED_BY(mu_) = false;  // notice_bytes passed since last under half of it
  uint64_t expired_ GUARDED_BY(mu_) = 0;
  uint64_t reclaimed_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> versions_{0};  // queue_.size(), for empty()
};

}  // namespace ringdb
