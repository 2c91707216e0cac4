// FaultBackend: injected errors, short and torn writes, crash mode and
// power cuts, on each real backend underneath.
#include "io/fault_backend.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "io_test_util.h"

namespace ringdb::io {
namespace fault_backend_test {

using testing::AlignedBuffer;
using testing::FillPattern;
using testing::MakeBackend;
using testing::TempDir;

constexpr uint32_t kBlock = 4096;

class FaultBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    std::unique_ptr<IoBackend> inner = MakeBackend(GetParam(), &why);
    if (inner == nullptr) GTEST_SKIP() << "io_uring unavailable: " << why;
    fault_ = std::make_unique<FaultBackend>(std::move(inner));
  }

  // Creates the file and makes its directory entry durable (an unsynced
  // entry would vanish at a power cut; db_directory_test.cc covers that).
  FileId OpenNew(const std::string& name) {
    Result<FileId> f = fault_->Open(dir_.File(name), OpenMode::kCreateReadWrite);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    RINGDB_EXPECT_OK(fault_->SyncDirectory(dir_.path()));
    return f.ok() ? *f : FileId{};
  }

  // Writes `blocks` blocks of pattern `seed` at block `first` of `f`.
  void WriteBlocks(FileId f, uint64_t first, uint32_t blocks, uint64_t seed) {
    AlignedBuffer buf(blocks * kBlock);
    FillPattern(buf.data(), buf.size(), seed);
    RINGDB_ASSERT_OK(fault_->Write(f, first * kBlock, buf.data(), buf.size()));
  }

  // True when blocks [first, first + blocks) of `f` hold pattern `seed`.
  bool HasBlocks(FileId f, uint64_t first, uint32_t blocks, uint64_t seed) {
    AlignedBuffer want(blocks * kBlock), got(blocks * kBlock);
    FillPattern(want.data(), want.size(), seed);
    Status s = fault_->Read(f, first * kBlock, got.data(), got.size());
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() && std::memcmp(want.data(), got.data(), got.size()) == 0;
  }

  uint64_t Size(FileId f) {
    Result<uint64_t> size = fault_->FileSize(f);
    EXPECT_TRUE(size.ok()) << size.status().ToString();
    return size.ok() ? *size : ~uint64_t{0};
  }

  TempDir dir_;
  std::unique_ptr<FaultBackend> fault_;
};

TEST_P(FaultBackendTest, NameAndCounts) {
  EXPECT_EQ(fault_->Name(), "fault(" + GetParam() + ")");
  FileId f = OpenNew("counts");
  WriteBlocks(f, 0, 2, 1);
  EXPECT_TRUE(HasBlocks(f, 0, 2, 1));
  RINGDB_ASSERT_OK(fault_->Sync(f));
  EXPECT_EQ(fault_->count(FaultOp::kOpen), 1u);
  EXPECT_EQ(fault_->count(FaultOp::kWrite), 1u);
  EXPECT_EQ(fault_->count(FaultOp::kRead), 1u);
  EXPECT_EQ(fault_->count(FaultOp::kSync), 1u);
  EXPECT_FALSE(fault_->fired());
}

// Runs operation `op` once on a prepared file; returns its Status.
Status RunOp(FaultBackend& fault, FaultOp op, FileId f, const std::string& path,
             char* buf) {
  switch (op) {
    case FaultOp::kRead: return fault.Read(f, 0, buf, kBlock);
    case FaultOp::kWrite: return fault.Write(f, 0, buf, kBlock);
    case FaultOp::kSync: return fault.Sync(f);
    case FaultOp::kOpen: {
      Result<FileId> g = fault.Open(path, OpenMode::kReadWrite);
      if (!g.ok()) return g.status();
      return fault.Close(*g);
    }
    case FaultOp::kDirectory: break;  // not a file operation; not run here
  }
  return Status::InvalidArgument("bad op");
}

TEST_P(FaultBackendTest, ErrorOnNthOpOnlyThatOneFails) {
  const FaultOp ops[] = {FaultOp::kRead, FaultOp::kWrite, FaultOp::kSync,
                         FaultOp::kOpen};
  const FaultKind kinds[] = {FaultKind::kEio, FaultKind::kEnospc};
  FileId f = OpenNew("nth");
  const std::string path = dir_.File("nth");
  AlignedBuffer buf(kBlock);
  RINGDB_ASSERT_OK(fault_->Write(f, 0, buf.data(), kBlock));
  for (FaultOp op : ops) {
    for (FaultKind kind : kinds) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " kind " +
                   std::to_string(static_cast<int>(kind)));
      fault_->Arm(Fault{op, 2, kind});
      RINGDB_EXPECT_OK(RunOp(*fault_, op, f, path, buf.data()));
      EXPECT_FALSE(fault_->fired());
      Status s = RunOp(*fault_, op, f, path, buf.data());
      EXPECT_TRUE(fault_->fired());
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      EXPECT_EQ(s.IsNoSpace(), kind == FaultKind::kEnospc) << s.ToString();
      if (op != FaultOp::kOpen) {
        EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
      }
      RINGDB_EXPECT_OK(RunOp(*fault_, op, f, path, buf.data()));
    }
  }
}

TEST_P(FaultBackendTest, FaultedRequestFailsAloneInItsBatch) {
  FileId f = OpenNew("batch");
  WriteBlocks(f, 0, 4, 1);
  AlignedBuffer buf(4 * kBlock);
  FillPattern(buf.data(), buf.size(), 2);
  std::vector<IoRequest> reqs(4);
  for (int i = 0; i < 4; ++i) {
    reqs[i].op = IoRequest::Op::kWrite;
    reqs[i].file = f;
    reqs[i].offset = static_cast<uint64_t>(i) * kBlock;
    reqs[i].buf = buf.data() + i * kBlock;
    reqs[i].len = kBlock;
  }
  fault_->Arm(Fault{FaultOp::kWrite, 3, FaultKind::kEio});
  Status s = fault_->Submit(reqs);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(reqs[0].status.ok());
  EXPECT_TRUE(reqs[1].status.ok());
  EXPECT_TRUE(reqs[2].status.IsIOError());
  EXPECT_TRUE(reqs[3].status.ok());
  AlignedBuffer old(4 * kBlock), got(4 * kBlock);
  FillPattern(old.data(), old.size(), 1);
  RINGDB_ASSERT_OK(fault_->Read(f, 0, got.data(), got.size()));
  EXPECT_EQ(0, std::memcmp(got.data(), buf.data(), 2 * kBlock));
  EXPECT_EQ(0, std::memcmp(got.data() + 2 * kBlock, old.data() + 2 * kBlock,
                           kBlock));
  EXPECT_EQ(0, std::memcmp(got.data() + 3 * kBlock, buf.data() + 3 * kBlock,
                           kBlock));
}

// Writes new data over old with a short or torn write of `bytes` bytes and
// checks that exactly the first `bytes` bytes are new.
void CheckPartialWrite(FaultBackendTest* t, FaultBackend& fault, FileId f,
                       FaultKind kind, uint32_t bytes) {
  constexpr uint32_t kLen = 2 * kBlock;
  AlignedBuffer old(kLen), neu(kLen), got(kLen);
  FillPattern(old.data(), kLen, 50);
  FillPattern(neu.data(), kLen, 51);
  RINGDB_ASSERT_OK(fault.Write(f, 0, old.data(), kLen));
  fault.Arm(Fault{FaultOp::kWrite, 1, kind, bytes});
  Status s = fault.Write(f, 0, neu.data(), kLen);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_FALSE(s.IsNoSpace());
  if (kind == FaultKind::kShortWrite) {
    EXPECT_NE(s.message().find("short write"), std::string::npos) << s.ToString();
  } else {
    EXPECT_NE(s.message().find("torn write"), std::string::npos) << s.ToString();
  }
  RINGDB_ASSERT_OK(fault.Read(f, 0, got.data(), kLen));
  EXPECT_EQ(0, std::memcmp(got.data(), neu.data(), bytes));
  EXPECT_EQ(0, std::memcmp(got.data() + bytes, old.data() + bytes, kLen - bytes));
}

TEST_P(FaultBackendTest, ShortWriteLeavesExactlyBytes) {
  FileId f = OpenNew("short");
  CheckPartialWrite(this, *fault_, f, FaultKind::kShortWrite, 4096);
  CheckPartialWrite(this, *fault_, f, FaultKind::kShortWrite, 0);
}

TEST_P(FaultBackendTest, TornWriteLeavesExactlyBytes) {
  FileId f = OpenNew("torn");
  CheckPartialWrite(this, *fault_, f, FaultKind::kTornWrite, 1536);
  CheckPartialWrite(this, *fault_, f, FaultKind::kTornWrite, 4608);
}

TEST_P(FaultBackendTest, CrashFailsEveryLaterOp) {
  FileId f = OpenNew("crash");
  AlignedBuffer buf(kBlock);
  fault_->Arm(Fault{FaultOp::kWrite, 2, FaultKind::kEio, 0, /*crash=*/true});
  RINGDB_ASSERT_OK(fault_->Write(f, 0, buf.data(), kBlock));
  EXPECT_TRUE(fault_->Write(f, kBlock, buf.data(), kBlock).IsIOError());
  EXPECT_TRUE(fault_->fired());
  EXPECT_TRUE(fault_->Read(f, 0, buf.data(), kBlock).IsIOError());
  EXPECT_TRUE(fault_->Write(f, 0, buf.data(), kBlock).IsIOError());
  EXPECT_TRUE(fault_->Sync(f).IsIOError());
  EXPECT_TRUE(fault_->Open(dir_.File("crash"), OpenMode::kReadWrite)
                  .status().IsIOError());
  EXPECT_TRUE(fault_->FileSize(f).status().IsIOError());
  EXPECT_TRUE(fault_->Truncate(f, 0).IsIOError());
  // The failed write did not reach the file.
  fault_->Disarm();
  EXPECT_EQ(Size(f), uint64_t{kBlock});
  RINGDB_EXPECT_OK(fault_->Read(f, 0, buf.data(), kBlock));
}

TEST_P(FaultBackendTest, PowerCutDropsUnsyncedWritesAndKeepsSyncedOnes) {
  fault_->TrackUnsynced(true);
  FileId f = OpenNew("data");
  WriteBlocks(f, 0, 4, 1);
  RINGDB_ASSERT_OK(fault_->Sync(f));
  WriteBlocks(f, 1, 1, 2);  // overwrite, not synced
  WriteBlocks(f, 4, 2, 3);  // extension, not synced
  WriteBlocks(f, 1, 2, 4);  // overlaps the first unsynced write
  FileId g = OpenNew("never_synced");
  WriteBlocks(g, 0, 3, 5);
  FileId h = OpenNew("synced_twice");
  WriteBlocks(h, 0, 2, 6);
  RINGDB_ASSERT_OK(fault_->Sync(h));
  WriteBlocks(h, 0, 2, 7);
  RINGDB_ASSERT_OK(fault_->Sync(h));
  EXPECT_EQ(Size(f), 6u * kBlock);

  RINGDB_ASSERT_OK(fault_->PowerCut(/*seed=*/1, /*tear=*/false));
  EXPECT_EQ(Size(f), 4u * kBlock);
  EXPECT_TRUE(HasBlocks(f, 0, 4, 1));
  EXPECT_EQ(Size(g), 0u);
  EXPECT_EQ(Size(h), 2u * kBlock);
  EXPECT_TRUE(HasBlocks(h, 0, 2, 7));

  // The backend keeps working after the cut, and a new cut only undoes
  // what came after it.
  WriteBlocks(f, 0, 1, 8);
  RINGDB_ASSERT_OK(fault_->PowerCut(2, false));
  EXPECT_TRUE(HasBlocks(f, 0, 4, 1));
}

TEST_P(FaultBackendTest, PowerCutUndoesTruncate) {
  fault_->TrackUnsynced(true);
  FileId f = OpenNew("cut");
  WriteBlocks(f, 0, 4, 1);
  RINGDB_ASSERT_OK(fault_->Sync(f));
  RINGDB_ASSERT_OK(fault_->Truncate(f, kBlock));
  WriteBlocks(f, 2, 1, 9);
  EXPECT_EQ(Size(f), 3u * kBlock);
  RINGDB_ASSERT_OK(fault_->PowerCut(3, false));
  EXPECT_EQ(Size(f), 4u * kBlock);
  EXPECT_TRUE(HasBlocks(f, 0, 4, 1));
}

TEST_P(FaultBackendTest, PowerCutWithTearKeepsSectorPrefixes) {
  constexpr uint32_t kLen = 8 * kBlock;
  fault_->TrackUnsynced(true);
  FileId f = OpenNew("tear");
  WriteBlocks(f, 0, 8, 1);
  RINGDB_ASSERT_OK(fault_->Sync(f));
  AlignedBuffer old(kLen), neu(kLen), got(kLen);
  FillPattern(old.data(), kLen, 1);
  FillPattern(neu.data(), kLen, 2);
  int torn = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    // A torn cut leaves its mix on disk: start each round from old data.
    RINGDB_ASSERT_OK(fault_->Write(f, 0, old.data(), kLen));
    RINGDB_ASSERT_OK(fault_->Sync(f));
    RINGDB_ASSERT_OK(fault_->Write(f, 0, neu.data(), kLen));
    RINGDB_ASSERT_OK(fault_->PowerCut(seed, /*tear=*/true));
    RINGDB_ASSERT_OK(fault_->Read(f, 0, got.data(), kLen));
    size_t prefix = 0;
    while (prefix < kLen && got.data()[prefix] == neu.data()[prefix]) ++prefix;
    // The kept prefix ends at a sector boundary (patterns may agree by
    // chance on a byte or two past it) and the rest is the old data.
    prefix -= prefix % 512;
    EXPECT_EQ(0, std::memcmp(got.data() + prefix, old.data() + prefix,
                             kLen - prefix))
        << "seed " << seed;
    EXPECT_LT(prefix, kLen) << "seed " << seed;
    if (prefix > 0) ++torn;
  }
  EXPECT_GT(torn, 0) << "no seed in 1..16 tore the write";
  // Without tear the same cut restores everything.
  RINGDB_ASSERT_OK(fault_->Write(f, 0, old.data(), kLen));
  RINGDB_ASSERT_OK(fault_->Sync(f));
  RINGDB_ASSERT_OK(fault_->Write(f, 0, neu.data(), kLen));
  RINGDB_ASSERT_OK(fault_->PowerCut(1, /*tear=*/false));
  EXPECT_TRUE(HasBlocks(f, 0, 8, 1));
}

TEST_P(FaultBackendTest, PowerCutAfterCrashRestartsTheMachine) {
  fault_->TrackUnsynced(true);
  FileId f = OpenNew("crashcut");
  WriteBlocks(f, 0, 2, 1);
  RINGDB_ASSERT_OK(fault_->Sync(f));
  fault_->Arm(Fault{FaultOp::kWrite, 2, FaultKind::kTornWrite, 2048, true});
  WriteBlocks(f, 0, 1, 2);
  AlignedBuffer buf(kBlock);
  FillPattern(buf.data(), kBlock, 3);
  EXPECT_TRUE(fault_->Write(f, kBlock, buf.data(), kBlock).IsIOError());
  EXPECT_TRUE(fault_->Read(f, 0, buf.data(), kBlock).IsIOError());
  RINGDB_ASSERT_OK(fault_->PowerCut(4, false));
  EXPECT_TRUE(HasBlocks(f, 0, 2, 1));
}

INSTANTIATE_TEST_SUITE_P(Inner, FaultBackendTest,
                         ::testing::Values("io_uring", "pread", "buffered"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) {
                             if (std::isalnum(static_cast<unsigned char>(c))) n += c;
                           }
                           return n;
                         });

}  // namespace fault_backend_test
}  // namespace ringdb::io
