// PageTable implementation. See page_table.h.
#include "bufferpool/page_table.h"

#include <algorithm>
#include <bit>

#include "util/check.h"

namespace ringdb {

uint64_t PageTableHash(PageId id) {
  // murmur3's fmix64: every input bit moves every output bit.
  uint64_t h = id.value;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

PageTable::PageTable(uint32_t num_frames, const FrameHeader* frames) {
  // At least 256 expected entries per partition, so that no partition
  // comes near twice its share (its capacity) by chance; at most 64.
  num_partitions_ = std::clamp<uint32_t>(std::bit_floor(std::max<uint32_t>(1, num_frames / 256)),
                                         1, 64);
  partition_shift_ = 64 - std::countr_zero(num_partitions_);
  uint64_t per = std::max<uint64_t>(16, 2ull * num_frames / num_partitions_);
  if (num_partitions_ == 1) per = std::max<uint64_t>(16, 2ull * num_frames);
  uint64_t capacity = std::bit_ceil(per);
  partitions_ = std::make_unique<Partition[]>(num_partitions_);
  for (uint32_t i = 0; i < num_partitions_; i++) {
    Partition& p = partitions_[i];
    p.frames_ = frames;
    p.mask_ = static_cast<uint32_t>(capacity - 1);
    p.slots_ = std::make_unique<std::atomic<uint64_t>[]>(capacity);
    for (uint64_t s = 0; s < capacity; s++) p.slots_[s].store(0, std::memory_order_relaxed);
  }
}

PageTable::~PageTable() = default;

uint32_t PageTable::Lookup(PageId id) const {
  uint64_t h = PageTableHash(id);
  const Partition& p = partitions_[num_partitions_ == 1 ? 0 : (h >> partition_shift_)];
  return p.Find(id, h);
}

uint32_t PageTable::Partition::Find(PageId id, uint64_t hash) const {
  const uint64_t tag = hash & 0xffffffff00000000ull;
  uint32_t i = static_cast<uint32_t>(hash) & mask_;
  for (uint32_t probes = 0; probes <= mask_; probes++, i = (i + 1) & mask_) {
    uint64_t e = slots_[i].load(std::memory_order_acquire);
    if (e == 0) return kNone;
    if ((e & 0xffffffff00000000ull) != tag) continue;
    uint32_t f = static_cast<uint32_t>(e) - 1;
    if (frames_[f].page.load(std::memory_order_acquire) == id.value) return f;
  }
  return kNone;
}

uint32_t PageTable::Partition::LookupLocked(PageId id, uint64_t hash) const {
  return Find(id, hash);
}

void PageTable::Partition::InsertLocked(PageId id, uint64_t hash, uint32_t frame) {
  uint32_t i = static_cast<uint32_t>(hash) & mask_;
  for (uint32_t probes = 0; probes <= mask_; probes++, i = (i + 1) & mask_) {
    if (slots_[i].load(std::memory_order_relaxed) == 0) {
      slots_[i].store(Entry(hash, frame), std::memory_order_release);
      return;
    }
  }
  RINGDB_CHECK(false && "page table partition full");
}

void PageTable::Partition::RemoveLocked(PageId id, uint64_t hash, uint32_t frame) {
  const uint64_t want = Entry(hash, frame);
  uint32_t i = static_cast<uint32_t>(hash) & mask_;
  uint32_t probes = 0;
  while (slots_[i].load(std::memory_order_relaxed) != want) {
    RINGDB_CHECK(slots_[i].load(std::memory_order_relaxed) != 0 && ++probes <= mask_);
    i = (i + 1) & mask_;
  }
  // Backward shift: pull later entries of the run into the hole when their
  // home slot is not between the hole and where they sit.
  for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    uint64_t e = slots_[j].load(std::memory_order_relaxed);
    if (e == 0) break;
    uint32_t f = static_cast<uint32_t>(e) - 1;
    uint32_t home =
        static_cast<uint32_t>(PageTableHash(PageId{frames_[f].page.load(std::memory_order_relaxed)})) &
        mask_;
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i].store(e, std::memory_order_release);
      i = j;
    }
  }
  slots_[i].store(0, std::memory_order_release);
}

}  // namespace ringdb
