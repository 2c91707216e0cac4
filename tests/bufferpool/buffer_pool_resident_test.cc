// Resident priority (BufferPool KeepResident): pages a B+tree marks as
// inner nodes survive leaf traffic far larger than the pool under every
// built-in policy, stay within the cap, and never starve a tiny pool.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "buffer_pool_fixture.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {
namespace test {
namespace buffer_pool_resident_test {

using BufferPoolResidentTest = BufferPoolTest;

// A small "tree": page 0 is the root, pages 1..kInner-1 the level above
// the leaves, then kLeaves leaves.
constexpr uint64_t kInner = 13;
constexpr uint64_t kLeaves = 1200;

// Fetches `id` shared, checks its bytes, and marks it resident when asked.
void Touch(BufferPool* pool, uint64_t id, bool inner) {
  Result<PageGuard> g = pool->Fetch(PageId{id}, LatchMode::kShared);
  ASSERT_TRUE(g.ok()) << "page " << id << ": " << g.status().ToString();
  ASSERT_TRUE(Matches(g->data(), id, 1)) << "page " << id;
  if (inner) g->KeepResident();
}

// A point read: root, the inner node above the leaf, the leaf (twice: the
// search, then the value copy).
void PointRead(BufferPool* pool, uint64_t leaf) {
  Touch(pool, 0, true);
  Touch(pool, 1 + leaf % (kInner - 1), true);
  Touch(pool, leaf, false);
  Touch(pool, leaf, false);
}

TEST_P(BufferPoolResidentTest, InnerPagesSurviveALeafScanUnderEveryPolicy) {
  MakePool(64);
  WritePages(kInner + kLeaves);
  for (const std::string& policy : EvictionPolicyNames()) {
    SCOPED_TRACE(policy);
    MakePool(64, policy);  // cap: 16 resident pages
    std::mt19937_64 rng(7);
    auto random_leaf = [&] { return kInner + rng() % kLeaves; };
    for (int i = 0; i < 300; i++) PointRead(pool_.get(), random_leaf());
    EXPECT_EQ(pool_->stats().resident_pages, kInner);

    // A scan over ~19x the pool, each leaf touched twice (read-ahead and
    // copy), never touching the inner pages.
    for (uint64_t leaf = kInner; leaf < kInner + kLeaves; leaf++) {
      Touch(pool_.get(), leaf, false);
      Touch(pool_.get(), leaf, false);
    }
    for (uint64_t id = 0; id < kInner; id++) {
      EXPECT_TRUE(pool_->IsCached(PageId{id})) << "inner page " << id << " was evicted";
    }

    // Point reads now cost at most one device read each (the leaf).
    const uint64_t before = pool_->stats().reads;
    const int kOps = 300;
    for (int i = 0; i < kOps; i++) PointRead(pool_.get(), random_leaf());
    EXPECT_LE(pool_->stats().reads - before, static_cast<uint64_t>(kOps));
    EXPECT_LE(pool_->stats().resident_pages, pool_->resident_cap());
  }
}

TEST_P(BufferPoolResidentTest, CappedAndNeverStarvesATinyPool) {
  MakePool(16);
  WritePages(300);
  for (const std::string& policy : EvictionPolicyNames()) {
    SCOPED_TRACE(policy);
    MakePool(16, policy);
    ASSERT_EQ(pool_->resident_cap(), 4u);
    // Every page asks for residence: only the first four get it.
    for (uint64_t id = 0; id < 40; id++) Touch(pool_.get(), id, true);
    EXPECT_EQ(pool_->stats().resident_pages, 4u);
    for (uint64_t id = 0; id < 4; id++) EXPECT_TRUE(pool_->IsCached(PageId{id})) << id;

    // Pin every other frame: the next miss must take a resident frame
    // rather than wait for an unpin that never comes.
    std::vector<PageGuard> pinned;
    for (uint64_t id = 100; id < 112; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      pinned.push_back(std::move(g.value()));
    }
    Result<PageGuard> g = pool_->Fetch(PageId{200}, LatchMode::kShared);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_TRUE(Matches(g->data(), 200, 1));
    EXPECT_EQ(pool_->stats().resident_pages, 3u);
  }
}

TEST_P(BufferPoolResidentTest, NoResidentPagesWhenTheFractionIsZero) {
  MakePool(16);
  WritePages(20);
  pool_.reset();
  BufferPoolOptions o;
  o.pool_bytes = 16 * kPage;
  o.page_size = kPage;
  o.resident_fraction = 0;
  std::string notice;
  Result<std::unique_ptr<BufferPool>> p = BufferPool::Create(o, io_.get(), file_, nullptr, &notice);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  pool_ = std::move(p.value());
  for (uint64_t id = 0; id < 20; id++) Touch(pool_.get(), id, true);
  EXPECT_EQ(pool_->stats().resident_pages, 0u);
}

// Many threads marking and evicting at once: the count stays within the
// cap, matches the marked frames, and every page read is the right one.
TEST_P(BufferPoolResidentTest, ConcurrentMarkAndEvict) {
  MakePool(32);
  WritePages(400);
  for (const std::string& policy : EvictionPolicyNames()) {
    SCOPED_TRACE(policy);
    MakePool(32, policy);
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; t++) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(t + 1);
        for (int i = 0; i < 2000; i++) {
          uint64_t id = rng() % 400;
          Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
          if (!g.ok() || !Matches(g->data(), id, 1)) {
            failures++;
            continue;
          }
          if (id % 8 == 0) g->KeepResident();
          g->Release();
          if (id % 3 == 0) pool_->Discard(PageId{id + 1});  // frees take marks away
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LE(pool_->stats().resident_pages, pool_->resident_cap());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BufferPoolResidentTest, ::testing::Values("io_uring", "pread"),
                         [](const auto& info) { return info.param == "io_uring" ? "uring" : "pread"; });

}  // namespace buffer_pool_resident_test
}  // namespace test
}  // namespace ringdb
