// io_uring-specific behaviour: the ring pool, registrations reaching rings
// created earlier and later, queue depths smaller than a batch.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "io/io_backend.h"
#include "io_test_util.h"

namespace ringdb::io {
namespace uring_backend_test {

using testing::AlignedBuffer;
using testing::FillPattern;
using testing::TempDir;

constexpr uint32_t kBlock = 4096;

std::unique_ptr<IoBackend> NewUringOrNull(unsigned depth, std::string* why) {
  Result<std::unique_ptr<IoBackend>> r = NewUringBackend(depth);
  if (!r.ok()) {
    *why = r.status().ToString();
    return nullptr;
  }
  return std::move(r).value();
}

// Each of `threads` threads writes then reads back `blocks` blocks of its
// own range of `f` from `mem` (threads * blocks * 2 blocks long). Returns
// the number of failed checks.
int Hammer(IoBackend& backend, FileId f, char* mem, int threads, int blocks) {
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      char* out = mem + static_cast<size_t>(t) * 2 * blocks * kBlock;
      char* in = out + static_cast<size_t>(blocks) * kBlock;
      FillPattern(out, static_cast<size_t>(blocks) * kBlock, 1000 + t);
      std::vector<IoRequest> reqs(blocks);
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < blocks; ++i) {
          reqs[i].op = round == 0 ? IoRequest::Op::kWrite : IoRequest::Op::kRead;
          reqs[i].file = f;
          reqs[i].offset = (static_cast<uint64_t>(t) * blocks + i) * kBlock;
          reqs[i].buf = (round == 0 ? out : in) + static_cast<size_t>(i) * kBlock;
          reqs[i].len = kBlock;
        }
        if (!backend.Submit(reqs).ok()) failures++;
      }
      if (std::memcmp(out, in, static_cast<size_t>(blocks) * kBlock) != 0) {
        failures++;
      }
    });
  }
  for (auto& th : pool) th.join();
  return failures.load();
}

TEST(UringBackendTest, RegistrationsReachRingsCreatedBeforeAndAfter) {
  std::string why;
  std::unique_ptr<IoBackend> backend = NewUringOrNull(8, &why);
  if (backend == nullptr) GTEST_SKIP() << "io_uring unavailable: " << why;
  TempDir dir;
  constexpr int kThreads = 4, kBlocks = 32;
  AlignedBuffer plain(2 * kThreads * kBlocks * kBlock);
  Result<FileId> a = backend->Open(dir.File("a"), OpenMode::kCreateReadWrite);
  ASSERT_TRUE(a.ok());
  // Several rings now exist (one per concurrently submitting thread).
  EXPECT_EQ(Hammer(*backend, *a, plain.data(), kThreads, kBlocks), 0);
  EXPECT_EQ(backend->stats().fixed_ops, 0u);

  // A file and a region added afterwards must work on every ring.
  Result<FileId> b = backend->Open(dir.File("b"), OpenMode::kCreateReadWrite);
  ASSERT_TRUE(b.ok());
  AlignedBuffer region(2 * kThreads * kBlocks * kBlock);
  RINGDB_ASSERT_OK(backend->RegisterBuffer(region.data(), region.size()));
  EXPECT_EQ(Hammer(*backend, *b, region.data(), kThreads, kBlocks), 0);
  EXPECT_EQ(backend->stats().fixed_ops, uint64_t{2 * kThreads * kBlocks});

  // Closing `a` must not disturb `b` on any ring.
  RINGDB_ASSERT_OK(backend->Close(*a));
  EXPECT_EQ(Hammer(*backend, *b, region.data(), kThreads, kBlocks), 0);
  EXPECT_EQ(backend->stats().fixed_ops, uint64_t{4 * kThreads * kBlocks});
}

TEST(UringBackendTest, SecondRegionAndRequestsStraddlingRegions) {
  std::string why;
  std::unique_ptr<IoBackend> backend = NewUringOrNull(4, &why);
  if (backend == nullptr) GTEST_SKIP() << "io_uring unavailable: " << why;
  TempDir dir;
  Result<FileId> f = backend->Open(dir.File("f"), OpenMode::kCreateReadWrite);
  ASSERT_TRUE(f.ok());
  AlignedBuffer mem(8 * kBlock);
  // Two adjacent regions: a request covering both is not inside either.
  RINGDB_ASSERT_OK(backend->RegisterBuffer(mem.data(), 4 * kBlock));
  RINGDB_ASSERT_OK(backend->RegisterBuffer(mem.data() + 4 * kBlock, 4 * kBlock));
  FillPattern(mem.data(), 4 * kBlock, 77);
  RINGDB_ASSERT_OK(backend->Write(*f, 0, mem.data() + 2 * kBlock, 4 * kBlock));
  EXPECT_EQ(backend->stats().fixed_ops, 0u);
  RINGDB_ASSERT_OK(backend->Read(*f, 0, mem.data() + 4 * kBlock, 4 * kBlock));
  EXPECT_EQ(backend->stats().fixed_ops, 1u);
  AlignedBuffer expect(4 * kBlock);
  FillPattern(expect.data(), 4 * kBlock, 77);
  // The file holds blocks 2 and 3 of the pattern, then the zeros of mem's
  // blocks 4 and 5; the read put them in mem's blocks 4 to 7.
  EXPECT_EQ(0, std::memcmp(mem.data() + 4 * kBlock, expect.data() + 2 * kBlock,
                           2 * kBlock));
  for (size_t i = 6 * kBlock; i < 8 * kBlock; ++i) {
    ASSERT_EQ(mem.data()[i], 0) << i;
  }
}

TEST(UringBackendTest, BatchLargerThanQueueDepth) {
  std::string why;
  std::unique_ptr<IoBackend> backend = NewUringOrNull(1, &why);
  if (backend == nullptr) GTEST_SKIP() << "io_uring unavailable: " << why;
  TempDir dir;
  Result<FileId> f = backend->Open(dir.File("qd1"), OpenMode::kCreateReadWrite);
  ASSERT_TRUE(f.ok());
  AlignedBuffer mem(2 * 8 * kBlock);
  EXPECT_EQ(Hammer(*backend, *f, mem.data(), 1, 8), 0);
  // Depth 1: one ring entry per request.
  EXPECT_EQ(backend->stats().submits, 16u);
  EXPECT_TRUE(NewUringBackend(1u << 20).status().IsInvalidArgument());
}

}  // namespace uring_backend_test
}  // namespace ringdb::io
