// The write-ahead rule on the eviction path: a dirty page whose LSN is past
// what the log has made durable must not be written by an eviction round
// until the write gate (BufferPool::SetWriteGate) lets it through. The
// FlushAll path is tested in buffer_pool_test.cc (WriteGateRunsBeforeEveryWrite).
// Eviction is driven by reading many pages through a 16-frame pool, and
// what reached the file is read back from the file itself.
#include <mutex>

#include "buffer_pool_fixture.h"

namespace ringdb {
namespace test {
namespace buffer_pool_write_gate_test {

// A gate standing for the log: LSNs up to `durable` are durable; a write
// needing more is refused (the engine's gate would flush the log first; a
// refusal makes the violation visible as a write that happened anyway).
struct LogGate {
  std::atomic<Lsn> durable{Lsn()};
  std::atomic<int> refused{0};
  std::atomic<int> allowed{0};
  std::atomic<Lsn> max_allowed{Lsn()};
  Status operator()(Lsn lsn) {
    if (lsn > durable.load()) {
      refused++;
      return Status::IOError("log durable only up to " + std::to_string(durable.load().value));
    }
    allowed++;
    Lsn cur = max_allowed.load();
    while (cur < lsn && !max_allowed.compare_exchange_weak(cur, lsn)) {
    }
    return Status::OK();
  }
};

TEST_P(BufferPoolTest, EvictionDoesNotWritePagesPastTheDurableLog) {
  constexpr uint64_t kPages = 48;
  constexpr uint64_t kDirty = 4;
  MakePool(16);
  WritePages(kPages);  // version 1 of every page on disk, LSN 1
  MakePool(16);        // empty cache
  LogGate gate;
  gate.durable = Lsn(100);
  pool_->SetWriteGate([&gate](Lsn lsn) { return gate(lsn); });

  // Pages [0, kDirty) get version 2 at LSNs the log has not made durable.
  for (uint64_t id = 0; id < kDirty; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Fill(g->mutable_data(), id, 2);
    g->MarkDirty(Lsn(500 + id));
  }
  // Reading the other pages, twice over, runs many eviction rounds.
  uint64_t writes_before = pool_->stats().writes;
  for (int pass = 0; pass < 2; pass++) {
    for (uint64_t id = kDirty; id < kPages; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok()) << "page " << id << ": " << g.status().ToString();
      ASSERT_TRUE(Matches(g->data(), id, 1)) << "page " << id;
    }
  }
  PoolStats st = pool_->stats();
  ASSERT_GT(st.evictions, kPages) << "the reads did not drive eviction";
  EXPECT_GT(gate.refused.load(), 0) << "eviction never asked the gate about the dirty pages";
  EXPECT_EQ(st.writes, writes_before) << "eviction wrote a page past the durable log";
  for (uint64_t id = 0; id < kDirty; id++) {
    EXPECT_EQ(VersionOnDisk(path_, id), 1u) << "page " << id
                                            << " reached the file before its log record";
    EXPECT_TRUE(pool_->IsCached(PageId{id})) << "page " << id << " was dropped unwritten";
  }
  EXPECT_EQ(st.dirty_pages, kDirty);

  // A control: pages dirtied at LSNs the log has made durable are written by
  // eviction (so what kept pages [0, kDirty) off the disk was the gate).
  gate.durable = Lsn(1000);
  for (uint64_t id = kDirty; id < 2 * kDirty; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Fill(g->mutable_data(), id, 2);
    g->MarkDirty(Lsn(600 + id));
  }
  for (int pass = 0; pass < 2; pass++) {
    for (uint64_t id = 2 * kDirty; id < kPages; id++) {
      ASSERT_TRUE(pool_->Fetch(PageId{id}, LatchMode::kShared).ok()) << "page " << id;
    }
  }
  EXPECT_GE(gate.max_allowed.load(), Lsn(600 + kDirty));
  for (uint64_t id = kDirty; id < 2 * kDirty; id++) {
    EXPECT_EQ(VersionOnDisk(path_, id), 2u) << "page " << id << " not written by eviction";
  }
  // The refused pages were kept, not lost: FlushAll writes them now.
  ASSERT_TRUE(pool_->FlushAll().ok());
  for (uint64_t id = 0; id < kDirty; id++) {
    EXPECT_EQ(VersionOnDisk(path_, id), 2u) << "page " << id << " never written back";
  }
  EXPECT_EQ(pool_->stats().dirty_pages, 0u);
  for (uint64_t id = 0; id < kDirty; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok());
    EXPECT_TRUE(Matches(g->data(), id, 2)) << "page " << id;
  }
}

TEST_P(BufferPoolTest, PoolFullOfPagesPastTheDurableLogRefusesAReadWithoutWriting) {
  MakePool(16);
  WritePages(20);
  MakePool(16);
  LogGate gate;
  gate.durable = Lsn(10);
  pool_->SetWriteGate([&gate](Lsn lsn) { return gate(lsn); });
  for (uint64_t id = 0; id < 16; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Fill(g->mutable_data(), id, 2);
    g->MarkDirty(Lsn(50 + id));
  }
  uint64_t writes_before = pool_->stats().writes;
  // Every frame is dirty past the log: the miss cannot get a frame.
  Result<PageGuard> g = pool_->Fetch(PageId{17}, LatchMode::kShared);
  EXPECT_FALSE(g.ok());
  EXPECT_GT(gate.refused.load(), 0);
  EXPECT_EQ(pool_->stats().writes, writes_before);
  for (uint64_t id = 0; id < 16; id++) {
    EXPECT_EQ(VersionOnDisk(path_, id), 1u) << "page " << id;
  }
  gate.durable = Lsn(100);
  g = pool_->Fetch(PageId{17}, LatchMode::kShared);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(g->data(), 17, 1));
}

}  // namespace buffer_pool_write_gate_test
}  // namespace test
}  // namespace ringdb
