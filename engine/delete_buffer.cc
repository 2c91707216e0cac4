// DeleteBuffer: see delete_buffer.h.
#include "engine/delete_buffer.h"

#include <algorithm>

namespace ringdb {

bool DeleteBuffer::Contains(std::string_view key) const {
  ReaderLock lock(&mu_);
  return entries_.find(key) != entries_.end();
}

bool DeleteBuffer::HasRoom(size_t key_size) const {
  ReaderLock lock(&mu_);
  return bytes_ + Cost(key_size) <= max_bytes_;
}

void DeleteBuffer::Add(std::string_view key, Lsn lsn) {
  WriterLock lock(&mu_);
  // Buckets for a full buffer (up to kMaxReserve) at the first delete: no
  // rehash while it fills (a third of a buffered delete's time at 400 k
  // entries).
  const uint64_t reserve = std::min<uint64_t>(max_bytes_ / kEntryOverhead, kMaxReserve);
  if (entries_.empty() && entries_.bucket_count() < reserve) entries_.reserve(reserve);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    entries_.emplace(std::string(key), Entry{lsn, false});
    bytes_ += Cost(key.size());
    unapplied_++;
    entries_count_.store(entries_.size(), std::memory_order_release);
  } else {
    if (it->second.applied) unapplied_++;
    it->second = Entry{lsn, false};
  }
  buffered_++;
}

void DeleteBuffer::EraseLocked(Map::iterator it) {
  bytes_ -= Cost(it->first.size());
  if (!it->second.applied) unapplied_--;
  entries_.erase(it);
  entries_count_.store(entries_.size(), std::memory_order_release);
}

void DeleteBuffer::Erase(std::string_view key) {
  WriterLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) EraseLocked(it);
}

void DeleteBuffer::Unapplied(std::vector<std::pair<std::string, Lsn>>* out) const {
  out->clear();
  {
    ReaderLock lock(&mu_);
    out->reserve(unapplied_);
    for (const auto& [key, e] : entries_) {
      if (!e.applied) out->emplace_back(key, e.lsn);
    }
  }
  std::sort(out->begin(), out->end());
}

void DeleteBuffer::UnappliedFrom(std::string_view from, size_t limit,
                                 std::vector<std::pair<std::string, Lsn>>* out) const {
  out->clear();
  using Ref = std::pair<std::string_view, Lsn>;
  const auto by_key = [](const Ref& a, const Ref& b) { return a.first < b.first; };
  // Takes the `n` smallest of `refs` (all when fewer).
  const auto take = [&](std::vector<Ref>& refs, size_t n) {
    if (refs.size() > n) std::nth_element(refs.begin(), refs.begin() + n, refs.end(), by_key);
    for (size_t i = 0; i < std::min(n, refs.size()); i++) out->emplace_back(refs[i]);
  };
  ReaderLock lock(&mu_);
  std::vector<Ref> above, below;
  for (const auto& [key, e] : entries_) {
    if (e.applied) continue;
    (std::string_view(key) >= from ? above : below).emplace_back(key, e.lsn);
  }
  take(above, limit);
  if (out->size() < limit) take(below, limit - out->size());
  std::sort(out->begin(), out->end());
}

void DeleteBuffer::MarkApplied(std::span<const std::pair<std::string, Lsn>> keys, bool erase) {
  WriterLock lock(&mu_);
  for (const auto& [key, lsn] : keys) {
    auto it = entries_.find(key);
    // Only the writer changes entries, and it is the caller: each is there.
    if (it == entries_.end() || it->second.applied) continue;
    applied_++;
    if (erase) {
      EraseLocked(it);
    } else {
      it->second.applied = true;
      unapplied_--;
    }
  }
}

void DeleteBuffer::EraseApplied() {
  WriterLock lock(&mu_);
  if (unapplied_ == entries_.size()) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.applied) {
      bytes_ -= Cost(it->first.size());
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  entries_count_.store(entries_.size(), std::memory_order_release);
}

DeleteBuffer::Stats DeleteBuffer::stats() const {
  ReaderLock lock(&mu_);
  Stats s;
  s.entries = entries_.size();
  s.unapplied = unapplied_;
  s.bytes = bytes_;
  s.max_bytes = max_bytes_;
  s.buffered = buffered_;
  s.applied = applied_;
  return s;
}

}  // namespace ringdb
