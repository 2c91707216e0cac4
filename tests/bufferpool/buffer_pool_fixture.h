// BufferPoolTest: the fixture shared by the buffer pool test files. Each
// test gets a fresh O_DIRECT file in a TempDir, an io backend chosen by the
// test parameter ("io_uring" or "pread", through MakeBackend) wrapped in an
// io::FaultBackend, and a pool made by MakePool(). Pages are filled with
// bytes derived from (id, version) so that any mix-up shows; the counter
// pages and workers serve the concurrency tests.
#pragma once

#include "bufferpool/buffer_pool.h"
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include "io/fault_backend.h"
#include "tests/util/backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace test {

inline constexpr uint32_t kPage = 4096;

// Fills the payload of a page with bytes derived from (id, version).
inline void Fill(char* page, uint64_t id, uint64_t version) {
  std::mt19937_64 rng(id * 1000003 + version);
  for (size_t i = kPageHeaderSize; i < kPage; i += 8) {
    uint64_t v = rng();
    std::memcpy(page + i, &v, 8);
  }
  std::memcpy(page + kPageHeaderSize, &version, 8);
}

// The version stamped into page `id` on disk (see Fill), read with a plain
// descriptor; UINT64_MAX when it cannot be read.
inline uint64_t VersionOnDisk(const std::string& path, uint64_t id) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return UINT64_MAX;
  uint64_t v = UINT64_MAX;
  if (::pread(fd, &v, 8, id * kPage + kPageHeaderSize) != 8) v = UINT64_MAX;
  ::close(fd);
  return v;
}

inline bool Matches(const char* page, uint64_t id, uint64_t version) {
  std::vector<char> want(kPage);
  Fill(want.data(), id, version);
  return std::memcmp(page + kPageHeaderSize, want.data() + kPageHeaderSize,
                     kPage - kPageHeaderSize) == 0;
}

class BufferPoolTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<TempDir>("pool");
    path_ = tmp_->File("pages");
    std::string why;
    std::unique_ptr<io::IoBackend> inner = MakeBackend(GetParam(), &why);
    if (inner == nullptr) GTEST_SKIP() << why;
    auto fault = std::make_unique<io::FaultBackend>(std::move(inner));
    fault_ = fault.get();
    io_ = std::move(fault);
    Result<io::FileId> f = io_->Open(path_, io::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    file_ = f.value();
  }

  void TearDown() override {
    pool_.reset();
    if (io_ && file_.valid()) (void)io_->Close(file_);
    io_.reset();
    tmp_.reset();
  }

  // A fresh pool over the test file; through `io` when given (a wrapper of
  // io_), else through io_.
  void MakePool(uint32_t frames, const std::string& policy = "clock",
                io::IoBackend* io = nullptr) {
    pool_.reset();
    BufferPoolOptions o;
    o.pool_bytes = size_t{frames} * kPage;
    o.page_size = kPage;
    o.policy_name = policy;
    o.eviction_batch = 4;
    std::string notice;
    Result<std::unique_ptr<BufferPool>> p =
        BufferPool::Create(o, io != nullptr ? io : io_.get(), file_, nullptr, &notice);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pool_ = std::move(p.value());
  }

  // Writes pages [0, n) at version 1 and flushes them.
  void WritePages(uint64_t n) {
    for (uint64_t id = 0; id < n; id++) {
      Result<PageGuard> g = pool_->NewPage(PageId{id});
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      Fill(g->mutable_data(), id, 1);
      g->MarkDirty(Lsn(1));
    }
    ASSERT_TRUE(pool_->FlushAll().ok());
  }

  // Pages [0, pages), each holding its own id and a counter of 0, dirty.
  void WriteCounterPages(uint64_t pages) {
    for (uint64_t id = 0; id < pages; id++) {
      Result<PageGuard> g = pool_->NewPage(PageId{id});
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      std::memcpy(g->mutable_data() + kPageHeaderSize, &id, 8);
      g->MarkDirty(Lsn(1));
    }
  }

  // Four threads of 3000 random fetches each over the pages of
  // WriteCounterPages: every fetch checks that the page holds its id, one
  // in three latches exclusively and adds 1 to the page's counter. When
  // given, `beside` runs on a thread of its own at the same time until
  // `stop` turns true (after the last worker ended); it reports a failure
  // by setting `failed`, which stops the workers. Returns the number of
  // increments; a failed check fails the test.
  uint64_t RunCounterWorkers(
      uint64_t pages,
      const std::function<void(const std::atomic<bool>& stop, std::atomic<bool>& failed)>&
          beside = {}) {
    std::atomic<uint64_t> increments{0};
    std::atomic<bool> failed{false}, stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(t);
        for (int op = 0; op < 3000 && !failed; op++) {
          uint64_t id = rng() % pages;
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
    std::thread side;
    if (beside) side = std::thread([&] { beside(stop, failed); });
    for (auto& t : threads) t.join();
    stop = true;
    if (side.joinable()) side.join();
    EXPECT_FALSE(failed);
    return increments.load();
  }

  // Flushes, reopens the pool (24 frames) and checks that every page still
  // holds its id and that the counters add up to `increments`.
  void CheckCounters(uint64_t pages, uint64_t increments) {
    ASSERT_TRUE(pool_->FlushAll().ok());
    MakePool(24);
    uint64_t total = 0;
    for (uint64_t id = 0; id < pages; id++) {
      Result<PageGuard> g = pool_->Fetch(PageId{id}, LatchMode::kShared);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      uint64_t stored, count;
      std::memcpy(&stored, g->data() + kPageHeaderSize, 8);
      std::memcpy(&count, g->data() + kPageHeaderSize + 8, 8);
      ASSERT_EQ(stored, id);
      total += count;
    }
    EXPECT_EQ(total, increments);
  }

  void FlipByteInFile(uint64_t offset) {
    int fd = ::open(path_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char c;
    ASSERT_EQ(::pread(fd, &c, 1, offset), 1);
    c ^= 0x10;
    ASSERT_EQ(::pwrite(fd, &c, 1, offset), 1);
    ::fsync(fd);
    ::close(fd);
  }

  std::unique_ptr<TempDir> tmp_;
  std::string path_;
  std::unique_ptr<io::IoBackend> io_;
  io::FaultBackend* fault_ = nullptr;
  io::FileId file_;
  std::unique_ptr<BufferPool> pool_;
};

}  // namespace test
}  // namespace ringdb
