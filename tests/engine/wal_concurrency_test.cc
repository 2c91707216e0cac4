// Concurrency tests for LogWriter: group commit with many committing
// threads, and appends (including records larger than the buffer) racing
// with SyncTo and Flush from other threads.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "engine/wal.h"
#include "wal_test_util.h"

namespace ringdb::wal {
namespace wal_concurrency_test {

using testing::MakeBackend;
using testing::MakePayload;
using testing::ReadAll;
using testing::ReadResult;
using testing::ScratchDir;

// Payload: 8-byte thread id, 8-byte sequence number, then MakePayload bytes
// seeded by both.
std::string TaggedPayload(uint64_t thread, uint64_t seq, size_t extra) {
  std::string out(16, '\0');
  std::memcpy(out.data(), &thread, 8);
  std::memcpy(out.data() + 8, &seq, 8);
  out += MakePayload(thread * 1000003 + seq, extra);
  return out;
}

// Checks that every thread's records are present, in order, and intact.
void ExpectAllTagged(const ReadResult& got, int threads, int per_thread) {
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.records.size(), static_cast<size_t>(threads * per_thread));
  std::vector<uint64_t> next(threads, 0);
  for (const testing::ReadRecord& r : got.records) {
    ASSERT_GE(r.payload.size(), 16u);
    uint64_t thread, seq;
    std::memcpy(&thread, r.payload.data(), 8);
    std::memcpy(&seq, r.payload.data() + 8, 8);
    ASSERT_LT(thread, static_cast<uint64_t>(threads));
    ASSERT_EQ(seq, next[thread]) << "thread " << thread;
    ASSERT_TRUE(r.payload == TaggedPayload(thread, seq, r.payload.size() - 16));
    next[thread]++;
  }
}

class LogConcurrencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    io_ = MakeBackend(GetParam(), &why);
    if (io_ == nullptr) {
      GTEST_SKIP() << why;
    }
  }

  ScratchDir dir_;
  std::unique_ptr<io::IoBackend> io_;
  std::unique_ptr<LogBuffer> buffer_;  // freed before io_ (see LogBuffer)
};

TEST_P(LogConcurrencyTest, GroupCommit) {
  Result<std::unique_ptr<LogBuffer>> buffer =
      LogBuffer::Create(io_.get(), 4u << 20);
  ASSERT_TRUE(buffer.ok());
  buffer_ = std::move(buffer).value();
  LogWriterOptions options;
  options.buffer = buffer_.get();
  Result<std::unique_ptr<LogWriter>> created =
      LogWriter::Create(io_.get(), dir_.path(), 1, Lsn(4096), options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  LogWriter* w = created->get();

  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kPerThread; ++i) {
        Result<Lsn> lsn = w->Append(1, TaggedPayload(t, i, rng() % 2000));
        if (!lsn.ok() || !w->SyncTo(*lsn).ok() || w->durable_lsn() < *lsn) {
          errors++;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  LogWriterStats stats = w->stats();
  std::printf("group commit: %llu SyncTo calls, %llu syncs, %llu writes, "
              "%llu satisfied by another's sync\n",
              static_cast<unsigned long long>(stats.sync_calls),
              static_cast<unsigned long long>(stats.syncs),
              static_cast<unsigned long long>(stats.writes),
              static_cast<unsigned long long>(stats.group_commits));
  EXPECT_EQ(stats.sync_calls, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats.records, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_LT(stats.syncs, stats.sync_calls);
  EXPECT_GT(stats.group_commits, 0u);
  EXPECT_LE(stats.syncs + stats.group_commits, stats.sync_calls);
  EXPECT_EQ(w->durable_lsn(), w->appended_lsn());
  ASSERT_TRUE(w->Close().ok());

  ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), 1), Lsn(4096));
  ExpectAllTagged(got, kThreads, kPerThread);
  EXPECT_EQ(got.end_of_valid_log, w->appended_lsn());
  created->reset();
}

TEST_P(LogConcurrencyTest, AppendsRaceWithSyncsAndFlushesOnSmallBuffer) {
  // A 8 KiB buffer: most records are written through in pieces while other
  // appenders wait and syncers take turns leading.
  LogWriterOptions options;
  options.buffer_bytes = 8192;
  Result<std::unique_ptr<LogWriter>> created =
      LogWriter::Create(io_.get(), dir_.path(), 2, Lsn(0), options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  LogWriter* w = created->get();

  constexpr int kAppenders = 4;
  constexpr int kPerThread = 150;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int i = 0; i < kPerThread; ++i) {
        size_t extra = rng() % 4 == 0 ? rng() % 30000 : rng() % 300;
        Result<Lsn> lsn = w->Append(2, TaggedPayload(t, i, extra));
        if (!lsn.ok()) errors++;
        if (lsn.ok() && i % 10 == 0 && !w->SyncTo(*lsn).ok()) errors++;
      }
    });
  }
  std::vector<std::thread> helpers;
  for (int h = 0; h < 2; ++h) {
    helpers.emplace_back([&, h] {
      while (!done.load()) {
        Status s = h == 0 ? w->SyncTo(w->appended_lsn()) : w->Flush();
        if (!s.ok()) errors++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  for (std::thread& t : helpers) t.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_TRUE(w->Close().ok());
  ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), 2), Lsn(0));
  ExpectAllTagged(got, kAppenders, kPerThread);
  EXPECT_EQ(got.end_of_valid_log, w->appended_lsn());
}

// Non-sync commits: every WriteTo returns with its record in the file (in
// the kernel), which the writer's destructor, dropping whatever was not
// written as a crash of the process would, does not undo. Concurrent
// committers share writes, and the page-cache drop steps run on the way.
TEST_P(LogConcurrencyTest, WriteToPutsEveryRecordInTheFileWithSharedWrites) {
  LogWriterOptions options;
  options.cache_drop_bytes = 64 << 10;  // many drop steps
  Result<std::unique_ptr<LogWriter>> created =
      LogWriter::Create(io_.get(), dir_.path(), 3, Lsn(0), options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  LogWriter* w = created->get();

  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(200 + t);
      for (int i = 0; i < kPerThread; ++i) {
        Result<Lsn> lsn = w->Append(1, TaggedPayload(t, i, rng() % 1500));
        if (!lsn.ok() || !w->WriteTo(*lsn).ok() || w->written_lsn() < *lsn) errors++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  LogWriterStats stats = w->stats();
  std::printf("non-sync commits: %llu WriteTo calls, %llu writes, %llu cache drops\n",
              static_cast<unsigned long long>(stats.write_calls),
              static_cast<unsigned long long>(stats.writes),
              static_cast<unsigned long long>(stats.cache_drops));
  EXPECT_EQ(stats.write_calls, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_LE(stats.writes, stats.write_calls);
  EXPECT_EQ(stats.syncs, 0u);
  EXPECT_GT(stats.cache_drops, 0u);
  EXPECT_EQ(stats.cache_advice_errors, 0u);
  const Lsn written = w->written_lsn();
  created->reset();  // no Close: unwritten bytes are dropped, written stay

  ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), 3), Lsn(0));
  ExpectAllTagged(got, kThreads, kPerThread);
  EXPECT_EQ(got.end_of_valid_log, written);
}

INSTANTIATE_TEST_SUITE_P(Wal, LogConcurrencyTest,
                         ::testing::Values(std::string("io_uring"),
                                           std::string("pread")),
                         [](const auto& info) {
                           return info.param == "io_uring" ? "IoUring"
                                                           : "Pread";
                         });

}  // namespace wal_concurrency_test
}  // namespace ringdb::wal
