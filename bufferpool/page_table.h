// PageTable: page id -> frame, with lookups that take no lock and write
// nothing. Private to bufferpool/.
//
// The table is split into partitions by the page id's hash; each partition
// is a fixed power-of-two array of atomic 64-bit slots (at least twice the
// frames it can expect, so it never fills) probed linearly. A slot holds
// [32 bits of the id's hash][frame + 1]; 0 is empty. The page id itself is
// not stored: a lookup that meets a slot with the right hash bits checks
// the frame header's page field, which the caller reads next anyway.
//
// Lookup() runs with no lock and may, rarely, miss an entry that a
// concurrent Remove() in the same partition is shifting back (linear
// probing deletes by backward shift, leaving no tombstones); a caller that
// acts on a miss must confirm it with LookupLocked() under the partition's
// lock. A hit is only a hint until the caller has latched the frame and
// checked that its page field still names the page (the frame may have
// been evicted in between).
//
// Thread-safety: Lookup() from any thread at any time. Insert, Remove and
// LookupLocked require the partition's mutex (Lock(id)), which the caller
// holds only briefly and never while waiting for a latch or doing I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "bufferpool/frame.h"
#include "bufferpool/page.h"
#include "util/thread_annotations.h"

namespace ringdb {

class PageTable {
 public:
  static constexpr uint32_t kNone = ~0u;

  class Partition;

  // `frames` must outlive the table; it is read to confirm page ids.
  PageTable(uint32_t num_frames, const FrameHeader* frames);
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // The partition holding `id`; lock its mutex() around the *Locked calls.
  Partition& PartitionOf(PageId id);

  // The frame holding `id`, or kNone (see the file comment: a hint).
  uint32_t Lookup(PageId id) const;

 private:
  static uint64_t Hash(uint64_t id);

  uint32_t num_partitions_ = 1;
  int partition_shift_ = 64;
  std::unique_ptr<Partition[]> partitions_;
};

class PageTable::Partition {
 public:
  Mutex& mutex() RETURN_CAPABILITY(mu_) { return mu_; }

  uint32_t LookupLocked(PageId id, uint64_t hash) const REQUIRES(mu_);
  // Enters id -> frame. Require: id absent, frames[frame].page == id.
  void InsertLocked(PageId id, uint64_t hash, uint32_t frame) REQUIRES(mu_);
  // Removes id's entry, which must name `frame`. Require: present, and
  // frames[frame].page still == id.
  void RemoveLocked(PageId id, uint64_t hash, uint32_t frame) REQUIRES(mu_);

 private:
  friend class PageTable;
  static constexpr uint64_t Entry(uint64_t hash, uint32_t frame) {
    return (hash & 0xffffffff00000000ull) | (uint64_t{frame} + 1);
  }
  uint32_t Find(PageId id, uint64_t hash) const;

  mutable Mutex mu_;
  const FrameHeader* frames_ = nullptr;
  uint32_t mask_ = 0;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
};

// The hash PageTable uses; callers pass it to the *Locked calls.
uint64_t PageTableHash(PageId id);

inline PageTable::Partition& PageTable::PartitionOf(PageId id) {
  return partitions_[num_partitions_ == 1 ? 0 : (PageTableHash(id) >> partition_shift_)];
}

}  // namespace ringdb
