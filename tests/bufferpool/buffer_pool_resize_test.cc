// BufferPool::Resize: shrinking evicts the retired frames (dirty pages
// written first) and keeps the page budget, growing hands the frames out
// again, bounds are enforced, a pinned retired frame is waited for, and
// readers and writers keep working while the size changes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bufferpool/buffer_pool_fixture.h"

namespace ringdb {
namespace test {
namespace {

class BufferPoolResizeTest : public BufferPoolTest {};

TEST_P(BufferPoolResizeTest, ShrinkWritesAndEvictsThenGrowHandsFramesOut) {
  MakePool(64);
  // Dirty pages in every frame, never flushed: the shrink must write them.
  for (uint64_t id = 0; id < 64; id++) {
    Result<PageGuard> g = pool_->NewPage(PageId{id});
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    Fill(g->mutable_data(), id, 7);
    g->MarkDirty(Lsn(1));
  }
  EXPECT_EQ(pool_->stats().used_frames, 64u);
  ASSERT_TRUE(pool_->Resize(16 * kPage).ok());
  PoolStats s = pool_->stats();
  EXPECT_EQ(s.frames, 16u);
  EXPECT_LE(s.used_frames, 16u);
  EXPECT_EQ(pool_->num_frames(), 16u);
  EXPECT_EQ(pool_->reserved_frames(), 64u);
  // Every page is intact, and the pool never holds more than 16 of them.
  for (uint64_t id = 0; id < 64; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_TRUE(Matches(g->data(), id, 7)) << id;
    g->Release();
    ASSERT_LE(pool_->stats().used_frames, 16u);
  }
  // Grown back, all 64 pages fit: a second pass is all hits.
  ASSERT_TRUE(pool_->Resize(64 * kPage).ok());
  for (uint64_t id = 0; id < 64; id++) {
    ASSERT_TRUE(pool_->Fetch(PageId{id}, LatchMode::kShared).ok());
  }
  const uint64_t misses = pool_->stats().misses;
  for (uint64_t id = 0; id < 64; id++) {
    ASSERT_TRUE(pool_->Fetch(PageId{id}, LatchMode::kShared).ok());
  }
  EXPECT_EQ(pool_->stats().misses, misses);
  EXPECT_EQ(pool_->stats().used_frames, 64u);
}

TEST_P(BufferPoolResizeTest, SizesOutsideTheReservedRangeAreRefused) {
  MakePool(32);
  EXPECT_TRUE(pool_->Resize(15 * kPage).IsInvalidArgument());
  EXPECT_TRUE(pool_->Resize(33 * kPage).IsInvalidArgument());
  EXPECT_EQ(pool_->stats().frames, 32u);
  EXPECT_TRUE(pool_->Resize(16 * kPage + kPage / 2).ok());  // whole pages
  EXPECT_EQ(pool_->stats().frames, 16u);
}

// A page pinned in a frame the shrink retires: Resize waits for the pin to
// go, then evicts it.
TEST_P(BufferPoolResizeTest, ShrinkWaitsForAPinnedRetiredFrame) {
  MakePool(32);
  WritePages(32);  // page i in frame i
  std::atomic<bool> pinned{false};
  std::thread holder([&] {
    Result<PageGuard> g = pool_->Fetch(PageId{31}, LatchMode::kShared);
    ASSERT_TRUE(g.ok());
    pinned = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  while (!pinned.load()) std::this_thread::yield();
  Status s = pool_->Resize(16 * kPage);
  holder.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(pool_->IsCached(PageId{31}));
  EXPECT_LE(pool_->stats().used_frames, 16u);
}

// Four threads read and increment counters in pages while the pool shrinks
// and grows again and again: no request fails, no increment is lost, and
// after every successful shrink the budget holds.
TEST_P(BufferPoolResizeTest, ConcurrentResizeUnderReadersAndWriters) {
  MakePool(64);
  const uint64_t kPages = 200;
  for (uint64_t id = 0; id < kPages; id++) {
    Result<PageGuard> g = pool_->NewPage(PageId{id});
    ASSERT_TRUE(g.ok());
    std::memcpy(g->mutable_data() + kPageHeaderSize, &id, 8);
    g->MarkDirty(Lsn(1));
  }
  std::atomic<uint64_t> increments{0};
  std::atomic<bool> failed{false}, stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (int op = 0; op < 3000 && !failed; op++) {
        uint64_t id = rng() % kPages;
        bool write = rng() % 3 == 0;
        Result<PageGuard> g =
            pool_->Fetch(PageId{id}, write ? LatchMode::kExclusive : LatchMode::kShared);
        if (!g.ok()) {
          ADD_FAILURE() << g.status().ToString();
          failed = true;
          return;
        }
        uint64_t stored;
        std::memcpy(&stored, g->data() + kPageHeaderSize, 8);
        if (stored != id) {
          ADD_FAILURE() << "page " << id << " holds " << stored;
          failed = true;
          return;
        }
        if (write) {
          uint64_t count;
          std::memcpy(&count, g->data() + kPageHeaderSize + 8, 8);
          count++;
          std::memcpy(g->mutable_data() + kPageHeaderSize + 8, &count, 8);
          g->MarkDirty(Lsn(op + 1));
          increments++;
        }
      }
    });
  }
  std::thread resizer([&] {
    const uint32_t sizes[] = {16, 48, 24, 64, 20, 40};
    for (int i = 0; !stop.load(); i++) {
      const uint32_t frames = sizes[i % 6];
      Status s = pool_->Resize(size_t{frames} * kPage);
      if (!s.ok()) {
        ADD_FAILURE() << s.ToString();
        failed = true;
        return;
      }
      PoolStats st = pool_->stats();
      if (st.used_frames > frames) {
        ADD_FAILURE() << st.used_frames << " frames used after resizing to " << frames;
        failed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  resizer.join();
  ASSERT_FALSE(failed);
  ASSERT_TRUE(pool_->FlushAll().ok());
  MakePool(24);
  uint64_t total = 0;
  for (uint64_t id = 0; id < kPages; id++) {
    Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
    ASSERT_TRUE(g.ok());
    uint64_t count;
    std::memcpy(&count, g->data() + kPageHeaderSize + 8, 8);
    total += count;
  }
  EXPECT_EQ(total, increments.load());
}

INSTANTIATE_TEST_SUITE_P(Backends, BufferPoolResizeTest, ::testing::Values("io_uring", "pread"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace test
}  // namespace ringdb
