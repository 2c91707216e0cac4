// Options::wal_recovery_mode on real damage: a writer process acknowledges
// sync writes and is killed, then the test damages the newest log segment
// (a flipped byte with intact records after it, or a cut last record) and
// opens it in each mode.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crash_child_util.h"
#include "engine/db_impl.h"
#include "engine/wal.h"
#include "engine/wal_format.h"
#include "io/fault_backend.h"
#include "io/io_backend.h"
#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_recovery_mode_test {

constexpr uint32_t kWrites = 40;

std::string Key(uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%06u", i);
  return buf;
}
std::string Value(uint32_t i) { return std::string(200, static_cast<char>('a' + i % 26)); }

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class RecoveryModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 64 * 4096;
    options_.io_backend = IoBackendKind::kPread;
    options_.info_log = [this](std::string_view msg) { notes_ += std::string(msg) + "\n"; };
    // A crashed database whose newest segment holds kWrites synced puts.
    std::vector<uint32_t> acked = testing::WriteInChildThenKill(
        dir_, options_, kWrites, [](DB* db, uint32_t i, bool* more) {
          *more = i < kWrites;
          if (!*more) return Status::OK();
          WriteOptions wo;
          wo.sync = true;
          return db->Put(wo, Key(i), Value(i));
        });
    ASSERT_EQ(acked.size(), kWrites);
    Result<std::vector<uint64_t>> segs = wal::ListSegments(dir_);
    ASSERT_TRUE(segs.ok() && !segs->empty());
    segment_ = wal::SegmentPath(dir_, segs->back());
    log_ = ReadBytes(segment_);
    ASSERT_GE(log_.size(), wal::kSegmentHeaderSize);
    // Where each record starts, from the reader.
    const Lsn start(wal::DecodeFixed64(log_.data() + wal::kSegmentStartLsnOffset));
    std::unique_ptr<io::IoBackend> io = io::NewBufferedBackend();
    Result<std::unique_ptr<wal::LogReader>> reader = wal::LogReader::Open(io.get(), segment_, start);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    uint64_t offset = wal::kSegmentHeaderSize;
    for (;;) {
      std::string payload;
      uint8_t type;
      Lsn end;
      bool eof;
      ASSERT_TRUE((*reader)->Next(&payload, &type, &end, &eof).ok());
      if (eof) break;
      record_start_.push_back(offset);
      offset = end - start;
    }
    ASSERT_EQ(record_start_.size(), kWrites);
    // The writer copied into a mapping of the segment, whose blocks it
    // reserved ahead: the killed writer's file goes on in zeros. The tests
    // below damage the records alone (as a writer using write(2) leaves
    // them); KilledWritersReservedTailOpensInEveryMode opens it as it was.
    ASSERT_EQ((*reader)->tail(), wal::LogTail::kZeroFill);
    ASSERT_GT(log_.size(), offset);
    ASSERT_EQ(log_.find_first_not_of('\0', offset), std::string::npos);
    killed_log_ = log_;
    log_.resize(offset);
    WriteBytes(segment_, log_);
  }
  void TearDown() override { db_.reset(); }

  Status Open(WalRecoveryMode mode) {
    db_.reset();
    notes_.clear();
    Options o = options_;
    o.wal_recovery_mode = mode;
    return DB::Open(o, dir_, &db_);
  }
  // Which of the writes the open database holds.
  std::vector<bool> Present() {
    std::vector<bool> present;
    for (uint32_t i = 0; i < kWrites; i++) {
      std::string v;
      Status s = db_->Get(ReadOptions(), Key(i), &v);
      EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
      EXPECT_TRUE(!s.ok() || v == Value(i)) << Key(i);
      present.push_back(s.ok());
    }
    return present;
  }
  void FlipByteInRecord(uint32_t record) {
    std::string bytes = log_;
    bytes[record_start_[record] + wal::kHeaderSize + 30] ^= 0x10;
    WriteBytes(segment_, bytes);
  }
  // Saves the damaged database so that each mode starts from it (a
  // salvage open repairs the database in place).
  void Snapshot() {
    std::filesystem::remove_all(dir_ + ".snap");
    std::filesystem::copy(dir_, dir_ + ".snap", std::filesystem::copy_options::recursive);
  }
  void Restore() {
    db_.reset();
    std::filesystem::remove_all(dir_);
    std::filesystem::copy(dir_ + ".snap", dir_, std::filesystem::copy_options::recursive);
  }

  // Crashes the open of the killed writer's database (its last record cut
  // off when `torn`) at each of the open's writes in turn, then reopens.
  void CrashAtEveryWriteOfTheOpen(bool torn);

  test::TempDir tmp_{"rec"};
  std::string dir_;
  Options options_;
  std::string notes_;
  std::string segment_;
  std::string log_;         // the killed writer's records
  std::string killed_log_;  // and its reserved tail
  std::vector<uint64_t> record_start_;
  std::unique_ptr<DB> db_;
};

// The bug: this opened OK and silently dropped writes 5..39, all synced.
TEST_F(RecoveryModeTest, FlippedByteBeforeIntactRecords) {
  constexpr uint32_t kDamaged = 5;
  FlipByteInRecord(kDamaged);
  Snapshot();
  const std::string where = "offset " + std::to_string(record_start_[kDamaged]);

  Status s = Open(WalRecoveryMode::kTolerateCorruptedTailRecords);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(segment_), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(where), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("34 valid log record(s) follow"), std::string::npos)
      << s.ToString();
  s = Open(WalRecoveryMode::kAbsoluteConsistency);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();

  // Point in time: everything before the damage, nothing from it on.
  s = Open(WalRecoveryMode::kPointInTimeRecovery);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<bool> present = Present();
  for (uint32_t i = 0; i < kWrites; i++) EXPECT_EQ(present[i], i < kDamaged) << i;
  EXPECT_NE(notes_.find("point-in-time recovery: " + segment_), std::string::npos) << notes_;
  EXPECT_NE(notes_.find(where), std::string::npos) << notes_;
  // The database was repaired: a default open now works and holds the same.
  db_.reset();
  ASSERT_TRUE(Open(WalRecoveryMode::kTolerateCorruptedTailRecords).ok());
  EXPECT_EQ(Present(), present);

  // Skip: everything but the damaged record.
  Restore();
  s = Open(WalRecoveryMode::kSkipAnyCorruptedRecords);
  ASSERT_TRUE(s.ok()) << s.ToString();
  present = Present();
  for (uint32_t i = 0; i < kWrites; i++) EXPECT_EQ(present[i], i != kDamaged) << i;
  EXPECT_NE(notes_.find("skipped 1 damaged log region(s)"), std::string::npos) << notes_;
}

// A crash that cut the last record is the normal end of a log: every mode
// but absolute consistency opens without a word about damage.
TEST_F(RecoveryModeTest, TornTailOpensQuietly) {
  const uint64_t last = record_start_.back();
  for (uint64_t cut : {last + 1, last + wal::kHeaderSize + 17, uint64_t{log_.size()} - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteBytes(segment_, log_.substr(0, cut));
    Snapshot();
    for (WalRecoveryMode mode :
         {WalRecoveryMode::kTolerateCorruptedTailRecords, WalRecoveryMode::kPointInTimeRecovery,
          WalRecoveryMode::kSkipAnyCorruptedRecords}) {
      Restore();
      Status s = Open(mode);
      ASSERT_TRUE(s.ok()) << s.ToString();
      std::vector<bool> present = Present();
      for (uint32_t i = 0; i < kWrites; i++) EXPECT_EQ(present[i], i + 1 < kWrites) << i;
      EXPECT_EQ(notes_.find("damaged"), std::string::npos) << notes_;
    }
    Restore();
    Status s = Open(WalRecoveryMode::kAbsoluteConsistency);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(segment_), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("offset " + std::to_string(last)), std::string::npos)
        << s.ToString();
    Restore();
  }
}

// A machine crash during the open that follows a torn tail. That open's
// checkpoint creates the next segment where the valid log ends; until its
// superblock is durable, the next open reads the torn segment again, now
// followed by another segment. The bug: it refused to open ("acknowledged
// writes after it would be lost") though nothing was lost. The crash hits
// every write of the open in turn (io::FaultBackend: the nth write fails
// and the machine dies, then a power cut drops what was not synced).
// The same crashes after a log that ends cleanly (the killed writer's)
// run as a check of the other case.
TEST_F(RecoveryModeTest, TornTailThenACrashAtEveryWriteOfTheNextOpen) {
  const std::string killed = dir_ + ".killed";
  std::filesystem::copy(dir_, killed, std::filesystem::copy_options::recursive);
  for (bool torn : {true, false}) {
    std::filesystem::remove_all(dir_);
    std::filesystem::copy(killed, dir_, std::filesystem::copy_options::recursive);
    CrashAtEveryWriteOfTheOpen(torn);
    if (HasFailure()) return;
  }
}

void RecoveryModeTest::CrashAtEveryWriteOfTheOpen(bool torn) {
  SCOPED_TRACE(torn ? "torn tail" : "clean end");
  const uint64_t last = record_start_.back();
  WriteBytes(segment_, torn ? log_.substr(0, last + wal::kHeaderSize + 17) : log_);
  const uint32_t kept = torn ? kWrites - 1 : kWrites;
  Snapshot();
  for (uint64_t nth = 1;; nth++) {
    SCOPED_TRACE("crash at write " + std::to_string(nth) + " of the open");
    Restore();
    auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
    backend->TrackUnsynced(true);
    backend->Arm(io::Fault{io::FaultOp::kWrite, nth, io::FaultKind::kEio, 0, /*crash=*/true});
    const Status crashed = OpenWithBackend(options_, dir_, backend, &db_);
    const bool fired = backend->fired();
    db_.reset();
    ASSERT_TRUE(backend->PowerCut(nth, /*tear=*/true).ok());
    backend->Disarm();
    const Status reopened = Open(WalRecoveryMode::kTolerateCorruptedTailRecords);
    ASSERT_TRUE(reopened.ok()) << "the crashed open: " << crashed.ToString()
                               << "; the reopen: " << reopened.ToString();
    std::vector<bool> present = Present();
    for (uint32_t i = 0; i < kWrites; i++) EXPECT_EQ(present[i], i < kept) << i;
    EXPECT_EQ(notes_.find("damaged"), std::string::npos) << notes_;
    if (HasFailure() || !fired) break;
    ASSERT_LT(nth, 1000u) << "the open never got through";
  }
}

// The clean log opens in every mode, absolute consistency included.
TEST_F(RecoveryModeTest, IntactLogOpensInEveryMode) {
  Snapshot();
  for (WalRecoveryMode mode :
       {WalRecoveryMode::kTolerateCorruptedTailRecords, WalRecoveryMode::kAbsoluteConsistency,
        WalRecoveryMode::kPointInTimeRecovery, WalRecoveryMode::kSkipAnyCorruptedRecords}) {
    Restore();
    Status s = Open(mode);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<bool> present = Present();
    for (uint32_t i = 0; i < kWrites; i++) EXPECT_TRUE(present[i]) << i;
  }
}

// A mapped log writer reserves blocks ahead of its records; killed, it
// leaves zeros from its last record to the end of the file. That is the
// clean end of the log: every mode opens it, absolute consistency
// included, without a word about damage, and the open cuts the file back.
TEST_F(RecoveryModeTest, KilledWritersReservedTailOpensInEveryMode) {
  WriteBytes(segment_, killed_log_);
  Snapshot();
  for (WalRecoveryMode mode :
       {WalRecoveryMode::kTolerateCorruptedTailRecords, WalRecoveryMode::kAbsoluteConsistency,
        WalRecoveryMode::kPointInTimeRecovery, WalRecoveryMode::kSkipAnyCorruptedRecords}) {
    SCOPED_TRACE(static_cast<int>(mode));
    Restore();
    Status s = Open(mode);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<bool> present = Present();
    for (uint32_t i = 0; i < kWrites; i++) EXPECT_TRUE(present[i]) << i;
    EXPECT_EQ(notes_.find("damage"), std::string::npos) << notes_;
    // Cut back (or deleted with the checkpoint that made it unneeded).
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(segment_, ec);
    EXPECT_TRUE(ec || size == log_.size()) << size;
    db_.reset();
    ASSERT_TRUE(Open(WalRecoveryMode::kAbsoluteConsistency).ok());
    for (uint32_t i = 0; i < kWrites; i++) EXPECT_TRUE(Present()[i]) << i;
  }
}

}  // namespace db_recovery_mode_test
}  // namespace ringdb
