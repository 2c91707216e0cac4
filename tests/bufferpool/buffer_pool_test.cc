// BufferPool tests, run on every direct backend (io_uring and the pread
// fallback) over real O_DIRECT files, with faults from io::FaultBackend.
#include "bufferpool/buffer_pool_fixture.h"

namespace ringdb {
namespace test {
namespace buffer_pool_test {

TEST_P(BufferPoolTest, SurvivesReopenBitForBit) {
  MakePool(32);
  WritePages(200);
  MakePool(32);  // a new, empty pool over the same file
  for (uint64_t id = 0; id < 200; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_TRUE(Matches(g->data(), id, 1)) << "page " << id;
  }
  EXPECT_EQ(pool_->stats().misses, 200u);
}

TEST_P(BufferPoolTest, SmallPoolServesManyPagesWithinBudget) {
  for (const std::string& policy : EvictionPolicyNames()) {
    SCOPED_TRACE(policy);
    MakePool(16, policy);
    const uint64_t kPages = 300;
    WritePages(kPages);
    std::vector<uint64_t> version(kPages, 1);
    std::mt19937_64 rng(42);
    for (int op = 0; op < 4000; op++) {
      uint64_t id = rng() % kPages;
      if (rng() % 4 == 0) {
        Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
        ASSERT_TRUE(g.ok()) << g.status().ToString();
        Fill(g->mutable_data(), id, ++version[id]);
        g->MarkDirty(Lsn(op + 2));
      } else {
        Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
        ASSERT_TRUE(g.ok()) << g.status().ToString();
        ASSERT_TRUE(Matches(g->data(), id, version[id])) << "page " << id << " op " << op;
      }
      ASSERT_LE(pool_->stats().used_frames, 16u);
    }
    PoolStats st = pool_->stats();
    EXPECT_GT(st.evictions, 0u);
    EXPECT_GT(st.writes, kPages);  // dirty victims were written back
    ASSERT_TRUE(pool_->FlushAll().ok());
    MakePool(16, policy);
    for (uint64_t id = 0; id < kPages; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok());
      ASSERT_TRUE(Matches(g->data(), id, version[id])) << "page " << id;
    }
  }
}

TEST_P(BufferPoolTest, ConcurrentFetchPinEvict) {
  MakePool(24);
  const uint64_t kPages = 200;
  WriteCounterPages(kPages);
  const uint64_t increments = RunCounterWorkers(kPages);
  ASSERT_FALSE(HasFailure());
  CheckCounters(kPages, increments);
}

TEST_P(BufferPoolTest, FlippedBitIsCorruptionNamingThePage) {
  MakePool(16);
  WritePages(20);
  FlipByteInFile(5 * kPage + 1000);
  MakePool(16);
  Result<PageGuard> bad = pool_->Fetch(PageId{5}, LatchMode::kShared);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("page 5"), std::string::npos);
  // The failure is not cached as data: asking again fails again.
  EXPECT_TRUE(pool_->Fetch(PageId{5}, LatchMode::kShared).status().IsCorruption());
  Result<PageGuard> good = pool_->Fetch(PageId{6}, LatchMode::kShared);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(Matches(good->data(), 6, 1));
}

TEST_P(BufferPoolTest, MisdirectedPageIsCorruption) {
  MakePool(16);
  WritePages(8);
  std::vector<char> buf(kPage);
  int fd = ::open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pread(fd, buf.data(), kPage, 3 * kPage), kPage);
  ASSERT_EQ(::pwrite(fd, buf.data(), kPage, 4 * kPage), kPage);
  ::close(fd);
  MakePool(16);
  Result<PageGuard> g = pool_->Fetch(PageId{4}, LatchMode::kShared);
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(g.status().IsCorruption());
  EXPECT_NE(g.status().message().find("holds page 3"), std::string::npos)
      << g.status().ToString();
}

TEST_P(BufferPoolTest, ReadFaultSurfacesAndRetrySucceeds) {
  MakePool(16);
  WritePages(40);
  MakePool(16);
  fault_->Arm(io::Fault{io::FaultOp::kRead, 3, io::FaultKind::kEio});
  int errors = 0;
  for (uint64_t id = 0; id < 40; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    if (!g.ok()) {
      EXPECT_TRUE(g.status().IsIOError()) << g.status().ToString();
      errors++;
      g = pool_->Fetch(PageId{id}, LatchMode::kShared);  // the retry reads again
      ASSERT_TRUE(g.ok()) << g.status().ToString();
    }
    EXPECT_TRUE(Matches(g->data(), id, 1));
  }
  EXPECT_EQ(errors, 1);
}

// A failed write-back of a dirty victim costs no read: the page stays
// cached and dirty, another victim is taken, and a later flush writes it.
TEST_P(BufferPoolTest, WriteFaultsLoseNothing) {
  for (io::FaultKind kind : {io::FaultKind::kEio, io::FaultKind::kEnospc,
                             io::FaultKind::kShortWrite, io::FaultKind::kTornWrite}) {
    SCOPED_TRACE(static_cast<int>(kind));
    MakePool(16);
    WritePages(64);
    // Dirty every page through a small pool; one write-back fails.
    fault_->Arm(io::Fault{io::FaultOp::kWrite, 5, kind, 512});
    for (uint64_t id = 0; id < 64; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
      ASSERT_TRUE(g.ok()) << "page " << id << ": " << g.status().ToString();
      Fill(g->mutable_data(), id, 2);
      g->MarkDirty(Lsn(2));
    }
    EXPECT_TRUE(fault_->fired());
    EXPECT_EQ(pool_->stats().write_failures, 1u);
    Status s = pool_->FlushAll();
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(pool_->stats().unwritable_pages, 0u);
    MakePool(16);
    for (uint64_t id = 0; id < 64; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      ASSERT_TRUE(Matches(g->data(), id, 2)) << "page " << id;
    }
  }
}

TEST_P(BufferPoolTest, FlushAllReportsSyncFailure) {
  MakePool(16);
  WritePages(4);
  Result<PageGuard> g = pool_->Fetch(PageId{1}, LatchMode::kExclusive);
  ASSERT_TRUE(g.ok());
  Fill(g->mutable_data(), 1, 7);
  g->MarkDirty(Lsn(3));
  g->Release();
  fault_->Arm(io::Fault{io::FaultOp::kSync, 1, io::FaultKind::kEio});
  EXPECT_TRUE(pool_->FlushAll().IsIOError());
  fault_->Disarm();
  EXPECT_TRUE(pool_->FlushAll().ok());
}

TEST_P(BufferPoolTest, WriteGateRunsBeforeEveryWrite) {
  MakePool(16);
  std::atomic<Lsn> durable{Lsn()};
  std::atomic<int> refusals{0};
  pool_->SetWriteGate([&](Lsn lsn) {
    if (lsn > Lsn(1000)) {
      refusals++;
      return Status::IOError("log not durable");
    }
    Lsn cur = durable.load();
    while (cur < lsn && !durable.compare_exchange_weak(cur, lsn)) {
    }
    return Status::OK();
  });
  for (uint64_t id = 0; id < 8; id++) {
    Result<PageGuard> g = pool_->NewPage(PageId{id});
    ASSERT_TRUE(g.ok());
    Fill(g->mutable_data(), id, 1);
    g->MarkDirty(Lsn(100 + id));
  }
  ASSERT_TRUE(pool_->FlushAll().ok());
  EXPECT_EQ(durable.load(), Lsn(107));
  Result<PageGuard> g = pool_->Fetch(PageId{2}, LatchMode::kExclusive);
  ASSERT_TRUE(g.ok());
  g->MarkDirty(Lsn(5000));
  g->Release();
  EXPECT_FALSE(pool_->FlushAll().ok());
  EXPECT_GT(refusals.load(), 0);
  EXPECT_EQ(pool_->stats().dirty_pages, 1u);  // still dirty: nothing lost
}

TEST_P(BufferPoolTest, AllFramesPinnedIsBusy) {
  MakePool(16);
  WritePages(17);
  std::vector<PageGuard> held;
  for (uint64_t id = 0; id < 16; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok());
    held.push_back(std::move(g.value()));
  }
  Result<PageGuard> g = pool_->Fetch(PageId{16}, LatchMode::kShared);
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(g.status().IsBusy()) << g.status().ToString();
  held.clear();
  EXPECT_TRUE(pool_->Fetch(PageId{16}, LatchMode::kShared).ok());
}

TEST_P(BufferPoolTest, FetchManyBatchesMisses) {
  MakePool(64);
  WritePages(48);
  MakePool(64);
  std::vector<PageId> ids;
  for (uint64_t id = 0; id < 32; id++) ids.push_back(PageId{id});
  uint64_t submits_before = io_->stats().submits;
  std::vector<PageGuard> guards;
  ASSERT_TRUE(pool_->FetchMany(ids, LatchMode::kShared, &guards).ok());
  ASSERT_EQ(guards.size(), 32u);
  for (uint64_t id = 0; id < 32; id++) EXPECT_TRUE(Matches(guards[id].data(), id, 1));
  PoolStats st = pool_->stats();
  EXPECT_EQ(st.misses, 32u);
  EXPECT_EQ(st.hits, 0u);  // a read-ahead page's first use is not a hit
  if (GetParam() == "io_uring") {
    EXPECT_LE(io_->stats().submits - submits_before, 2u);
  }
}

TEST_P(BufferPoolTest, DiscardForgetsWithoutWriting) {
  MakePool(16);
  WritePages(4);
  Result<PageGuard> g = pool_->Fetch(PageId{2}, LatchMode::kExclusive);
  ASSERT_TRUE(g.ok());
  Fill(g->mutable_data(), 2, 9);
  g->MarkDirty(Lsn(2));
  g->Release();
  uint64_t writes = pool_->stats().writes;
  pool_->Discard(PageId{2});
  EXPECT_FALSE(pool_->IsCached(PageId{2}));
  ASSERT_TRUE(pool_->FlushAll().ok());
  EXPECT_EQ(pool_->stats().writes, writes);
  Result<PageGuard> again = pool_->Fetch(PageId{2}, LatchMode::kShared);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(Matches(again->data(), 2, 1));
}

TEST_P(BufferPoolTest, BadOptionsAreClearErrors) {
  BufferPoolOptions o;
  std::string notice;
  o.pool_bytes = 4 * kPage;
  EXPECT_TRUE(BufferPool::Create(o, io_.get(), file_, nullptr, &notice).status().IsInvalidArgument());
  o.pool_bytes = 1 << 20;
  o.page_size = 5000;
  EXPECT_TRUE(BufferPool::Create(o, io_.get(), file_, nullptr, &notice).status().IsInvalidArgument());
  o.page_size = kPage;
  o.policy_name = "no-such-policy";
  Result<std::unique_ptr<BufferPool>> r = BufferPool::Create(o, io_.get(), file_, nullptr, &notice);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no-such-policy"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, BufferPoolTest, ::testing::Values("io_uring", "pread"),
                         [](const auto& info) { return info.param == "io_uring" ? "IoUring" : "Pread"; });

}  // namespace buffer_pool_test
}  // namespace test
}  // namespace ringdb
