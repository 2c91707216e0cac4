// Fault-injection tests for the write-ahead log through io::FaultBackend:
// power cuts (with torn blocks) keep every record acknowledged by SyncTo and
// never yield garbage; EIO/ENOSPC and torn writes surface from SyncTo and
// leave the writer failed.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "engine/wal.h"
#include "engine/wal_format.h"
#include "io/fault_backend.h"
#include "wal_test_util.h"

namespace ringdb::wal {
namespace wal_fault_test {

using testing::MakeBackend;
using testing::MakePayload;
using testing::ReadAll;
using testing::ReadResult;
using testing::ScratchDir;

class LogFaultTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    std::unique_ptr<io::IoBackend> inner = MakeBackend(GetParam(), &why);
    if (inner == nullptr) {
      GTEST_SKIP() << why;
    }
    auto fault = std::make_unique<io::FaultBackend>(std::move(inner));
    fault_ = fault.get();
    io_ = std::move(fault);
    Result<std::unique_ptr<LogBuffer>> buffer =
        LogBuffer::Create(io_.get(), 1u << 20);
    ASSERT_TRUE(buffer.ok());
    buffer_ = std::move(buffer).value();
  }

  std::unique_ptr<LogWriter> NewWriter(uint64_t segment, Lsn start) {
    LogWriterOptions options;
    options.buffer = buffer_.get();
    Result<std::unique_ptr<LogWriter>> w =
        LogWriter::Create(io_.get(), dir_.path(), segment, start, options);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  // Checks that the records read from `segment` are a prefix of the
  // appended ones (payload seeds seed_base + i) that holds at least `acked`
  // records. Returns how many were read.
  size_t ExpectPrefix(uint64_t segment, Lsn start, const std::vector<size_t>& sizes,
                    const std::vector<Lsn>& ends, uint64_t seed_base,
                    size_t acked) {
    ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), segment), start);
    EXPECT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_GE(got.records.size(), acked);
    EXPECT_LE(got.records.size(), sizes.size());
    for (size_t i = 0; i < got.records.size() && i < sizes.size(); ++i) {
      EXPECT_EQ(got.records[i].end_lsn, ends[i]) << "record " << i;
      EXPECT_TRUE(got.records[i].payload == MakePayload(seed_base + i, sizes[i]))
          << "record " << i;
    }
    EXPECT_EQ(got.end_of_valid_log,
              got.records.empty() ? start + kSegmentHeaderSize
                                  : got.records.back().end_lsn);
    return got.records.size();
  }

  ScratchDir dir_;
  std::unique_ptr<io::IoBackend> io_;
  std::unique_ptr<LogBuffer> buffer_;  // freed before io_ (see LogBuffer)
  io::FaultBackend* fault_ = nullptr;
};

TEST_P(LogFaultTest, PowerCutKeepsAcknowledgedRecords) {
  fault_->TrackUnsynced(true);
  size_t lost_unsynced = 0;  // the cut must actually drop something
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const Lsn start(seed << 32);
    std::unique_ptr<LogWriter> w = NewWriter(seed, start);
    ASSERT_NE(w, nullptr);
    std::vector<size_t> sizes;
    std::vector<Lsn> ends;
    size_t acked = 0;
    const int n = 20 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      size_t size = rng() % 8 == 0 ? rng() % 20000 : rng() % 600;
      Result<Lsn> lsn = w->Append(3, MakePayload(seed * 1000 + i, size));
      ASSERT_TRUE(lsn.ok());
      sizes.push_back(size);
      ends.push_back(*lsn);
      switch (rng() % 6) {
        case 0:
          ASSERT_TRUE(w->SyncTo(*lsn).ok());
          acked = ends.size();
          break;
        case 1:
          ASSERT_TRUE(w->Flush().ok());  // written, not synced
          break;
        default:
          break;
      }
    }
    ASSERT_TRUE(w->Flush().ok());
    ASSERT_TRUE(fault_->PowerCut(seed, /*tear=*/true).ok());
    w.reset();  // the process dies with the machine
    lost_unsynced += sizes.size() - ExpectPrefix(seed, start, sizes, ends,
                                                 seed * 1000, acked);
    if (HasFailure()) return;
  }
  EXPECT_GT(lost_unsynced, 0u);
}

TEST_P(LogFaultTest, ConcurrentCommitsSurvivePowerCut) {
  fault_->TrackUnsynced(true);
  std::unique_ptr<LogWriter> w = NewWriter(1, Lsn(0));
  ASSERT_NE(w, nullptr);
  constexpr int kThreads = 4;
  std::vector<std::vector<std::pair<Lsn, std::string>>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string payload = MakePayload(t * 1000 + i, 50 + (i * 37) % 900);
        Result<Lsn> lsn = w->Append(1, payload);
        if (!lsn.ok()) return;
        if (i % 3 == 0 && w->SyncTo(*lsn).ok()) {
          acked[t].emplace_back(*lsn, payload);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(fault_->PowerCut(99, /*tear=*/true).ok());
  w.reset();
  ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), 1), Lsn(0));
  ASSERT_TRUE(got.status.ok());
  std::map<Lsn, const std::string*> by_lsn;
  for (const testing::ReadRecord& r : got.records) by_lsn[r.end_lsn] = &r.payload;
  for (const auto& per_thread : acked) {
    for (const auto& [lsn, payload] : per_thread) {
      auto it = by_lsn.find(lsn);
      ASSERT_NE(it, by_lsn.end()) << "acknowledged record at " << lsn << " lost";
      ASSERT_TRUE(*it->second == payload);
    }
  }
}

struct FaultCase {
  io::Fault fault;
  bool no_space;
};

TEST_P(LogFaultTest, IoErrorsFailTheWriter) {
  const FaultCase cases[] = {
      {{io::FaultOp::kWrite, 3, io::FaultKind::kEio, 0, false}, false},
      {{io::FaultOp::kWrite, 2, io::FaultKind::kEnospc, 0, false}, true},
      {{io::FaultOp::kSync, 4, io::FaultKind::kEio, 0, false}, false},
      {{io::FaultOp::kSync, 1, io::FaultKind::kEnospc, 0, false}, true},
      {{io::FaultOp::kWrite, 5, io::FaultKind::kTornWrite, 1000, false}, false},
      {{io::FaultOp::kWrite, 2, io::FaultKind::kShortWrite, 4096, false}, false},
  };
  uint64_t segment = 100;
  for (const FaultCase& c : cases) {
    SCOPED_TRACE("case " + std::to_string(segment - 99));
    std::unique_ptr<LogWriter> w = NewWriter(++segment, Lsn(0));
    ASSERT_NE(w, nullptr);
    fault_->Arm(c.fault);
    std::vector<size_t> sizes;
    std::vector<Lsn> ends;
    size_t acked = 0;
    Status failure;
    for (int i = 0; i < 50 && failure.ok(); ++i) {
      sizes.push_back(3000 + i);
      Result<Lsn> lsn = w->Append(1, MakePayload(i, sizes.back()));
      ASSERT_TRUE(lsn.ok());
      ends.push_back(*lsn);
      failure = w->SyncTo(*lsn);
      if (failure.ok()) acked = ends.size();
    }
    ASSERT_TRUE(fault_->fired());
    ASSERT_FALSE(failure.ok());
    EXPECT_TRUE(failure.IsIOError()) << failure.ToString();
    EXPECT_EQ(failure.IsNoSpace(), c.no_space) << failure.ToString();
    // Failed for good, with the same error.
    fault_->Disarm();
    EXPECT_EQ(w->Append(1, "after").status().code(), failure.code());
    EXPECT_EQ(w->SyncTo(ends.front()).code(), failure.code());
    EXPECT_EQ(w->Flush().code(), failure.code());
    EXPECT_EQ(w->Close().code(), failure.code());
    EXPECT_LT(w->durable_lsn(), ends.back());
    EXPECT_EQ(w->durable_lsn(),
              acked == 0 ? Lsn{kSegmentHeaderSize} : ends[acked - 1]);
    w.reset();
    ExpectPrefix(segment, Lsn(), sizes, ends, 0, acked);
    if (HasFailure()) return;
  }
}

TEST_P(LogFaultTest, EveryWaiterInTheFailedWriteGetsTheError) {
  std::unique_ptr<LogWriter> w = NewWriter(1, Lsn(0));
  ASSERT_NE(w, nullptr);
  fault_->Arm({io::FaultOp::kSync, 20, io::FaultKind::kEio, 0, false});
  constexpr int kThreads = 6;
  std::atomic<int> ok_after_error{0};
  std::vector<std::vector<Lsn>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      bool failed = false;
      for (int i = 0; i < 100; ++i) {
        Result<Lsn> lsn = w->Append(1, MakePayload(t, 100 + t));
        if (!lsn.ok()) {
          failed = true;
          continue;
        }
        Status s = w->SyncTo(*lsn);
        if (s.ok()) {
          if (failed) ok_after_error++;
          acked[t].push_back(*lsn);
        } else {
          EXPECT_TRUE(s.IsIOError()) << s.ToString();
          failed = true;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(fault_->fired());
  EXPECT_EQ(ok_after_error.load(), 0);
  const Lsn durable = w->durable_lsn();
  for (const auto& per_thread : acked) {
    for (Lsn lsn : per_thread) EXPECT_LE(lsn, durable);
  }
  fault_->Disarm();
  EXPECT_TRUE(w->SyncTo(Lsn()).IsIOError());
}

// The fault backend cannot map (it sees only the requests it is given): a
// writer asked to map writes with write(2) and reserves nothing, so these
// fault tests cover the plain-write path and the file holds exactly the
// records.
TEST_P(LogFaultTest, AMappedWriterFallsBackToWritesWhereItCannotMap) {
  LogWriterOptions options;
  options.buffer = buffer_.get();
  options.map_bytes = 64 << 10;
  Result<std::unique_ptr<LogWriter>> w = LogWriter::Create(io_.get(), dir_.path(), 1, Lsn(), options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Lsn end;
  for (int i = 0; i < 50; ++i) {
    Result<Lsn> lsn = (*w)->Append(1, MakePayload(i, 700));
    ASSERT_TRUE(lsn.ok());
    end = *lsn;
    ASSERT_TRUE((*w)->WriteTo(end).ok());
  }
  EXPECT_EQ((*w)->stats().writes, 50u);
  EXPECT_EQ((*w)->stats().mapped_writes, 0u);
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(dir_.path(), 1)), end.value);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(dir_.path(), 1)), end.value);
}

INSTANTIATE_TEST_SUITE_P(Wal, LogFaultTest,
                         ::testing::Values(std::string("io_uring"),
                                           std::string("pread")),
                         [](const auto& info) {
                           return info.param == "io_uring" ? "IoUring"
                                                           : "Pread";
                         });

}  // namespace wal_fault_test
}  // namespace ringdb::wal
