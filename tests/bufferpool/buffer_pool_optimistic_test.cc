// Optimistic reads through BufferPool::FetchOptimistic: validation holds
// while nothing changes the page, fails after an exclusive latch, an
// eviction or a concurrent writer, and what validates is never torn.
#include <atomic>
#include <thread>

#include "bufferpool/buffer_pool_fixture.h"

namespace ringdb {
namespace test {
namespace buffer_pool_optimistic_test {

// Payload words are read and written through atomic_ref so that racing an
// optimistic reader with a writer is well defined (and quiet under TSan).
uint64_t LoadWord(const char* page, size_t i) {
  auto* p = reinterpret_cast<uint64_t*>(const_cast<char*>(page) + kPageHeaderSize) + i;
  return std::atomic_ref<uint64_t>(*p).load(std::memory_order_relaxed);
}
void StoreWord(char* page, size_t i, uint64_t v) {
  auto* p = reinterpret_cast<uint64_t*>(page + kPageHeaderSize) + i;
  std::atomic_ref<uint64_t>(*p).store(v, std::memory_order_relaxed);
}
constexpr size_t kWords = (kPage - kPageHeaderSize) / 8;

TEST_P(BufferPoolTest, OptimisticReadValidatesUntilThePageChanges) {
  MakePool(16);
  WritePages(40);
  Result<OptimisticGuard> o = pool_->FetchOptimistic(PageId{3});  // a miss
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(Matches(o->data(), 3, 1));
  EXPECT_TRUE(o->Validate());

  // Shared latching leaves the version alone.
  {
    Result<PageGuard> g = pool_->Fetch(PageId{3}, LatchMode::kShared);
    ASSERT_TRUE(g.ok());
    EXPECT_TRUE(o->Validate());
  }
  EXPECT_TRUE(o->Validate());
  Result<OptimisticGuard> again = pool_->FetchOptimistic(PageId{3});  // a hit
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version(), o->version());

  // An exclusive latch fails it while held and after.
  {
    Result<PageGuard> g = pool_->Fetch(PageId{3}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok());
    EXPECT_FALSE(o->Validate());
  }
  EXPECT_FALSE(o->Validate());

  // TryLatch succeeds only at the version the guard saw.
  Result<OptimisticGuard> fresh = pool_->FetchOptimistic(PageId{3});
  ASSERT_TRUE(fresh.ok());
  PageGuard latched;
  EXPECT_FALSE(o->TryLatch(LatchMode::kShared, &latched));
  ASSERT_TRUE(fresh->TryLatch(LatchMode::kExclusive, &latched));
  EXPECT_EQ(latched.id(), PageId{3});
  EXPECT_EQ(latched.data(), fresh->data());
  latched.Release();

  // Eviction fails it too: read every other page through the small pool.
  Result<OptimisticGuard> before = pool_->FetchOptimistic(PageId{3});
  ASSERT_TRUE(before.ok());
  for (uint64_t id = 4; id < 40; id++) {
    ASSERT_TRUE(pool_->Fetch(PageId{id}, LatchMode::kShared).ok());
  }
  ASSERT_FALSE(pool_->IsCached(PageId{3}));
  EXPECT_FALSE(before->Validate());
}

// A writer that changes the page between the reader's version read and its
// validation makes the validation fail: done in lock step, no timing.
TEST_P(BufferPoolTest, ConcurrentWriterFailsValidation) {
  MakePool(16);
  WritePages(4);
  Result<OptimisticGuard> o = pool_->FetchOptimistic(PageId{2});
  ASSERT_TRUE(o.ok());
  uint64_t seen = LoadWord(o->data(), 0);
  std::thread writer([&] {
    Result<PageGuard> g = pool_->Fetch(PageId{2}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok());
    StoreWord(g->mutable_data(), 0, seen + 1);
    g->MarkDirty(Lsn(1));
  });
  writer.join();
  EXPECT_FALSE(o->Validate());
  Result<OptimisticGuard> after = pool_->FetchOptimistic(PageId{2});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(LoadWord(after->data(), 0), seen + 1);
  EXPECT_TRUE(after->Validate());
}

// Writers keep every payload word of a page equal to one counter; readers
// read optimistically. Whatever validates must be an untorn image.
TEST_P(BufferPoolTest, ValidatedOptimisticReadsAreNeverTorn) {
  MakePool(16);
  WritePages(2);
  {
    Result<PageGuard> g = pool_->Fetch(PageId{1}, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok());
    for (size_t i = 0; i < kWords; i++) StoreWord(g->mutable_data(), i, 0);
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t v = 1; v <= 3000; v++) {
      Result<PageGuard> g = pool_->Fetch(PageId{1}, LatchMode::kExclusive);
      ASSERT_TRUE(g.ok());
      for (size_t i = 0; i < kWords; i++) StoreWord(g->mutable_data(), i, v);
      g->MarkDirty(Lsn(1));
    }
    stop.store(true);
  });
  std::atomic<uint64_t> validated{0};
  auto reader = [&] {
    while (!stop.load()) {
      Result<OptimisticGuard> o = pool_->FetchOptimistic(PageId{1});
      ASSERT_TRUE(o.ok());
      uint64_t first = LoadWord(o->data(), 0);
      bool same = true;
      for (size_t i = 1; i < kWords; i++) same = same && LoadWord(o->data(), i) == first;
      if (o->Validate()) {
        ASSERT_TRUE(same) << "a validated read saw a torn page";
        validated.fetch_add(1);
      }
    }
  };
  std::thread r1(reader), r2(reader);
  writer.join();
  r1.join();
  r2.join();
  // After the writer stopped, a read validates and sees its last value.
  Result<OptimisticGuard> o = pool_->FetchOptimistic(PageId{1});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(LoadWord(o->data(), 7), 3000u);
  EXPECT_TRUE(o->Validate());
}

}  // namespace buffer_pool_optimistic_test
}  // namespace test
}  // namespace ringdb
