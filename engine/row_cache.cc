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
  for (uint64_t i = 0; count > 0 && i <= mask; i++) {
    if (slots[i] != 0) ::operator delete(NodeOf(slots[i]));
  }
}

size_t RowCache::FindLocked(const Shard& s, std::string_view key, uint64_t hash) {
  if (s.count == 0) return std::string_view::npos;
  const uint64_t tag = TagOf(hash);
  for (uint64_t i = hash & s.mask;; i = (i + 1) & s.mask) {
    const uint64_t slot = s.slots[i];
    if (slot == 0) return std::string_view::npos;
    if ((slot >> 48) == tag && NodeOf(slot)->key() == key) return i;
  }
}

uint64_t RowCache::HomeOf(uint64_t slot, uint64_t mask) {
  // The tag holds the hash's low 16 bits: enough for tables up to 2^16.
  if (mask <= 0xFFFF) return (slot >> 48) & mask;
  return Hash(NodeOf(slot)->key()) & mask;
}

void RowCache::InsertLocked(Shard& s, Node* n, uint64_t hash) {
  if (s.count == 0 && s.mask == 0) ResizeLocked(s, kMinSlots);
  if ((s.count + 1) * 4 > (s.mask + 1) * 3) ResizeLocked(s, (s.mask + 1) * 2);
  PlaceLocked(s, reinterpret_cast<uint64_t>(n) | (TagOf(hash) << 48), hash & s.mask);
  s.count++;
}

void RowCache::PlaceLocked(Shard& s, uint64_t slot, uint64_t home) {
  uint64_t i = home;
  while (s.slots[i] != 0) i = (i + 1) & s.mask;
  s.slots[i] = slot;
}

void RowCache::EraseAtLocked(Shard& s, size_t i) {
  Node* n = NodeOf(s.slots[i]);
  s.bytes -= Cost(n->key_size, n->value_size);
  ::operator delete(n);
  s.count--;
  // Backward shift: each later entry of the probe run whose home is not in
  // (i, j] cyclically moves into the hole.
  uint64_t hole = i;
  for (uint64_t j = (i + 1) & s.mask; s.slots[j] != 0; j = (j + 1) & s.mask) {
    const uint64_t home = HomeOf(s.slots[j], s.mask);
    const bool home_in_gap = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (home_in_gap) continue;
    s.slots[hole] = s.slots[j];
    hole = j;
  }
  s.slots[hole] = 0;
}

void RowCache::ResizeLocked(Shard& s, uint64_t slots) {
  std::unique_ptr<uint64_t[]> old = std::move(s.slots);
  const uint64_t old_slots = old ? s.mask + 1 : 0;
  s.slots = std::make_unique<uint64_t[]>(slots);  // zeroed: all empty
  s.mask = slots - 1;
  s.hand = 0;
  for (uint64_t i = 0; i < old_slots; i++) {
    const uint64_t slot = old[i];
    if (slot != 0) PlaceLocked(s, slot, HomeOf(slot, s.mask));
  }
}

void RowCache::EvictLocked(Shard& s, uint64_t bytes, uint64_t limit) {
  while (s.count > 0 && s.bytes + bytes > limit) {
    const uint64_t slot = s.slots[s.hand];
    if (slot == 0) {
      s.hand = (s.hand + 1) & s.mask;
    } else if ((slot & kRefBit) != 0) {
      s.slots[s.hand] = slot & ~kRefBit;  // a second chance
      s.hand = (s.hand + 1) & s.mask;
    } else {
      const Node* n = NodeOf(slot);
      s.ghost.Add(Hash(n->key()), Cost(n->key_size, n->value_size));
      // The shift may move a later pair into this slot: look at it next.
      EraseAtLocked(s, s.hand);
      s.evictions++;
    }
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
    // A table far larger than its pairs need gives its memory back.
    uint64_t slots = kMinSlots;
    while (slots < 2 * s.count) slots *= 2;
    if (s.count == 0) {
      s.slots.reset();
      s.mask = 0;
      s.hand = 0;
    } else if (slots * 2 <= s.mask + 1) {
      ResizeLocked(s, slots);
    }
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
  const size_t i = FindLocked(s, key, hash);
  if (i != std::string_view::npos) {
    s.slots[i] |= kRefBit;
    value->assign(NodeOf(s.slots[i])->value());
    s.hits++;
    return true;
  }
  s.misses++;
  const bool ghost = s.ghost.size() > 0 && s.ghost.Contains(hash);
  *ticket = Ticket{shard, s.gen, hash, s.writing == 0, ghost};
  if (ghost) s.ghost_hits++;
  return false;
}

void RowCache::Fill(std::string_view key, std::string_view value, const Ticket& ticket) {
  if (!enabled() || !ticket.valid) return;
  const uint64_t cost = Cost(key.size(), value.size());
  const uint64_t hash = ticket.hash;  // Lookup's, of the same key
  Shard& s = shards_[ticket.shard];
  MutexLock lock(&s.mu);
  // Read under the lock: SetCapacity stores before it trims each shard.
  const uint64_t limit = shard_capacity_.load(std::memory_order_relaxed);
  if (cost > limit / 8 || key.size() > kMaxPartSize || value.size() > kMaxPartSize) {
    // No room for it: as if cached and evicted at once.
    if (s.ghost.capacity() > 0) s.ghost.Add(hash, cost);
    return;
  }
  if (s.gen != ticket.gen || s.writing != 0) {
    s.refused++;
    return;
  }
  if (FindLocked(s, key, hash) != std::string_view::npos) return;  // another reader filled it
  EvictLocked(s, cost, limit);
  Node* n = static_cast<Node*>(::operator new(sizeof(Node) + key.size() + value.size()));
  if ((reinterpret_cast<uint64_t>(n) & ~kPtrMask) != 0) {
    // Outside what a slot can hold (not seen with malloc on x86-64 or
    // arm64): not cached.
    ::operator delete(n);
    return;
  }
  n->key_size = static_cast<uint16_t>(key.size());
  n->value_size = static_cast<uint16_t>(value.size());
  std::memcpy(n->data(), key.data(), key.size());
  std::memcpy(n->data() + key.size(), value.data(), value.size());
  InsertLocked(s, n, hash);
  s.bytes += cost;
  s.fills++;
}

void RowCache::BeginWrite(std::string_view key, Writes* writes) {
  if (!enabled()) return;
  size_t shard = 0;
  const uint64_t hash = Hash(key);
  Shard& s = ShardOf(hash, &shard);
  MutexLock lock(&s.mu);
  s.gen++;
  s.writing++;
  writes->per_shard[shard]++;
  const size_t i = FindLocked(s, key, hash);
  if (i != std::string_view::npos) EraseAtLocked(s, i);
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
    out.entries += s.count;
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
