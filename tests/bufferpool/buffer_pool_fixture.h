// BufferPoolTest: the fixture shared by the buffer pool test files. Each
// test gets a fresh O_DIRECT file in a temporary directory, an io backend
// chosen by the test parameter ("io_uring" or "pread") wrapped in an
// io::FaultBackend, and a pool made by MakePool(). Pages are filled with
// bytes derived from (id, version) so that any mix-up shows.
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
#include <filesystem>
#include <random>
#include <thread>

#include "io/fault_backend.h"

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
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    dir_ = std::filesystem::temp_directory_path().string() + "/ringdb_pool_" +
           std::to_string(getpid()) + "_" + name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/pages";
    std::unique_ptr<io::IoBackend> inner;
    if (GetParam() == "io_uring") {
      Result<std::unique_ptr<io::IoBackend>> r = io::NewUringBackend(64);
      if (!r.ok()) GTEST_SKIP() << "io_uring unavailable here: " << r.status().ToString();
      inner = std::move(r.value());
    } else {
      inner = io::NewPreadBackend();
    }
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
    std::filesystem::remove_all(dir_);
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

  std::string dir_, path_;
  std::unique_ptr<io::IoBackend> io_;
  io::FaultBackend* fault_ = nullptr;
  io::FileId file_;
  std::unique_ptr<BufferPool> pool_;
};

}  // namespace test
}  // namespace ringdb
