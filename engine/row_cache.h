// RowCache: hot key-value pairs kept beside the buffer pool, for DB::Get.
//
// Why: a page cache keeps whole leaves. When reads are skewed (Zipfian)
// but the hot keys are spread over the key space, each cached leaf holds
// one or two hot pairs and thirty cold ones, so with the data far larger
// than memory most hot keys still miss. A pair cache spends its bytes on
// the pairs that are read (RocksDB's row_cache, off by default there too).
//
// Who uses it: DBImpl::Get without a snapshot looks here first; on a miss
// it reads the tree and offers the value back (Fill). MultiGet, iterators
// and snapshot reads go to the tree only (they need one consistent view).
//
// Staleness: a fill must never cache a value a write has since replaced.
// Each shard keeps a generation and a count of writes in progress. The
// writer calls BeginWrite for each key of a batch before the batch changes
// anything (it erases the key and bumps the generation) and EndWrites after
// (bumps it again). A reader's Lookup, on a miss, returns a Ticket holding
// the shard's generation, or an invalid one while a write to the shard is
// in progress; Fill inserts only when the generation is unchanged. So a
// filled value was read while no write to any key of its shard began or
// was in progress: it is the key's current value, and stays so until the
// next BeginWrite of the key erases it. Readers that must see a key absent
// for another reason (DeleteBuffer) check that after taking the ticket.
//
// Memory: capacity_bytes bounds key + value + kEntryOverhead per entry, on
// the heap beside the pool; split into kShards shards, each an open-
// addressing table evicted by CLOCK (one allocation per pair, see Shard).
// A pair larger than an eighth of a shard, or with a key or value over
// 64 KiB, is not cached. An adjustable cache (the engine's adaptive split,
// engine/db_cache_balance.cc) starts at 0 and changes its capacity with
// SetCapacity; it keeps a ghost of the keys it evicted last.
//
// Thread-safety: every method may be called from any thread. Each shard's
// mu is a leaf lock. A writer's BeginWrites are ended by one EndWrites
// with the Writes they filled (DBImpl calls them under write_mu_).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/ghost_list.h"
#include "util/thread_annotations.h"

namespace ringdb {

class RowCache {
 public:
  // Bytes counted per entry besides its key and value: the node's header
  // and malloc's, malloc's rounding, and the index's slots at their
  // lowest load. Measured with mallinfo2 for 16-byte keys and 100-byte
  // values (row_cache_test).
  static constexpr uint64_t kEntryOverhead = 40;
  static constexpr size_t kShards = 16;

  // capacity_bytes 0 and not adjustable: disabled (every call is a no-op,
  // Lookup misses). Adjustable: the capacity may change (SetCapacity),
  // from 0 up, so the writers' marks are kept from the start.
  explicit RowCache(uint64_t capacity_bytes, bool adjustable = false);
  ~RowCache();
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  bool enabled() const { return shards_ != nullptr; }
  uint64_t capacity() const { return capacity_.load(std::memory_order_relaxed); }

  // Adjustable caches only: a new capacity, evicting at once down to it.
  void SetCapacity(uint64_t capacity_bytes);
  // The ghost (util/ghost_list.h): with ghost_bytes > 0, the hashes of the
  // pairs evicted last, up to that many bytes of them (a pair refused for
  // want of room counts as evicted at once, so an empty cache still keeps
  // one). A miss on a key in it counts in Stats::ghost_hits: a key read
  // again soon after it left, what a skewed workload does.
  void SetGhostBytes(uint64_t ghost_bytes);
  // Every Ticket handed out so far refuses its fill (each shard's
  // generation moves): for writers that start marking their keys again
  // after a time without (the adaptive split turning on).
  void InvalidateTickets();

  // What Fill needs to know that no write intervened since the miss, and
  // the key's hash (so Fill does not hash the key again: a ticket serves
  // only the key of its Lookup). `ghost`: the missed key was in the ghost
  // (what one more step of capacity would have kept; the adaptive split
  // weighs it).
  struct Ticket {
    size_t shard = 0;
    uint64_t gen = 0;
    uint64_t hash = 0;
    bool valid = false;
    bool ghost = false;
  };
  // A hit copies the value into *value and returns true. A miss returns
  // false and sets *ticket.
  bool Lookup(std::string_view key, std::string* value, Ticket* ticket);
  // Offers `value` for `key`, read from the tree after the Lookup of `key`
  // that gave `ticket`; kept only if no write to the shard began since.
  void Fill(std::string_view key, std::string_view value, const Ticket& ticket);

  // The writer, around a batch: BeginWrite for each key before the batch
  // changes anything (it counts the key's shard in *writes), EndWrites
  // once after, with the same counts (see above).
  struct Writes {
    uint32_t per_shard[kShards] = {};
  };
  void BeginWrite(std::string_view key, Writes* writes);
  void EndWrites(const Writes& writes);

  struct Stats {
    uint64_t capacity = 0;
    uint64_t entries = 0;
    uint64_t bytes = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t fills = 0;      // values cached
    uint64_t refused = 0;    // fills refused: a write intervened
    uint64_t evictions = 0;
    uint64_t ghost_hits = 0;  // misses on keys in the ghost
  };
  Stats stats() const;

 private:
  // One allocation per pair: the sizes, then the key and value bytes
  // (data()). 16-bit sizes: a pair with a larger key or value is not cached.
  struct Node {
    uint16_t key_size;
    uint16_t value_size;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return std::string_view(data(), key_size); }
    std::string_view value() const { return std::string_view(data() + key_size, value_size); }
  };
  static constexpr size_t kMaxPartSize = 0xFFFF;
  // The shard's index: open addressing with linear probing, a power of two
  // of slots, at most three quarters full; deletions shift the entries
  // after them back (no tombstones). A slot is 0 (empty) or a Node*
  // (malloc'd, so below 2^48 and even) with the low 16 bits of its key's
  // hash in its top 16 bits (a tag that spares most key compares, and its
  // home slot while the table has at most 2^16 slots) and CLOCK's
  // reference bit in bit 0. Eviction is CLOCK over the slots: a Lookup hit
  // sets the bit; the hand clears set bits and evicts the first pair
  // without one. So a pair costs its allocation and about 11 to 21 bytes
  // of slots, with no list links.
  static constexpr uint64_t kRefBit = 1;
  static constexpr uint64_t kPtrMask = 0x0000'FFFF'FFFF'FFFEull;
  static constexpr uint64_t kMinSlots = 16;
  static Node* NodeOf(uint64_t slot) { return reinterpret_cast<Node*>(slot & kPtrMask); }
  static uint64_t TagOf(uint64_t hash) { return hash & 0xFFFF; }
  struct alignas(64) Shard {
    ~Shard();
    mutable Mutex mu;
    std::unique_ptr<uint64_t[]> slots GUARDED_BY(mu);
    uint64_t mask GUARDED_BY(mu) = 0;  // slot count - 1; no table while count is 0
    uint64_t count GUARDED_BY(mu) = 0;
    uint64_t hand GUARDED_BY(mu) = 0;  // CLOCK's hand: a slot index
    uint64_t bytes GUARDED_BY(mu) = 0;
    uint64_t gen GUARDED_BY(mu) = 0;
    uint32_t writing GUARDED_BY(mu) = 0;  // BeginWrites not yet ended
    uint64_t hits GUARDED_BY(mu) = 0;
    uint64_t misses GUARDED_BY(mu) = 0;
    uint64_t fills GUARDED_BY(mu) = 0;
    uint64_t refused GUARDED_BY(mu) = 0;
    uint64_t evictions GUARDED_BY(mu) = 0;
    uint64_t ghost_hits GUARDED_BY(mu) = 0;
    GhostList ghost GUARDED_BY(mu);
  };
  static uint64_t Cost(size_t key_size, size_t value_size) {
    return key_size + value_size + kEntryOverhead;
  }
  static uint64_t Hash(std::string_view key) { return std::hash<std::string_view>()(key); }
  // The shard of a key whose Hash is `hash`.
  Shard& ShardOf(uint64_t hash, size_t* index);
  // The slot holding `key` (whose Hash is `hash`), or npos.
  static size_t FindLocked(const Shard& s, std::string_view key, uint64_t hash) REQUIRES(s.mu);
  // The slot a table of mask + 1 slots would put the pair of `slot` in.
  static uint64_t HomeOf(uint64_t slot, uint64_t mask);
  static void InsertLocked(Shard& s, Node* n, uint64_t hash) REQUIRES(s.mu);
  // Stores `slot` in the first empty slot from `home` on.
  static void PlaceLocked(Shard& s, uint64_t slot, uint64_t home) REQUIRES(s.mu);
  // Removes and frees the pair in slot i.
  static void EraseAtLocked(Shard& s, size_t i) REQUIRES(s.mu);
  // Rebuilds the table with `slots` slots (a power of two above count).
  static void ResizeLocked(Shard& s, uint64_t slots) REQUIRES(s.mu);
  // Evicts (CLOCK) until `bytes` fit under `limit`.
  static void EvictLocked(Shard& s, uint64_t bytes, uint64_t limit) REQUIRES(s.mu);

  std::atomic<uint64_t> capacity_;
  std::atomic<uint64_t> shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace ringdb
