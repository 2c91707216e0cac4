// PageStore: shadow paging of logical pages. See page_store.h.
#include "engine/page_store.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "io/aligned_buffer.h"
#include "util/check.h"

namespace ringdb {

namespace {


uint64_t EntriesPerMapPage(uint32_t page_size) { return (page_size - kPageHeaderSize) / 8; }

}  // namespace

PageStore::PageStore(io::IoBackend* io, io::FileId file, uint32_t page_size)
    : io_(io), file_(file), page_size_(page_size) {
  ckpt_.assign(2, 1);
}

Result<std::unique_ptr<PageStore>> PageStore::Load(io::IoBackend* io, io::FileId file,
                                                   const Superblock& sb,
                                                   bool hold_unreferenced) {
  auto store = std::make_unique<PageStore>(io, file, sb.page_size);
  const std::string path = io->PathOf(file);
  Result<uint64_t> size = io->FileSize(file);
  if (!size.ok()) return size.status();
  if (size.value() < sb.slot_count * sb.page_size) {
    return Status::Corruption(path + " is " + std::to_string(size.value()) +
                              " bytes, shorter than its " + std::to_string(sb.slot_count) +
                              " pages");
  }
  const uint64_t per_page = EntriesPerMapPage(sb.page_size);
  if (sb.map_pages * per_page < sb.logical_pages || sb.logical_pages > (1ull << 40)) {
    return Status::Corruption(path + ": superblock map of " + std::to_string(sb.map_pages) +
                              " pages cannot hold " + std::to_string(sb.logical_pages) +
                              " page ids");
  }
  store->map_.assign(sb.logical_pages, 0);
  store->pending_.assign(sb.logical_pages, 0);
  store->live_.assign(sb.logical_pages, 0);
  store->slot_count_ = sb.slot_count;
  store->reserved_end_ = std::max<uint64_t>(sb.slot_count, size.value() / sb.page_size);

  // Read the map run in chunks.
  const uint64_t kChunk = std::max<uint64_t>(1, (1u << 20) / sb.page_size);
  io::AlignedBuffer buf = io::NewAlignedBuffer(kChunk * sb.page_size);
  if (!buf) return Status::IOError("out of memory loading the page map");
  for (uint64_t i = 0; i < sb.map_pages; i += kChunk) {
    uint64_t n = std::min(kChunk, sb.map_pages - i);
    RINGDB_RETURN_IF_ERROR(io->Read(file, (sb.map_start + i) * sb.page_size, buf.get(),
                                    static_cast<uint32_t>(n * sb.page_size)));
    for (uint64_t k = 0; k < n; k++) {
      const char* page = buf.get() + k * sb.page_size;
      const auto* h = reinterpret_cast<const PageHeader*>(page);
      if (h->checksum != PageChecksum(page, sb.page_size) ||
          h->page_id != kMapPageTag + i + k) {
        return Status::Corruption(path + ": page map page " + std::to_string(i + k) +
                                  " (slot " + std::to_string(sb.map_start + i + k) +
                                  ") is damaged");
      }
      for (uint64_t e = 0; e < per_page; e++) {
        uint64_t id = (i + k) * per_page + e;
        if (id >= sb.logical_pages) break;
        uint64_t slot;
        std::memcpy(&slot, page + kPageHeaderSize + e * 8, 8);
        if (slot != 0 && (slot < 2 || slot >= sb.slot_count ||
                          (slot >= sb.map_start && slot < sb.map_start + sb.map_pages))) {
          return Status::Corruption(path + ": page map sends page " + std::to_string(id) +
                                    " to impossible slot " + std::to_string(slot));
        }
        store->map_[id] = slot;
        store->live_[id] = slot != 0;
      }
    }
  }
  std::lock_guard<std::mutex> lock(store->mu_);
  if (hold_unreferenced) {
    // Older checkpoints may reach past this one's end: the whole file is
    // held, and new slots go after it.
    store->slot_count_ = std::max(store->slot_count_,
                                  (size.value() + sb.page_size - 1) / sb.page_size);
    store->held_.assign(store->slot_count_, 1);
  }
  store->RebuildFreeLocked(sb.map_start, sb.map_pages, /*may_reuse=*/!hold_unreferenced);
  store->checkpoints_ = 0;
  return store;
}

void PageStore::RebuildFreeLocked(uint64_t map_start, uint64_t map_pages, bool may_reuse) {
  if (may_reuse) {
    held_.clear();
  } else {
    // What the previous checkpoint referenced, a reader may still read.
    held_.resize(std::max(held_.size(), ckpt_.size()), 0);
    for (uint64_t s = 0; s < ckpt_.size(); s++) held_[s] |= ckpt_[s];
  }
  ckpt_.assign(slot_count_, 0);
  ckpt_[0] = ckpt_[1] = 1;
  for (uint64_t s = map_start; s < map_start + map_pages; s++) ckpt_[s] = 1;
  free_ids_.clear();
  for (uint64_t id = 0; id < map_.size(); id++) {
    if (map_[id] != 0) ckpt_[map_[id]] = 1;
    if (!live_[id]) free_ids_.push_back(id);
  }
  // Slots written since this checkpoint began (pending) are in use too.
  std::set<uint64_t> was_free;
  was_free.swap(free_slots_);
  std::vector<uint8_t> busy(ckpt_);
  for (uint64_t s : pending_) {
    if (s != 0 && s < busy.size()) busy[s] = 1;
  }
  for (uint64_t s : scratch_) {
    if (s < busy.size()) busy[s] = 1;
  }
  // Slots with a write in flight, or waiting for one to land, are not free
  // yet (WriteDone releases the latter).
  for (const auto& [s, n] : in_flight_) {
    if (s < busy.size()) busy[s] = 1;
  }
  for (uint64_t s : landing_) {
    if (s < busy.size()) busy[s] = 1;
  }
  for (uint64_t s = 0; s < held_.size() && s < busy.size(); s++) busy[s] |= held_[s];
  for (uint64_t s = 2; s < slot_count_; s++) {
    if (busy[s]) continue;
    free_slots_.insert(free_slots_.end(), s);
    // Newly free (the old checkpoint's): its blocks can go back to the
    // file system.
    if (was_free.count(s) == 0) to_punch_.insert(s);
  }
  std::reverse(free_ids_.begin(), free_ids_.end());
  pending_free_.clear();
  map_start_ = map_start;
  map_pages_ = map_pages;
}

Result<uint64_t> PageStore::ReadOffset(PageId id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id.value >= map_.size() || map_[id.value] == 0) {
    return Status::Corruption("page " + std::to_string(id.value) +
                              " is referenced but was never written (no slot)");
  }
  return map_[id.value] * page_size_;
}

uint64_t PageStore::TakeSlotLocked() {
  if (!free_slots_.empty()) {  // lowest first, so the end of the file empties
    uint64_t s = *free_slots_.begin();
    free_slots_.erase(free_slots_.begin());
    to_punch_.erase(s);
    return s;
  }
  return ExtendLocked(1);
}

uint64_t PageStore::ExtendLocked(uint64_t n) {
  const uint64_t start = slot_count_;
  slot_count_ += n;
  ckpt_.resize(slot_count_, 0);
  if (slot_count_ > reserved_end_) ReserveAheadLocked(start);
  return start;
}

uint64_t PageStore::ReserveSlots(uint64_t count) const {
  const uint64_t max_slots = std::max<uint64_t>(64, (64ull << 20) / page_size_);
  return std::clamp<uint64_t>(count / 64, 64, max_slots);
}

void PageStore::ReserveAheadLocked(uint64_t first_new) {
  if (!reserve_supported_) return;
  const uint64_t from = std::max(reserved_end_, first_new);
  const uint64_t to = slot_count_ + ReserveSlots(slot_count_);
  // fallocate changes only metadata (the blocks read as zeros): quick, so
  // done under mu_ like the ftruncate in ReleaseSpace.
  Status s = io_->Allocate(file_, from * page_size_, (to - from) * page_size_);
  if (s.IsNotSupported()) reserve_supported_ = false;
  reserved_end_ = to;  // also after a failure: the next chunk is tried later
}

void PageStore::HoldFreeBlocks(bool hold) {
  uint64_t end;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_free_blocks_ = hold;
    if (!hold || !reserve_supported_) return;
    end = std::min(TargetSlotsLocked(), slot_count_);
  }
  if (end <= 2) return;
  // Without mu_: fallocate keeps the data of blocks already allocated, so
  // writes to live slots may go on meanwhile.
  Status s = io_->Allocate(file_, 2 * uint64_t{page_size_}, (end - 2) * page_size_);
  std::lock_guard<std::mutex> lock(mu_);
  if (s.IsNotSupported()) {
    reserve_supported_ = false;
    return;
  }
  // Also after a failure (a full disk): fallocate may have allocated part
  // of the range before it stopped, and those blocks must be punched too.
  for (auto it = free_slots_.begin(); it != free_slots_.end() && *it < end; ++it) {
    to_punch_.insert(*it);
  }
}

uint64_t PageStore::TargetSlotsLocked() const {
  const uint64_t live = map_.size() - free_ids_.size();  // as stats() counts them
  const uint64_t per_page = EntriesPerMapPage(page_size_);
  const uint64_t map_pages = std::max<uint64_t>(1, (map_.size() + per_page - 1) / per_page);
  return 2 + live + map_pages + 8;
}

Status PageStore::DropReservation() {
  HoldFreeBlocks(false);
  // Best effort, as after a checkpoint: the blocks stay if it fails.
  Status released = ReleaseSpace();
  std::lock_guard<std::mutex> lock(mu_);
  if (!released.ok()) release_errors_++;
  Result<uint64_t> size = io_->FileSize(file_);
  if (!size.ok()) return size.status();
  reserved_end_ = slot_count_;
  if (*size <= slot_count_ * page_size_) return Status::OK();
  return io_->Truncate(file_, slot_count_ * page_size_).WithContext("cutting the reserved end of the data file");
}

void PageStore::ReleaseSlotLocked(uint64_t slot) {
  if (InCheckpoint(slot)) {
    pending_free_.push_back(slot);
  } else {
    FreeSlotLocked(slot);
  }
}

void PageStore::FreeSlotLocked(uint64_t slot) {
  if (in_flight_.count(slot) != 0) {
    landing_.insert(slot);  // WriteDone frees it once the write has landed
  } else {
    free_slots_.insert(slot);
    to_punch_.insert(slot);
  }
}

uint64_t PageStore::StartWriteLocked(uint64_t slot) {
  in_flight_[slot]++;
  return slot * page_size_;
}

Result<uint64_t> PageStore::WriteOffset(PageId id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id.value >= map_.size()) {
    return Status::InvalidArgument("write of page " + std::to_string(id.value) +
                                   " that was never allocated");
  }
  if (!live_[id.value]) {
    // A write-back that raced with Free(): give it a scratch slot that
    // WriteDone takes back.
    uint64_t s = TakeSlotLocked();
    scratch_.insert(s);
    return StartWriteLocked(s);
  }
  uint64_t cur = map_[id.value];
  if (cur != 0 && !InCheckpoint(cur)) return StartWriteLocked(cur);  // in place
  if (pending_[id.value] == 0) pending_[id.value] = TakeSlotLocked();
  return StartWriteLocked(pending_[id.value]);
}

void PageStore::WriteDone(PageId id, uint64_t offset, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t s = offset / page_size_;
  auto it = in_flight_.find(s);
  RINGDB_CHECK(it != in_flight_.end());  // every WriteDone follows a WriteOffset
  if (--it->second == 0) in_flight_.erase(it);
  if (scratch_.erase(s) != 0) {
    FreeSlotLocked(s);
  } else if (ok && id.value < map_.size() && live_[id.value] && map_[id.value] != s &&
             pending_[id.value] == s) {
    // The first write since the checkpoint: the page moves to its new slot.
    pending_[id.value] = 0;
    uint64_t old = map_[id.value];
    map_[id.value] = s;
    if (old != 0) ReleaseSlotLocked(old);
  }
  // Otherwise: written in place; or failed (a pending slot stays reserved
  // for the retry); or the page was freed meanwhile and Free() already
  // released the slot, to be reused only once no write to it is in flight.
  if (in_flight_.count(s) == 0 && landing_.erase(s) != 0) {
    free_slots_.insert(s);
    to_punch_.insert(s);
  }
}

Result<PageId> PageStore::Allocate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!free_ids_.empty()) {
    uint64_t id = free_ids_.back();
    free_ids_.pop_back();
    live_[id] = 1;
    return PageId{id};
  }
  if (map_.size() >= (1ull << 40)) return Status::NoSpace("page id space exhausted");
  map_.push_back(0);
  pending_.push_back(0);
  live_.push_back(1);
  return PageId{map_.size() - 1};
}

void PageStore::Free(PageId id) {
  if (pool_ != nullptr) pool_->Discard(id);
  std::lock_guard<std::mutex> lock(mu_);
  RINGDB_CHECK(id.value < map_.size());
  if (map_[id.value] != 0) ReleaseSlotLocked(map_[id.value]);
  // A fresh slot whose write is in flight (or failed): free once it landed.
  if (pending_[id.value] != 0) FreeSlotLocked(pending_[id.value]);
  pending_[id.value] = 0;
  map_[id.value] = 0;
  live_[id.value] = 0;
  free_ids_.push_back(id.value);
}

uint64_t PageStore::TakeRunLocked(uint64_t n) {
  if (n == 0) return 0;
  // First fit among free slots (lowest first), else extend the file.
  uint64_t start = 0, len = 0;
  for (uint64_t s : free_slots_) {
    if (len > 0 && s == start + len) {
      len++;
    } else {
      start = s;
      len = 1;
    }
    if (len == n) {
      for (uint64_t t = start; t < start + n; t++) {
        free_slots_.erase(t);
        to_punch_.erase(t);
      }
      return start;
    }
  }
  return ExtendLocked(n);
}

Status PageStore::ReleaseSpace() {
  std::vector<uint64_t> punch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // 1. Free slots at the end of the file: cut them off. Done under mu_ so
    // that no slot past the new end is handed out meanwhile (ftruncate
    // changes only metadata; it is quick).
    uint64_t count = slot_count_;
    while (count > 2 && free_slots_.count(count - 1) != 0) {
      free_slots_.erase(count - 1);
      to_punch_.erase(count - 1);
      count--;
    }
    Result<uint64_t> size = io_->FileSize(file_);
    if (!size.ok()) return size.status();
    // Also when the file is longer than the slots in use (after a reopen:
    // slots past the checkpoint's reach are garbage).
    // The reserve past the slots stays (up to one chunk; see
    // DropReservation) unless the free end is cut.
    if (count < slot_count_ || *size > (count + ReserveSlots(count)) * page_size_) {
      Status s = io_->Truncate(file_, count * page_size_);
      if (!s.ok()) {
        for (uint64_t t = count; t < slot_count_; t++) free_slots_.insert(t);
        return s.WithContext("shrinking the data file");
      }
      truncated_slots_ += slot_count_ - count;
      slot_count_ = count;
      reserved_end_ = count;
      ckpt_.resize(count);
    }
    // 2. Free slots inside the file: reserved while their holes are
    // punched without the mutex.
    if (hold_free_blocks_) return Status::OK();
    if (!punch_supported_) to_punch_.clear();
    for (uint64_t t : to_punch_) {
      if (free_slots_.erase(t) != 0) punch.push_back(t);
    }
    to_punch_.clear();
  }
  Status result;
  for (size_t i = 0; i < punch.size() && result.ok();) {
    size_t j = i + 1;
    while (j < punch.size() && punch[j] == punch[j - 1] + 1) j++;
    result = io_->PunchHole(file_, punch[i] * page_size_, (j - i) * page_size_);
    i = j;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (uint64_t t : punch) free_slots_.insert(t);
  if (result.IsNotSupported()) {
    punch_supported_ = false;  // e.g. tmpfs before 3.5: keep the blocks
    return Status::OK();
  }
  return result.WithContext("giving free slots back to the file system");
}

Status PageStore::Checkpoint(Superblock* sb) {
  RINGDB_CHECK(pool_ != nullptr);
  // 1. Every dirty page to its slot, then fdatasync.
  RINGDB_RETURN_IF_ERROR(pool_->FlushAll());

  // 2. The map, into a run of slots no checkpoint references.
  const uint64_t per_page = EntriesPerMapPage(page_size_);
  uint64_t n_ids, map_start, map_pages;
  io::AlignedBuffer buf;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n_ids = map_.size();
    map_pages = std::max<uint64_t>(1, (n_ids + per_page - 1) / per_page);
    UnplaceUnwrittenLocked();
    map_start = TakeRunLocked(map_pages);
    buf = io::NewAlignedBuffer(map_pages * page_size_);
    if (!buf) return Status::IOError("out of memory writing the page map");
    for (uint64_t id = 0; id < n_ids; id++) {
      RINGDB_CHECK(pending_[id] == 0);  // FlushAll finished every write
      std::memcpy(buf.get() + (id / per_page) * page_size_ + kPageHeaderSize +
                      (id % per_page) * 8,
                  &map_[id], 8);
    }
  }
  for (uint64_t p = 0; p < map_pages; p++) {
    char* page = buf.get() + p * page_size_;
    auto* h = reinterpret_cast<PageHeader*>(page);
    h->page_id = kMapPageTag + p;
    h->lsn = sb->ckpt_lsn.value;
    h->checksum = PageChecksum(page, page_size_);
  }
  auto give_back_run = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t s = map_start; s < map_start + map_pages; s++) free_slots_.insert(s);
  };
  const uint64_t kChunk = std::max<uint64_t>(1, (4u << 20) / page_size_);
  for (uint64_t p = 0; p < map_pages; p += kChunk) {
    uint64_t n = std::min(kChunk, map_pages - p);
    Status s = io_->Write(file_, (map_start + p) * page_size_, buf.get() + p * page_size_,
                          static_cast<uint32_t>(n * page_size_));
    if (!s.ok()) {
      give_back_run();
      return s.WithContext("writing the page map");
    }
  }
  // The superblock records how far the checkpoint reaches (its highest slot
  // + 1), not the file's current size: slots past it may be cut off later
  // (ReleaseSpace), and Load requires the file to hold what the superblock
  // names.
  uint64_t slots = map_start + map_pages;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t id = 0; id < n_ids; id++) slots = std::max(slots, map_[id] + 1);
  }
  Result<uint64_t> size = io_->FileSize(file_);
  if (!size.ok()) return size.status();
  if (size.value() < slots * page_size_) {
    RINGDB_RETURN_IF_ERROR(io_->Truncate(file_, slots * page_size_));
  }
  Status s = io_->Sync(file_);
  if (!s.ok()) {
    give_back_run();
    return s;
  }

  // 3. The superblock makes it the checkpoint.
  sb->page_size = page_size_;
  sb->logical_pages = n_ids;
  sb->slot_count = slots;
  sb->map_start = map_start;
  sb->map_pages = map_pages;
  sb->seq++;
  s = WriteSuperblock(io_, file_, *sb);
  if (!s.ok()) {
    sb->seq--;
    give_back_run();
    return s.WithContext("writing the superblock");
  }

  // 4. Slots the old checkpoint held and the new one does not are free,
  // unless a reader of an older checkpoint may still read them. The gate is
  // asked only now that the new superblock is durable: a reader that opens
  // after it reads this checkpoint or a later one.
  const bool may_reuse = !reuse_gate_ || reuse_gate_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    RebuildFreeLocked(map_start, map_pages, may_reuse);
    checkpoints_++;
  }
  // 5. Space no page needs goes back to the file system. Best effort: the
  // checkpoint is already complete.
  Status released = ReleaseSpace();
  if (!released.ok()) release_errors_++;
  return Status::OK();
}

Status PageStore::Verify(std::string* report) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint8_t> seen(slot_count_, 0);
  Status result;
  for (uint64_t id = 0; id < map_.size(); id++) {
    uint64_t s = map_[id];
    if (s == 0) continue;
    if (s < 2 || s >= slot_count_ || seen[s]) {
      if (report) {
        *report += "page " + std::to_string(id) + ": bad or shared slot " +
                   std::to_string(s) + "\n";
      }
      result = Status::Corruption("page map is inconsistent");
      continue;
    }
    seen[s] = 1;
  }
  return result;
}

PageStoreStats PageStore::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  PageStoreStats st;
  st.logical_pages = map_.size();
  st.live_pages = map_.size() - free_ids_.size();
  st.slots = slot_count_;
  st.free_slots = free_slots_.size();
  st.pending_slots = pending_free_.size();
  st.checkpoints = checkpoints_;
  st.truncated_slots = truncated_slots_;
  for (uint64_t s = 0; s < held_.size(); s++) st.held_slots += held_[s] && !InCheckpoint(s);
  return st;
}

std::vector<PageId> PageStore::PagesToMoveDown(uint64_t* target_slots) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t target = TargetSlotsLocked();
  *target_slots = target;
  // Only as many pages as there are free slots below the target to take
  // them (a moved page takes the lowest free slot; without one it would
  // land at the end of the file), the highest first.
  const size_t room = static_cast<size_t>(
      std::distance(free_slots_.begin(), free_slots_.lower_bound(target)));
  std::vector<std::pair<uint64_t, uint64_t>> above;  // (slot, id)
  for (uint64_t id = 0; id < map_.size(); id++) {
    if (live_[id] && map_[id] >= target) above.emplace_back(map_[id], id);
  }
  std::sort(above.rbegin(), above.rend());
  std::vector<PageId> out;
  for (size_t i = 0; i < above.size() && i < room; i++) out.push_back(PageId{above[i].second});
  return out;
}

void PageStore::PlaceInOrder(const std::vector<PageId>& ids, Place where,
                             std::vector<PageId>* placed) {
  placed->clear();
  std::lock_guard<std::mutex> lock(mu_);
  // Already a run below the size the file will shrink to (a second
  // Compact, or a run the first pass found room for low): it stays.
  const uint64_t target = TargetSlotsLocked();
  bool stays = !ids.empty();
  for (size_t i = 0; stays && i < ids.size(); i++) {
    const uint64_t v = ids[i].value;
    stays = v < map_.size() && live_[v] && map_[v] != 0 && map_[v] < target &&
            pending_[v] == 0 && (i == 0 || map_[v] == map_[ids[i - 1].value] + 1);
  }
  if (stays) return;
  // Only a page in its checkpointed slot: its next write goes to pending_
  // (WriteOffset). One written since the checkpoint is rewritten in place,
  // and one with a new slot already (a write in flight or failed) keeps it.
  constexpr uint64_t kMark = ~uint64_t{0};  // chosen (an id listed twice counts once)
  for (PageId id : ids) {
    const uint64_t v = id.value;
    if (v < map_.size() && live_[v] && map_[v] != 0 && InCheckpoint(map_[v]) && pending_[v] == 0) {
      pending_[v] = kMark;
      placed->push_back(id);
    }
  }
  // New slots past the end come with their blocks (ExtendLocked), so the
  // run's writes do not extend the file.
  uint64_t at_end = where == Place::kAtEnd ? ExtendLocked(placed->size()) : 0;
  for (PageId id : *placed) {
    pending_[id.value] = where == Place::kAtEnd ? at_end++ : TakeSlotLocked();
    placed_.push_back(id.value);
  }
}

void PageStore::UnplaceUnwrittenLocked() {
  // After FlushAll nothing is dirty and every write has ended, so a placed
  // page still pending was never written (its caller did not dirty it):
  // it stays in its checkpointed slot, and the slot saved for it is free.
  for (uint64_t v : placed_) {
    const uint64_t s = pending_[v];
    if (s != 0 && in_flight_.count(s) == 0) {
      pending_[v] = 0;
      FreeSlotLocked(s);
    }
  }
  placed_.clear();
}

}  // namespace ringdb
