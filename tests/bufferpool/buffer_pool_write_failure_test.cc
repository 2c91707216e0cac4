// Reads never depend on a write succeeding (issue 17): with every write
// refused with ENOSPC, a pool whose victims are dirty keeps those pages
// cached and dirty, evicts clean pages instead and serves reads of cached
// and uncached pages; only when no frame can be freed does a read fail,
// with the write error's text.
#include <cerrno>

#include "bufferpool/buffer_pool_fixture.h"
#include "tests/util/forwarding_backend.h"

namespace ringdb {
namespace test {
namespace buffer_pool_write_failure_test {

// Forwards to the fixture's FaultBackend; while full() every write fails
// with ENOSPC as on a full file system (the FaultBackend fires only once).
class DiskFullBackend final : public ForwardingBackend {
 public:
  explicit DiskFullBackend(io::IoBackend* inner) : ForwardingBackend(inner) {}
  void set_full(bool full) { full_.store(full); }
  uint64_t refused() const { return refused_.load(); }

  std::string Name() const override { return "diskfull(" + inner()->Name() + ")"; }

 private:
  int Refuse(io::IoRequest& r) override {
    if (!full_.load() || r.op != io::IoRequest::Op::kWrite) return 0;
    refused_.fetch_add(1);
    return ENOSPC;
  }

  std::atomic<bool> full_{false};
  std::atomic<uint64_t> refused_{0};
};

// Resets the fixture's pool before the wrapper it uses goes away.
struct PoolReset {
  std::unique_ptr<BufferPool>* pool;
  ~PoolReset() { pool->reset(); }
};

TEST_P(BufferPoolTest, ReadsKeepWorkingWhileWritesFailWithNoSpace) {
  MakePool(16);
  WritePages(64);
  DiskFullBackend disk(io_.get());
  PoolReset reset{&pool_};
  MakePool(16, "clock", &disk);
  // Six cached pages at version 2, dirty.
  for (uint64_t id = 0; id < 6; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok());
    Fill(g->mutable_data(), id, 2);
    g->MarkDirty(Lsn(1));
  }
  disk.set_full(true);
  // Every page, three times over, through 16 frames: each miss needs a
  // victim, and the dirty ones cannot be written.
  for (int round = 0; round < 3; round++) {
    for (uint64_t id = 0; id < 64; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok()) << "round " << round << " page " << id << ": "
                          << g.status().ToString();
      ASSERT_TRUE(Matches(g->data(), id, id < 6 ? 2 : 1)) << "page " << id;
    }
  }
  EXPECT_GT(disk.refused(), 0u);
  PoolStats st = pool_->stats();
  EXPECT_EQ(st.dirty_pages, 6u);
  EXPECT_EQ(st.unwritable_pages, 6u);
  for (uint64_t id = 0; id < 6; id++) EXPECT_TRUE(pool_->IsCached(PageId{id})) << id;
  EXPECT_TRUE(pool_->FlushAll().IsNoSpace());

  // Space comes back: the next flush writes them, nothing was lost.
  disk.set_full(false);
  Status s = pool_->FlushAll();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(pool_->stats().unwritable_pages, 0u);
  MakePool(16);
  for (uint64_t id = 0; id < 64; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok());
    EXPECT_TRUE(Matches(g->data(), id, id < 6 ? 2 : 1)) << "page " << id;
  }
}

TEST_P(BufferPoolTest, PoolFullOfUnwritablePagesSaysSoAndRecovers) {
  MakePool(16);
  WritePages(40);
  DiskFullBackend disk(io_.get());
  PoolReset reset{&pool_};
  MakePool(16, "clock", &disk);
  for (uint64_t id = 0; id < 16; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok());
    Fill(g->mutable_data(), id, 3);
    g->MarkDirty(Lsn(1));
  }
  disk.set_full(true);
  // Cached pages still read.
  for (uint64_t id = 0; id < 16; id++) {
    ASSERT_TRUE(pool_->Fetch(PageId{id}, LatchMode::kShared).ok()) << id;
  }
  Result<PageGuard> g = pool_->Fetch(PageId{30}, LatchMode::kShared);
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(g.status().IsNoSpace()) << g.status().ToString();
  EXPECT_NE(g.status().ToString().find("cannot be written"), std::string::npos)
      << g.status().ToString();
  EXPECT_NE(g.status().ToString().find("No space left on device"), std::string::npos)
      << g.status().ToString();
  disk.set_full(false);
  g = pool_->Fetch(PageId{30}, LatchMode::kShared);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(g->data(), 30, 1));
}

}  // namespace buffer_pool_write_failure_test
}  // namespace test
}  // namespace ringdb
