// RowCache: see row_cache.h.
#include "engine/row_cache.h"

#include <cstring>
#include <functional>

namespace ringdb {

RowCache::RowCache(uint64_t capacity_bytes, bool adjustable)
    : capacity_(capacity_bytes),
      shard_capacity_(capacity_bytes / kShards),
      shards_(capacity_bytes > 0 || adjustable ? std::make_unique<Shard[]>(kShards) : nullptr) {}

RowCache::~RowCache() = default;

RowCache::Shard& RowCache::ShardOf(uint64_t hash, size_t* index) {
  // The high bits: the index's own hash uses the low ones for buckets.
  *index = (hash >> 48) % kShards;
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

void RowCache::EvictLocked(Shard& s, uint64_t bytes, uint64_t limit) {
  while (s.head.prev != &s.head && s.bytes + bytes > limit) {
    Node* n = s.head.prev;
    s.ghost.Add(Hash(n->key()), Cost(n->key_size, n->value_size));
    EraseLocked(s, n);
    s.evictions++;
  }
}

void RowCache::SetCapacity(uint64_t capacity_bytes) {
  if (!enabled()) return;
  capacity_.store(capacity_bytes, std::memory_order_relaxed);
  const uint64_t per_shard = capacity_bytes / kShards;
  shard_capacity_.store(per_shard, std::memory_order_relaxed);
  for (size_t i = 0; i < kShards; i++) {
    Shard& s = shards_[i];
    MutexLock lock(&s.mu);
    EvictLocked(s, 0, per_shard);
  }
}

void RowCache::SetGhostBytes(uint64_t ghost_bytes) {
  if (!enabled()) return;
  for (size_t i = 0; i < kShards; i++) {
    Shard& s = shards_[i];
    MutexLock lock(&s.mu);
    s.ghost.SetCapacity(ghost_bytes / kShards);
  }
}

void RowCache::InvalidateTickets() {
  if (!enabled()) return;
  for (size_t i = 0; i < kShards; i++) {
    Shard& s = shards_[i];
    MutexLock lock(&s.mu);
    s.gen++;
  }
}

bool RowCache::Lookup(std::string_view key, std::string* value, Ticket* ticket) {
  if (!enabled()) {
    *ticket = Ticket{};
    return false;
  }
  size_t shard = 0;
  const uint64_t hash = Hash(key);
  Shard& s = ShardOf(hash, &shard);
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
  const bool ghost = s.ghost.size() > 0 && s.ghost.Contains(hash);
  *ticket = Ticket{shard, s.gen, s.writing == 0, ghost};
  if (ghost) s.ghost_hits++;
  return false;
}

void RowCache::Fill(std::string_view key, std::string_view value, const Ticket& ticket) {
  if (!enabled() || !ticket.valid) return;
  const uint64_t cost = Cost(key.size(), value.size());
  Shard& s = shards_[ticket.shard];
  MutexLock lock(&s.mu);
  // Read under the lock: SetCapacity stores before it trims each shard.
  const uint64_t limit = shard_capacity_.load(std::memory_order_relaxed);
  if (cost > limit / 8) {
    // No room for it: as if cached and evicted at once.
    if (s.ghost.capacity() > 0) s.ghost.Add(Hash(key), cost);
    return;
  }
  if (s.gen != ticket.gen || s.writing != 0) {
    s.refused++;
    return;
  }
  if (s.index.find(key) != s.index.end()) return;  // another reader filled it
  EvictLocked(s, cost, limit);
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
  Shard& s = ShardOf(Hash(key), &shard);
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
  out.capacity = capacity();
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
    out.ghost_hits += s.ghost_hits;
  }
  return out;
}

}  // namespace ringdb
