// PageStore: where logical pages live in the data file (shadow paging).
//
// The B+tree names pages by logical id; the store maps each id to a
// physical slot (slot s is at byte s * page_size). A slot referenced by the
// last durable checkpoint is never overwritten: the first write of such a
// page after a checkpoint goes to a fresh slot, and the old slot is only
// reused once the next checkpoint no longer references it. So the file
// always holds the last checkpoint's tree intact, whatever was written
// after it, and a page torn by a crash can only be one the checkpoint does
// not reference.
//
// This is how ringdb meets the torn-page rule (docs/ARCHITECTURE.md): instead of
// repairing a torn page from a full-page image or a doublewrite copy, it
// never tears a page recovery needs. Recovery reads the checkpoint's map
// and replays the log over it; pages written after the checkpoint are
// unreferenced garbage and their slots are free again.
//
// The map is written at each checkpoint as a contiguous run of map pages
// (one u64 slot number per logical id, 0 = free) named by the superblock.
// Map page layout: PageHeader (page_id = kMapPageTag + index), then
// (page_size - 24) / 8 little-endian u64 entries.
//
// Readers beside the writer (Options::read_only while another process
// writes, see db_impl.h) read the checkpoint that was newest when they
// opened, for as long as they stay open. For them the writer HOLDS slots:
// a slot that some older checkpoint referenced is handed out again only
// after a checkpoint whose reuse gate (set_reuse_gate) said that no such
// reader is left; until then the file grows instead. At Load, when readers
// are present, every slot of the file the loaded checkpoint does not
// reference is held (they may read any older checkpoint).
//
// Thread-safety: all methods are safe from any thread (one mutex, never
// held across I/O). Checkpoint() requires that no page is modified while it
// runs (the DB holds its writer lock).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bufferpool/buffer_pool.h"
#include "engine/page_allocator.h"
#include "engine/superblock.h"
#include "io/io_backend.h"

namespace ringdb {

inline constexpr uint64_t kMapPageTag = 0xFFFF'0000'0000'0000ull;

struct PageStoreStats {
  uint64_t logical_pages = 0;  // ids ever handed out (high-water mark)
  uint64_t live_pages = 0;     // ids in use
  uint64_t slots = 0;          // physical slots in the file
  uint64_t free_slots = 0;
  uint64_t pending_slots = 0;  // freed, reusable after the next checkpoint
  uint64_t checkpoints = 0;
  uint64_t truncated_slots = 0;  // cut off the end of the file since open
  uint64_t held_slots = 0;  // kept for readers of older checkpoints
};

class PageStore : public PageLocator, public PageAllocator {
 public:
  // A store for a new, empty file.
  PageStore(io::IoBackend* io, io::FileId file, uint32_t page_size);

  // Loads the map named by `sb` (checksummed map pages) and derives the
  // free slots and free ids. `hold_unreferenced`: readers of older
  // checkpoints may be reading the file, so no slot of it is free until a
  // checkpoint's reuse gate opens (see the file comment).
  static Result<std::unique_ptr<PageStore>> Load(io::IoBackend* io, io::FileId file,
                                                 const Superblock& sb,
                                                 bool hold_unreferenced = false);

  // Called by Checkpoint once the new superblock is durable: true when no
  // reader of an older checkpoint can still be reading the file, so the
  // slots only older checkpoints reference may be reused. Without a gate
  // they always may. Set before the first Checkpoint; called without mu_.
  void set_reuse_gate(std::function<bool()> gate) { reuse_gate_ = std::move(gate); }

  // The pool whose pages this store places; Free() drops pages from it.
  void set_pool(BufferPool* pool) { pool_ = pool; }

  // PageLocator.
  Result<uint64_t> ReadOffset(PageId id) override;
  Result<uint64_t> WriteOffset(PageId id) override;
  void WriteDone(PageId id, uint64_t offset, bool ok) override;

  // PageAllocator.
  Result<PageId> Allocate() override;
  void Free(PageId id) override;

  // Flushes the pool, writes the map and the superblock `sb` (its seq,
  // map and slot fields are filled in here) and fdatasyncs: afterwards the
  // file holds this checkpoint. On failure the previous checkpoint stays
  // the valid one.
  Status Checkpoint(Superblock* sb);

  // Checks that every mapped slot is inside the file and used once.
  Status Verify(std::string* report);

  PageStoreStats stats();

  // For compaction: the live pages whose slots lie at or beyond the number
  // of slots the live data needs (*target_slots). Rewriting them (dirty,
  // then a checkpoint) moves them to the lowest free slots.
  std::vector<PageId> PagesToMoveDown(uint64_t* target_slots);
  // For compaction: new slots, in the order given, for the pages of `ids`
  // that sit where the last checkpoint put them (and have no new slot
  // yet); their next writes go there (*placed: those pages, to be
  // written). kAtEnd: consecutive new slots past the end of the file.
  // kLowest: the lowest free slots, one after another (consecutive where
  // the free slots are). Nothing when the pages already sit in consecutive
  // slots in that order, below the size Compact shrinks the file to
  // (TargetSlotsLocked). A page freed meanwhile gives its slot back
  // (Free); one not written by the next checkpoint keeps its old slot
  // (UnplaceUnwrittenLocked).
  enum class Place : uint8_t { kAtEnd, kLowest };
  void PlaceInOrder(const std::vector<PageId>& ids, Place where, std::vector<PageId>* placed);
  uint32_t page_size() const { return page_size_; }

  // New slots are written into blocks reserved ahead (io Allocate, in
  // chunks of 1/64 of the file, 64 slots to 64 MiB): an O_DIRECT write that
  // extends the file takes the inode lock exclusively and is handed to a
  // kernel worker, one into reserved blocks is not (a 4096-page write test
  // here: 5.3 s extending, 0.7 s into reserved blocks). The reservation is
  // free space the file holds: checkpoints keep at most one chunk of it,
  // and this cuts it off (Close and Compact call it). It also punches the
  // free slots whose blocks HoldFreeBlocks kept, and ends the hold.
  Status DropReservation();

  // While held, checkpoints still cut free slots off the end of the file
  // but punch no holes, and the holes already in the part of the file the
  // live pages will fill are allocated again (one fallocate over it):
  // Compact's rounds write pages into the lowest free slots, and an
  // O_DIRECT write into a hole waits for the file system to allocate its
  // blocks (io_uring hands it to a kernel worker), while a punch waits for
  // every request in flight on the file. DropReservation (at Compact's
  // end, at Close), or the next checkpoint after HoldFreeBlocks(false),
  // punches what the hold kept. Best effort: after a failed fallocate the
  // writes go into the holes left, and what it did allocate is punched
  // like the rest. Require, for hold = true: no checkpoint runs meanwhile
  // (the DB's writer lock).
  void HoldFreeBlocks(bool hold);

 private:
  // Slots a file of `count` slots may hold reserved past them.
  uint64_t ReserveSlots(uint64_t count) const;
  // Reserves the blocks of the new slots from `first_new` (those not
  // reserved yet) and the next chunk, once slot_count_ has passed
  // reserved_end_. Best effort: a failure leaves new slots to extend the
  // file as writes. Require: mu_ held.
  void ReserveAheadLocked(uint64_t first_new);
  // n new slots at the end of the file (the first returned), reserved
  // ahead as needed. Require: mu_ held.
  uint64_t ExtendLocked(uint64_t n);
  // Slots the file needs for the live pages: the superblocks, every live
  // page, the next map and a little slack. Require: mu_ held.
  uint64_t TargetSlotsLocked() const;
  bool InCheckpoint(uint64_t slot) const {
    return slot < ckpt_.size() && ckpt_[slot] != 0;
  }
  uint64_t TakeSlotLocked();
  // A run of n consecutive free slots (or new ones at the end of the file).
  uint64_t TakeRunLocked(uint64_t n);
  // Gives back the slots PlaceInOrder saved for pages that were not written
  // before this checkpoint. Require: mu_ held, the pool flushed.
  void UnplaceUnwrittenLocked();
  // A slot nobody references any more: free after the next checkpoint when
  // the last checkpoint holds it, else now (FreeSlotLocked).
  void ReleaseSlotLocked(uint64_t slot);
  // Onto the free list, or, while a write to it is in flight, onto landing_.
  void FreeSlotLocked(uint64_t slot);
  // Counts a write to `slot` as in flight; returns its byte offset.
  uint64_t StartWriteLocked(uint64_t slot);
  // `may_reuse` false: the slots the previous checkpoint referenced (and
  // those already held) stay held instead of turning free.
  void RebuildFreeLocked(uint64_t map_start, uint64_t map_pages, bool may_reuse);
  // After a checkpoint: cuts free slots off the end of the file and punches
  // holes in the other free slots that still hold blocks.
  Status ReleaseSpace();

  io::IoBackend* const io_;
  const io::FileId file_;
  const uint32_t page_size_;
  BufferPool* pool_ = nullptr;

  std::mutex mu_;
  std::vector<uint64_t> map_;      // logical id -> slot (0: none)
  std::vector<uint64_t> pending_;  // logical id -> slot being written (0: none)
  std::vector<uint64_t> placed_;   // ids PlaceInOrder gave slots since the last checkpoint
  std::vector<uint8_t> live_;      // logical id -> allocated and not freed
  std::vector<uint8_t> ckpt_;      // slot -> referenced by the last checkpoint
  std::vector<uint8_t> held_;      // slot -> kept for readers of older checkpoints
  std::function<bool()> reuse_gate_;
  std::unordered_set<uint64_t> scratch_;  // slots of writes that raced Free()
  // Slots with writes in flight (WriteOffset given, WriteDone not yet), and
  // freed slots that return to the free list when their write lands: a slot
  // is never handed out while a stale write to it could still land.
  std::unordered_map<uint64_t, uint32_t> in_flight_;
  std::unordered_set<uint64_t> landing_;
  std::set<uint64_t> free_slots_;  // ordered: the lowest is handed out first
  std::set<uint64_t> to_punch_;    // free slots whose blocks the file system still holds
  bool hold_free_blocks_ = false;  // HoldFreeBlocks: no holes punched for now
  bool punch_supported_ = true;
  uint64_t truncated_slots_ = 0;   // slots cut off the end of the file, in total
  uint64_t release_errors_ = 0;    // failed ReleaseSpace calls
  std::vector<uint64_t> pending_free_;  // in the checkpoint; free after the next
  std::vector<uint64_t> free_ids_;
  uint64_t slot_count_ = 2;        // slots 0 and 1: the superblock copies
  uint64_t reserved_end_ = 2;      // the file holds blocks for slots below this
  bool reserve_supported_ = true;
  uint64_t map_start_ = 0, map_pages_ = 0;  // the checkpoint's map run
  uint64_t checkpoints_ = 0;
};

}  // namespace ringdb
