// PageStore: slot assignment under shadow paging, and the races between
// write-backs in flight and Free(). Drives the store directly (no pool), the
// way the buffer pool calls it: WriteOffset() before a write, WriteDone()
// after it.
#include "engine/page_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "tests/util/half_allocate_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace page_store_test {

class PageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    io_ = io::NewPreadBackend();
    auto f = io_->Open(dir_ + "/data", io::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    file_ = *f;
    store_ = std::make_unique<PageStore>(io_.get(), file_, kPageSize);
  }
  void TearDown() override {
    store_.reset();
    if (io_ && file_.valid()) (void)io_->Close(file_);
  }

  uint64_t Slot(PageId id) {
    auto off = store_->WriteOffset(id);
    EXPECT_TRUE(off.ok()) << off.status().ToString();
    return off.ok() ? *off / kPageSize : 0;
  }
  PageId NewId() {
    auto id = store_->Allocate();
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : PageId{};
  }

  static constexpr uint32_t kPageSize = 4096;
  test::TempDir tmp_{"page_store"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<io::IoBackend> io_;
  io::FileId file_;
  std::unique_ptr<PageStore> store_;
};

// A page written in place is freed while a second write of it is in flight;
// its slot must not go to another page until that write has landed, or the
// stale bytes would overwrite the new owner's page.
TEST_F(PageStoreTest, SlotOfAFreedPageIsNotReusedWhileItsWriteIsInFlight) {
  PageId a = NewId();
  uint64_t s = Slot(a);
  store_->WriteDone(a, s * kPageSize, true);
  ASSERT_EQ(Slot(a), s);  // not in a checkpoint: rewritten in place, in flight
  store_->Free(a);
  PageId b = NewId();
  uint64_t sb = Slot(b);
  EXPECT_NE(sb, s) << "slot " << s << " handed out while a write to it is in flight";
  store_->WriteDone(a, s * kPageSize, true);
  store_->WriteDone(b, sb * kPageSize, true);
  // Once the stale write landed, the slot is free again (exactly once).
  PageId c = NewId(), d = NewId();
  uint64_t sc = Slot(c), sd = Slot(d);
  EXPECT_NE(sc, sd);
  EXPECT_TRUE(sc == s || sd == s) << "slot " << s << " never came back";
}

// The completion of a write to a freed page must not release a slot that
// Free() already released: a slot on the free list twice goes to two pages.
TEST_F(PageStoreTest, FreedPageCompletingItsWriteDoesNotFreeTheSlotTwice) {
  PageId a = NewId();
  uint64_t s = Slot(a);
  store_->WriteDone(a, s * kPageSize, true);
  ASSERT_EQ(Slot(a), s);
  store_->Free(a);
  store_->WriteDone(a, s * kPageSize, true);
  std::set<uint64_t> seen;
  for (int i = 0; i < 4; i++) {
    PageId p = NewId();
    uint64_t slot = Slot(p);
    EXPECT_TRUE(seen.insert(slot).second) << "slot " << slot << " given to two pages";
  }
}

// A failed write leaves the page where it was and does not leak or free its
// slot: the retry goes to the same fresh slot, and the map moves only when a
// write succeeds.
TEST_F(PageStoreTest, FailedWriteKeepsThePendingSlotForTheRetry) {
  PageId a = NewId();
  uint64_t s = Slot(a);
  store_->WriteDone(a, s * kPageSize, false);
  EXPECT_FALSE(store_->ReadOffset(a).ok());  // never written
  PageId b = NewId();
  EXPECT_NE(Slot(b), s);
  EXPECT_EQ(Slot(a), s);
  store_->WriteDone(a, s * kPageSize, true);
  auto off = store_->ReadOffset(a);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, s * kPageSize);
}

// A page freed while its first write (to a fresh slot) is in flight gets
// that slot back once the write lands, and not before.
TEST_F(PageStoreTest, PendingSlotOfAFreedPageReturnsAfterItsWrite) {
  PageId a = NewId();
  uint64_t s = Slot(a);  // fresh slot, in flight
  store_->Free(a);
  PageId b = NewId();
  uint64_t sb = Slot(b);
  EXPECT_NE(sb, s);
  store_->WriteDone(a, s * kPageSize, true);
  store_->WriteDone(b, sb * kPageSize, true);
  EXPECT_EQ(store_->stats().free_slots, 1u);
  PageId c = NewId();
  EXPECT_EQ(Slot(c), s);
}

// New slots are written into blocks reserved ahead: once a slot is handed
// out past the file's end, the file holds reserved blocks beyond it, so the
// write does not extend the file; DropReservation cuts the reserve off.
TEST_F(PageStoreTest, NewSlotsLandInReservedBlocksAndCloseCutsThem) {
  uint64_t highest = 0;
  std::vector<PageId> ids;
  for (int i = 0; i < 100; i++) {
    PageId id = NewId();
    uint64_t s = Slot(id);
    highest = std::max(highest, s);
    ids.push_back(id);
    Result<uint64_t> size = io_->FileSize(file_);
    ASSERT_TRUE(size.ok());
    // Before the write lands, the file already reaches past its slot.
    ASSERT_GT(*size, s * kPageSize) << "slot " << s << " would extend the file";
    alignas(4096) static char buf[kPageSize];
    std::memset(buf, 'x', kPageSize);
    ASSERT_TRUE(io_->Write(file_, s * kPageSize, buf, kPageSize).ok());
    store_->WriteDone(id, s * kPageSize, true);
  }
  Result<uint64_t> size = io_->FileSize(file_);
  ASSERT_TRUE(size.ok());
  const uint64_t slots = store_->stats().slots;
  EXPECT_EQ(slots, highest + 1);
  // Reserved past the last slot, and allocated on disk (not a sparse
  // extension).
  EXPECT_GT(*size, slots * kPageSize);
  Result<uint64_t> allocated = io_->AllocatedBytes(file_);
  ASSERT_TRUE(allocated.ok());
  EXPECT_GE(*allocated, *size - 8 * kPageSize) << "the reserve is a hole, not blocks";
  ASSERT_TRUE(store_->DropReservation().ok());
  size = io_->FileSize(file_);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, slots * kPageSize);
}

// HoldFreeBlocks gives the holes below the live pages' extent blocks again
// (Compact writes there). When fallocate fails midway (a full disk) it
// keeps what it allocated: those free slots hold blocks, and
// DropReservation (Compact's end, Close) must punch them too.
TEST(PageStoreHoldTest, FreeBlocksOfAPartlyFailedFallocateArePunched) {
  test::TempDir tmp("page_store_hold");
  constexpr uint32_t kPage = 4096;
  auto io = std::make_unique<test::HalfAllocateBackend>(io::NewPreadBackend());
  auto f = io->Open(tmp.path() + "/data", io::OpenMode::kCreateReadWrite);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  {
    PageStore store(io.get(), *f, kPage);
    // 20 pages in slots 2..21; the first 10 are freed and their slots
    // punched: 10 live pages behind 10 holes.
    std::vector<PageId> ids;
    alignas(4096) static char buf[kPage];
    std::memset(buf, 'p', kPage);
    for (int i = 0; i < 20; i++) {
      Result<PageId> id = store.Allocate();
      ASSERT_TRUE(id.ok());
      Result<uint64_t> off = store.WriteOffset(*id);
      ASSERT_TRUE(off.ok());
      ASSERT_TRUE(io->Write(*f, *off, buf, kPage).ok());
      store.WriteDone(*id, *off, true);
      ids.push_back(*id);
    }
    for (int i = 0; i < 10; i++) store.Free(ids[i]);
    ASSERT_TRUE(store.DropReservation().ok());
    Result<uint64_t> before = io->AllocatedBytes(*f);
    ASSERT_TRUE(before.ok());
    ASSERT_LE(*before, 12u * kPage) << "the freed slots were not punched";
    // The disk fills during the hold's fallocate: half of the holes get
    // blocks, then it fails.
    io->set_full(true);
    store.HoldFreeBlocks(true);
    io->set_full(false);
    Result<uint64_t> held = io->AllocatedBytes(*f);
    ASSERT_TRUE(held.ok());
    EXPECT_GT(*held, *before) << "the failed fallocate allocated nothing: the test tests nothing";
    ASSERT_TRUE(store.DropReservation().ok());
    Result<uint64_t> after = io->AllocatedBytes(*f);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*after, *before) << "free slots keep the blocks of the failed fallocate";
  }
  (void)io->Close(*f);
}

}  // namespace page_store_test
}  // namespace ringdb
