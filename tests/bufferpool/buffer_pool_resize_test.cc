// BufferPool::Resize: shrinking evicts the retired frames (dirty pages
// written first) and keeps the page budget, growing hands the frames out
// again, bounds are enforced, a pinned retired frame is waited for, and
// readers and writers keep working while the size changes. Past the size
// given at creation (max_pool_bytes) the pool grows in chunks: the chunks
// it covers whole are registered, those it retires whole unregistered.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "bufferpool/buffer_pool_fixture.h"

namespace ringdb {
namespace test {
namespace buffer_pool_resize_test {

class BufferPoolResizeTest : public BufferPoolTest {
 protected:
  // A pool of `frames` frames that may grow to `max_frames`, in chunks of
  // `chunk_frames`.
  void MakeChunkedPool(uint32_t frames, uint32_t max_frames, uint32_t chunk_frames) {
    pool_.reset();
    BufferPoolOptions o;
    o.pool_bytes = size_t{frames} * kPage;
    o.max_pool_bytes = size_t{max_frames} * kPage;
    o.chunk_bytes = size_t{chunk_frames} * kPage;
    o.page_size = kPage;
    o.eviction_batch = 4;
    std::string notice;
    Result<std::unique_ptr<BufferPool>> p =
        BufferPool::Create(o, io_.get(), file_, nullptr, &notice);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pool_ = std::move(p.value());
  }

  // Pages [0, n) created in memory at `version`, dirty, never written.
  void NewDirtyPages(uint64_t n, uint64_t version) {
    for (uint64_t id = 0; id < n; id++) {
      Result<PageGuard> g = pool_->NewPage(PageId{id});
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      Fill(g->mutable_data(), id, version);
      g->MarkDirty(Lsn(1));
    }
  }

  // Fetches pages [0, n) and checks each holds `version`, and that the
  // pool never holds more than `budget` pages meanwhile.
  void ExpectPages(uint64_t n, uint64_t version, uint32_t budget) {
    for (uint64_t id = 0; id < n; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      ASSERT_TRUE(Matches(g->data(), id, version)) << id;
      g->Release();
      ASSERT_LE(pool_->stats().used_frames, budget);
    }
  }

  // Four threads read and increment counters in `pages` pages while
  // another resizes the pool through `sizes` (frames) again and again: no
  // request fails, no increment is lost, and after every resize the
  // budget holds.
  void MixedWorkWhileResizing(uint64_t pages, const std::vector<uint32_t>& sizes);
};

TEST_P(BufferPoolResizeTest, ShrinkWritesAndEvictsThenGrowHandsFramesOut) {
  MakePool(64);
  // Dirty pages in every frame, never flushed: the shrink must write them.
  NewDirtyPages(64, 7);
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

void BufferPoolResizeTest::MixedWorkWhileResizing(uint64_t pages,
                                                  const std::vector<uint32_t>& sizes) {
  WriteCounterPages(pages);
  const uint64_t increments = RunCounterWorkers(
      pages, [&](const std::atomic<bool>& stop, std::atomic<bool>& failed) {
        for (size_t i = 0; !stop.load(); i++) {
          const uint32_t frames = sizes[i % sizes.size()];
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
  ASSERT_FALSE(HasFailure());
  CheckCounters(pages, increments);
}

TEST_P(BufferPoolResizeTest, ConcurrentResizeUnderReadersAndWriters) {
  MakePool(64);
  MixedWorkWhileResizing(200, {16, 48, 24, 64, 20, 40});
}

TEST_P(BufferPoolResizeTest, GrowsPastTheCreationSizeAndShrinksBackChunkByChunk) {
  MakeChunkedPool(32, 128, 32);  // chunks: [0,32) [32,64) [64,96) [96,128)
  EXPECT_EQ(pool_->num_frames(), 32u);
  EXPECT_EQ(pool_->reserved_frames(), 128u);
  const uint32_t base = pool_->registered_chunks();  // 1, or 0 where refused
  if (base == 0) GTEST_SKIP() << "buffer registration refused here (RLIMIT_MEMLOCK?)";
  WritePages(128);
  EXPECT_LE(pool_->stats().used_frames, 32u);

  // Into the middle of the third chunk: the second is registered, the
  // third (covered in part) is not.
  ASSERT_TRUE(pool_->Resize(80 * kPage).ok());
  EXPECT_EQ(pool_->num_frames(), 80u);
  EXPECT_EQ(pool_->registered_chunks(), base + 1);
  ExpectPages(128, 1, 80);
  // 80 pages fit now: a second pass over them is all hits.
  ExpectPages(80, 1, 80);
  const uint64_t misses = pool_->stats().misses;
  ExpectPages(80, 1, 80);
  EXPECT_EQ(pool_->stats().misses, misses);

  ASSERT_TRUE(pool_->Resize(128 * kPage).ok());
  EXPECT_EQ(pool_->registered_chunks(), base + 3);
  ExpectPages(128, 1, 128);
  EXPECT_EQ(pool_->stats().used_frames, 128u);

  // Into the second chunk: the last two leave whole, the second stays
  // registered (it keeps 8 active frames).
  ASSERT_TRUE(pool_->Resize(40 * kPage).ok());
  EXPECT_LE(pool_->stats().used_frames, 40u);
  EXPECT_EQ(pool_->registered_chunks(), base + 1);
  ExpectPages(128, 1, 40);
  // Back to the creation size: only chunk 0 is left.
  ASSERT_TRUE(pool_->Resize(32 * kPage).ok());
  EXPECT_EQ(pool_->registered_chunks(), base);
  ExpectPages(128, 1, 32);
  EXPECT_TRUE(pool_->Resize(129 * kPage).IsInvalidArgument());
  EXPECT_EQ(pool_->num_frames(), 32u);
}

// Dirty pages in chunks beyond the creation size are written before their
// chunk goes away.
TEST_P(BufferPoolResizeTest, ShrinkWritesDirtyPagesOfTheChunksItReleases) {
  MakeChunkedPool(16, 64, 16);
  ASSERT_TRUE(pool_->Resize(64 * kPage).ok());
  NewDirtyPages(64, 1);
  EXPECT_EQ(pool_->stats().used_frames, 64u);
  ASSERT_TRUE(pool_->Resize(16 * kPage).ok());
  EXPECT_LE(pool_->stats().used_frames, 16u);
  ExpectPages(64, 1, 16);
}

// The same mixed work while the pool grows past its creation size and
// shrinks back across chunk boundaries.
TEST_P(BufferPoolResizeTest, ConcurrentResizeAcrossChunks) {
  MakeChunkedPool(32, 160, 16);
  MixedWorkWhileResizing(300, {160, 16, 100, 40, 147, 32, 64, 20});
}

INSTANTIATE_TEST_SUITE_P(Backends, BufferPoolResizeTest, ::testing::Values("io_uring", "pread"),
                         [](const auto& info) { return info.param; });

}  // namespace buffer_pool_resize_test
}  // namespace test
}  // namespace ringdb
