// VersionStore: see version_store.h.
#include "engine/version_store.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace ringdb {

namespace {

// Bookkeeping bytes counted per key (the map node) and per version (its
// slot in the chain and in the purge queue), beside the key and value.
constexpr uint64_t kKeyOverhead = 96;
constexpr uint64_t kVersionOverhead = 64;

std::string Mib(uint64_t bytes) {
  char buf[32];
  if (bytes < (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return buf;
}

}  // namespace

VersionStore::~VersionStore() {
  MutexLock lock(&mu_);
  for (SnapshotImpl* s : snapshots_) delete s;
  for (SnapshotImpl* s : expired_list_) delete s;
}

const SnapshotImpl* VersionStore::Register(Lsn seq) {
  auto* s = new SnapshotImpl(this, seq);
  snapshots_.push_back(s);
  s->pos_ = std::prev(snapshots_.end());
  return s;
}

void VersionStore::Release(const SnapshotImpl* cs) {
  MutexLock lock(&mu_);
  auto* s = const_cast<SnapshotImpl*>(cs);
  if (s->expired_) {
    expired_list_.erase(s->pos_);
  } else {
    snapshots_.erase(s->pos_);
  }
  delete s;
  PurgeUpTo(Horizon(last_applied_));
}

bool VersionStore::BeginBatch() {
  MutexLock lock(&mu_);
  batches_begun_++;
  return !snapshots_.empty() || waiters_ > 0;
}

uint64_t VersionStore::Cost(size_t key_size, const Version& v, bool new_key) {
  return kVersionOverhead + v.value.size() + (new_key ? kKeyOverhead + key_size : 0);
}

std::string VersionStore::Record(
    Lsn w, std::vector<std::pair<std::string, std::optional<std::string>>> olds) {
  MutexLock lock(&mu_);
  for (auto& [key, old] : olds) {
    const size_t key_size = key.size();
    auto [it, new_key] = chains_.try_emplace(std::move(key));  // one search; moved only when new
    std::vector<Version>& chain = it->second;
    if (!chain.empty() && chain.back().w == w) continue;  // the batch's first entry counts
    Version v{w, old.has_value(), old.has_value() ? std::move(*old) : std::string()};
    bytes_ += Cost(key_size, v, new_key);
    chain.push_back(std::move(v));
    queue_.emplace_back(w, it);
  }
  versions_.store(queue_.size(), std::memory_order_release);
  std::string notice;
  if (limits_.notice_bytes > 0 && !noticed_ && bytes_ >= limits_.notice_bytes) {
    noticed_ = true;
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - snapshots_.front()->taken_);
    notice = "snapshots hold " + Mib(bytes_) + " of old versions in memory (" +
             std::to_string(queue_.size()) + " versions; the oldest of " +
             std::to_string(snapshots_.size()) + " snapshots is " + std::to_string(age.count()) +
             " ms old): every write saves the values it replaces while an older snapshot or "
             "iterator is open; release them sooner (ringdb.snapshots.* properties)";
  }
  const uint64_t expired = ExpireForLimit();
  if (expired > 0) {
    if (!notice.empty()) notice += "; ";
    notice += std::to_string(expired) + " oldest snapshot(s) expired: old versions passed " +
              "Options::snapshot_max_bytes (" + Mib(limits_.max_bytes) + ")";
  }
  return notice;
}

uint64_t VersionStore::ExpireForLimit() {
  uint64_t expired = 0;
  while (limits_.max_bytes > 0 && bytes_ > limits_.max_bytes && !snapshots_.empty()) {
    SnapshotImpl* s = snapshots_.front();
    snapshots_.pop_front();
    s->expired_.store(true, std::memory_order_release);
    expired_list_.push_back(s);
    s->pos_ = std::prev(expired_list_.end());
    expired++;
    expired_++;
    PurgeUpTo(Horizon(last_applied_));
  }
  return expired;
}

void VersionStore::EndBatch(Lsn applied) {
  MutexLock lock(&mu_);
  last_applied_ = std::max(last_applied_, applied);
  batches_ended_++;
  if (waiters_ > 0) batch_done_.notify_all();
  PurgeUpTo(Horizon(last_applied_));
}

Lsn VersionStore::Horizon(Lsn applied) const {
  return snapshots_.empty() ? applied : snapshots_.front()->seq_;
}

void VersionStore::PurgeUpTo(Lsn horizon) {
  if (queue_.empty() || queue_.front().first > horizon) return;  // nothing to reclaim
  while (!queue_.empty() && queue_.front().first <= horizon) {
    Chains::iterator it = queue_.front().second;
    queue_.pop_front();
    std::vector<Version>& chain = it->second;
    const bool last = chain.size() == 1;
    bytes_ -= Cost(it->first.size(), chain.front(), last);
    chain.erase(chain.begin());
    if (last) chains_.erase(it);
    reclaimed_++;
  }
  versions_.store(queue_.size(), std::memory_order_release);
  if (bytes_ < limits_.notice_bytes / 2) noticed_ = false;
}

const VersionStore::Version* VersionStore::Visible(const std::vector<Version>& c, Lsn s) {
  // Chains are short and oldest first: the first batch after s.
  for (const Version& v : c) {
    if (v.w > s) return &v;
  }
  return nullptr;
}

Status VersionStore::Expired(const SnapshotImpl* s, uint64_t max_bytes) {
  return Status::InvalidArgument(
      "snapshot at sequence " + std::to_string(s->sequence()) +
      " expired: the old versions it needed passed Options::snapshot_max_bytes (" + Mib(max_bytes) +
      "); release snapshots and iterators sooner or raise the limit");
}

Status VersionStore::Find(const SnapshotImpl* s, std::string_view key, Found* found,
                          std::string* value) {
  MutexLock lock(&mu_);
  if (s->expired_) return Expired(s, limits_.max_bytes);
  *found = Found::kNone;
  auto it = chains_.find(key);
  if (it == chains_.end()) return Status::OK();
  const Version* v = Visible(it->second, s->seq_);
  if (v == nullptr) return Status::OK();
  *found = v->present ? Found::kValue : Found::kAbsent;
  if (v->present) *value = v->value;
  return Status::OK();
}

Status VersionStore::Resolve(const SnapshotImpl* s, std::string_view key, Status tree_status,
                             std::string* value) {
  if (!tree_status.ok() && !tree_status.IsNotFound()) return tree_status;
  // The tree was read first: with no version saved (and the snapshot not
  // expired), its answer is the snapshot's.
  if (empty() && !s->expired()) return tree_status;
  Found found;
  RINGDB_RETURN_IF_ERROR(Find(s, key, &found, value));
  switch (found) {
    case Found::kNone: return tree_status;
    case Found::kAbsent: return Status::NotFound();
    case Found::kValue: return Status::OK();
  }
  return tree_status;
}

Status VersionStore::Collect(const SnapshotImpl* s, std::optional<std::string_view> low,
                             std::optional<std::string_view> high, std::vector<KeyAt>* out) {
  MutexLock lock(&mu_);
  if (s->expired_) return Expired(s, limits_.max_bytes);
  out->clear();
  for (auto it = low ? chains_.lower_bound(*low) : chains_.begin();
       it != chains_.end() && (!high || it->first < *high); ++it) {
    const Version* v = Visible(it->second, s->seq_);
    if (v != nullptr) out->push_back({it->first, v->present, v->present ? v->value : std::string()});
  }
  return Status::OK();
}

VersionStore::Stats VersionStore::stats() const {
  MutexLock lock(&mu_);
  Stats st;
  st.snapshots = snapshots_.size();
  if (!snapshots_.empty()) {
    st.oldest_age_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                              snapshots_.front()->taken_)
            .count());
    st.oldest_lsn = snapshots_.front()->seq_.value;
  }
  st.retained_bytes = bytes_;
  st.retained_versions = queue_.size();
  st.retained_keys = chains_.size();
  st.expired = expired_;
  st.reclaimed_versions = reclaimed_;
  return st;
}

}  // namespace ringdb
