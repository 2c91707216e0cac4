// BufferPool::FlushCold, the page cleaner's write-back: it writes exactly the
// dirty pages whose newest change is at or before the given LSN, passes over
// pages latched exclusively, stops at its page budget, leaves what it wrote
// cached and clean, and never calls the write gate. What reached the file is
// read back from the file itself.
#include <atomic>

#include "buffer_pool_fixture.h"

namespace ringdb {
namespace test {
namespace buffer_pool_cleaner_test {

TEST_P(BufferPoolTest, FlushColdWritesOnlyOldUnlatchedDirtyPages) {
  constexpr uint64_t kPages = 8;
  MakePool(32);
  WritePages(kPages);  // version 1 of every page on disk, clean
  std::atomic<int> gate_calls{0};
  pool_->SetWriteGate([&gate_calls](Lsn) {
    gate_calls++;
    return Status::OK();
  });
  // Version 2 of page i at LSN 10 * (i + 1).
  for (uint64_t id = 0; id < kPages; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Fill(g->mutable_data(), id, 2);
    g->MarkDirty(Lsn(10 * (id + 1)));
  }
  ASSERT_EQ(pool_->stats().dirty_pages, kPages);

  // A writer holds page 2 (LSN 30): it is not cold, whatever its LSN.
  Result<PageGuard> held = pool_->Fetch(PageId{2}, LatchMode::kExclusive);
  ASSERT_TRUE(held.ok()) << held.status().ToString();

  Result<size_t> n = pool_->FlushCold(/*max_lsn=*/Lsn(50), /*max_pages=*/100);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.value(), 4u);  // pages 0, 1, 3 and 4
  for (uint64_t id : {0, 1, 3, 4}) {
    EXPECT_EQ(VersionOnDisk(path_, id), 2u) << "page " << id << " is cold and was not written";
  }
  for (uint64_t id : {2, 5, 6, 7}) {
    EXPECT_EQ(VersionOnDisk(path_, id), 1u) << "page " << id << " was written";
  }
  EXPECT_EQ(pool_->stats().dirty_pages, 4u);

  // The budget: two pages, in page id order (page 2 is still held).
  n = pool_->FlushCold(Lsn(1000), 2);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.value(), 2u);
  EXPECT_EQ(VersionOnDisk(path_, 5), 2u);
  EXPECT_EQ(VersionOnDisk(path_, 6), 2u);
  EXPECT_EQ(VersionOnDisk(path_, 7), 1u);

  held->Release();
  n = pool_->FlushCold(Lsn(1000), 100);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n.value(), 2u);  // pages 2 and 7
  EXPECT_EQ(pool_->stats().dirty_pages, 0u);
  for (uint64_t id = 0; id < kPages; id++) {
    EXPECT_EQ(VersionOnDisk(path_, id), 2u) << "page " << id;
    // Still cached: a fetch is a hit, and holds version 2.
    uint64_t misses = pool_->stats().misses;
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_TRUE(Matches(g->data(), id, 2)) << "page " << id;
    EXPECT_EQ(pool_->stats().misses, misses) << "page " << id << " was dropped from the pool";
  }
  EXPECT_EQ(gate_calls.load(), 0) << "the cleaner waited on the log";
  // Nothing left: a pass over a clean pool writes nothing.
  n = pool_->FlushCold(Lsn(1000), 100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 0u);
}

}  // namespace buffer_pool_cleaner_test
}  // namespace test
}  // namespace ringdb
