// FrameHeader: the per-frame header, kept apart from the aligned page
// memory (one cache line per frame). Private to bufferpool/.
//
// Field rules:
//   state    the latch and version word (page_state.h).
//   page     the page the frame holds, kInvalidValue when free. Written
//            only under the exclusive latch, before the frame is entered
//            in the page table and after it is taken out, so a lookup that
//            finds the frame can check the id; read racily by lookups and
//            re-checked after latching.
//   dirty    set by PageGuard::MarkDirty under the exclusive latch; cleared
//            by a successful write-back, which holds a shared latch (so no
//            writer can dirty the page meanwhile).
//   lsn      the newest change's LSN; same rule as dirty.
//   prefetched   read ahead and not yet fetched (the first Fetch is not
//            counted as a hit: its read was counted as a miss).
//   sampled  the page may be in the miss-ratio curve's sample
//            (MissRatioCurve::MaySample), set when the page enters the
//            frame, so a hit on an unsampled page neither hashes its id nor
//            calls the curve: it reads this flag beside `prefetched`.
//   writing  a write-back of the page is in flight: whoever sets it (holding
//            a shared latch) writes the page; others do not write it again.
//   write_failed the last write-back of this page failed: eviction passes
//            over it while clean victims exist (it stays dirty and cached).
//   resident the layer above asked to keep the page ahead of others
//            (KeepResident: a B+tree inner node); eviction passes over it
//            while other victims exist. Set by KeepResident within the
//            pool's cap, cleared when the page leaves the frame; each change
//            moves BufferPool::resident_count_ with it.
#pragma once

#include <atomic>
#include <cstdint>

#include "bufferpool/page.h"
#include "bufferpool/page_state.h"

namespace ringdb {

struct alignas(64) FrameHeader {
  PageState state;
  std::atomic<uint64_t> page{PageId::kInvalidValue};
  std::atomic<Lsn> lsn{Lsn()};
  std::atomic<bool> dirty{false};
  std::atomic<bool> prefetched{false};
  std::atomic<bool> sampled{false};
  std::atomic<bool> write_failed{false};
  std::atomic<bool> writing{false};
  std::atomic<bool> resident{false};
};
static_assert(sizeof(FrameHeader) == 64, "one cache line per frame header");

}  // namespace ringdb
