// RowCache: see row_cache.h.
#include "engine/row_cache.h"

#include <cstring>
#include <functional>

namespace ringdb {

RowCache::RowCache(uint64_t capacity_bytes)
    : capacity_(capacity_bytes),
      shard_capacity_(capacity_bytes / kShards),
      shards_(capacity_bytes > 0 ? std::make_unique<Shard[]>(kShards) : nullptr) {}

RowCache::~RowCache() = default;

RowCache::Shard& RowCache::ShardOf(std::string_view key, size_t* index) {
  // The high bits: the index's own hash uses the low ones for buckets.
  *index = (std::hash<std::string_view>()(key) >> 48) % kShards;
  return shards_[*index];
}

RowCache::Shard::~Shard() {
  for (Node* n : index) ::operator delete(n);
}

void RowCache::Unlink(Node* n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
}

void RowCache::PushFront(Shard& s, Node* n) {
  n->prev = &s.head;
  n->next = s.head.next;
  s.head.next->prev = n;
  s.head.next = n;
}

void RowCache::EraseLocked(Shard& s, Node* n) {
  s.bytes -= Cost(n->key_size, n->value_size);
  s.index.erase(n);
  Unlink(n);
  ::operator delete(n);
}

bool RowCache::Lookup(std::string_view key, std::string* value, Ticket* ticket) {
  if (!enabled()) {
    *ticket = Ticket{};
    return false;
  }
  size_t shard = 0;
  Shard& s = ShardOf(key, &shard);
  MutexLock lock(&s.mu);
  auto it = s.index.find(key);
  if (it != s.index.end()) {
    Node* n = *it;
    Unlink(n);
    PushFront(s, n);
    value->assign(n->value());
    s.hits++;
    return true;
  }
  s.misses++;
  *ticket = Ticket{shard, s.gen, s.writing == 0};
  return false;
}

void RowCache::Fill(std::string_view key, std::string_view value, const Ticket& ticket) {
  if (!enabled() || !ticket.valid) return;
  const uint64_t cost = Cost(key.size(), value.size());
  if (cost > shard_capacity_ / 8) return;
  Shard& s = shards_[ticket.shard];
  MutexLock lock(&s.mu);
  if (s.gen != ticket.gen || s.writing != 0) {
    s.refused++;
    return;
  }
  if (s.index.find(key) != s.index.end()) return;  // another reader filled it
  while (s.head.prev != &s.head && s.bytes + cost > shard_capacity_) {
    EraseLocked(s, s.head.prev);
    s.evictions++;
  }
  Node* n = static_cast<Node*>(::operator new(sizeof(Node) + key.size() + value.size()));
  n->key_size = static_cast<uint32_t>(key.size());
  n->value_size = static_cast<uint32_t>(value.size());
  std::memcpy(n->data(), key.data(), key.size());
  std::memcpy(n->data() + key.size(), value.data(), value.size());
  s.index.insert(n);
  PushFront(s, n);
  s.bytes += cost;
  s.fills++;
}

void RowCache::BeginWrite(std::string_view key, Writes* writes) {
  if (!enabled()) return;
  size_t shard = 0;
  Shard& s = ShardOf(key, &shard);
  MutexLock lock(&s.mu);
  s.gen++;
  s.writing++;
  writes->per_shard[shard]++;
  auto it = s.index.find(key);
  if (it != s.index.end()) EraseLocked(s, *it);
}

void RowCache::EndWrites(const Writes& writes) {
  if (!enabled()) return;
  for (size_t i = 0; i < kShards; i++) {
    if (writes.per_shard[i] == 0) continue;
    Shard& s = shards_[i];
    MutexLock lock(&s.mu);
    s.gen++;
    s.writing -= writes.per_shard[i];
  }
}

RowCache::Stats RowCache::stats() const {
  Stats out;
  out.capacity = capacity_;
  if (!enabled()) return out;
  for (size_t i = 0; i < kShards; i++) {
    const Shard& s = shards_[i];
    MutexLock lock(&s.mu);
    out.entries += s.index.size();
    out.bytes += s.bytes;
    out.hits += s.hits;
    out.misses += s.misses;
    out.fills += s.fills;
    out.refused += s.refused;
    out.evictions += s.evictions;
  }
  return out;
}

}  // namespace ringdb
