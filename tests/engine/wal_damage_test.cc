// LogReader::Diagnose and SkipTo: telling a torn tail (the end a crash
// leaves) from damage followed by valid records, with the durable field of
// later records and zeroed sectors, including records split in fragments.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/wal.h"
#include "engine/wal_format.h"
#include "wal_test_util.h"

namespace ringdb::wal {
namespace wal_damage_test {

using testing::MakePayload;
using testing::ScratchDir;

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

constexpr Lsn kStart(1000);

class LogDamageTest : public ::testing::Test {
 protected:
  void SetUp() override { io_ = io::NewPreadBackend(); }

  // Writes `sizes` records to segment 1, syncing after each when `sync`.
  // Returns the file offset where each record starts.
  std::vector<uint64_t> WriteLog(const std::vector<size_t>& sizes, bool sync) {
    Result<std::unique_ptr<LogWriter>> w = LogWriter::Create(io_.get(), dir_.path(), 1, kStart);
    EXPECT_TRUE(w.ok());
    std::vector<uint64_t> starts;
    for (size_t i = 0; i < sizes.size(); ++i) {
      starts.push_back((*w)->appended_lsn() - kStart);
      Result<Lsn> lsn = (*w)->Append(1, MakePayload(i, sizes[i]));
      EXPECT_TRUE(lsn.ok());
      EXPECT_TRUE((sync ? (*w)->SyncTo(*lsn) : (*w)->WriteTo(*lsn)).ok());
    }
    // Close syncs the tail; the durable fields were written before that.
    EXPECT_TRUE((*w)->Close().ok());
    path_ = SegmentPath(dir_.path(), 1);
    bytes_ = ReadBytes(path_);
    return starts;
  }

  // Reads `bytes` as the segment until it stops, then diagnoses the stop.
  // Returns the records read before the stop.
  size_t ReadAndDiagnose(const std::string& bytes, LogDamage* damage,
                         std::unique_ptr<LogReader>* out = nullptr) {
    WriteBytes(path_, bytes);
    Result<std::unique_ptr<LogReader>> r = LogReader::Open(io_.get(), path_, kStart, 4096);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    size_t n = 0;
    for (;;) {
      std::string payload;
      uint8_t type;
      Lsn end;
      bool eof;
      EXPECT_TRUE((*r)->Next(&payload, &type, &end, &eof).ok());
      if (eof) break;
      ++n;
    }
    EXPECT_TRUE((*r)->Diagnose(damage).ok());
    if (out != nullptr) *out = std::move(r).value();
    return n;
  }

  ScratchDir dir_;
  std::unique_ptr<io::IoBackend> io_;
  std::string path_;
  std::string bytes_;
};

TEST_F(LogDamageTest, FlippedByteBeforeSyncedRecordsIsDamage) {
  std::vector<uint64_t> starts = WriteLog(std::vector<size_t>(30, 300), /*sync=*/true);
  std::string bytes = bytes_;
  bytes[starts[10] + kHeaderSize + 5] ^= 1;
  LogDamage d;
  std::unique_ptr<LogReader> reader;
  EXPECT_EQ(ReadAndDiagnose(bytes, &d, &reader), 10u);
  EXPECT_EQ(reader->tail(), LogTail::kBadChecksum);
  EXPECT_EQ(d.offset, starts[10]);
  EXPECT_EQ(d.lsn, kStart + starts[10]);
  ASSERT_TRUE(d.followed);
  EXPECT_EQ(d.next_offset, starts[11]);
  EXPECT_EQ(d.records_after, 19u);
  EXPECT_GE(d.max_durable_after, kStart + starts[11]);
  EXPECT_FALSE(d.TornTail());

  // SkipTo reads on after the damaged record.
  reader->SkipTo(d);
  size_t after = 0;
  for (;;) {
    std::string payload;
    uint8_t type;
    Lsn end;
    bool eof;
    ASSERT_TRUE(reader->Next(&payload, &type, &end, &eof).ok());
    if (eof) break;
    EXPECT_TRUE(payload == MakePayload(11 + after, 300));
    ++after;
  }
  EXPECT_EQ(after, 19u);
  EXPECT_EQ(reader->tail(), LogTail::kEndOfFile);
}

// Without syncs the durable fields do not vouch for the damaged bytes, but
// a flipped byte loses no page: still damage (a crash of the process does
// not tear the log; only lost pages after a machine crash do).
TEST_F(LogDamageTest, FlippedByteBeforeUnsyncedRecordsIsDamage) {
  std::vector<uint64_t> starts = WriteLog(std::vector<size_t>(30, 300), /*sync=*/false);
  std::string bytes = bytes_;
  bytes[starts[3] + 9] ^= 0x80;  // in the lsn field
  LogDamage d;
  EXPECT_EQ(ReadAndDiagnose(bytes, &d), 3u);
  ASSERT_TRUE(d.followed);
  EXPECT_LT(d.max_durable_after, d.next_lsn);
  EXPECT_FALSE(d.zero_sector);
  EXPECT_FALSE(d.TornTail());
}

// A machine crash can write back a later page of unsynced log and lose an
// earlier one (it reads as zeros): a torn tail, not damage.
TEST_F(LogDamageTest, LostUnsyncedPageBeforeLaterPagesIsATornTail) {
  std::vector<uint64_t> starts = WriteLog(std::vector<size_t>(60, 300), /*sync=*/false);
  std::string bytes = bytes_;
  std::fill(bytes.begin() + 4096, bytes.begin() + 8192, '\0');
  LogDamage d;
  size_t n = ReadAndDiagnose(bytes, &d);
  EXPECT_LT(starts[n], 4096u + 1);
  ASSERT_TRUE(d.followed);
  EXPECT_TRUE(d.zero_sector);
  EXPECT_TRUE(d.TornTail());
}

// The same lost page in a log whose later records were written after a sync
// covering it: the page had been durable, so it is damage.
TEST_F(LogDamageTest, LostSyncedPageIsDamage) {
  WriteLog(std::vector<size_t>(60, 300), /*sync=*/true);
  std::string bytes = bytes_;
  std::fill(bytes.begin() + 4096, bytes.begin() + 8192, '\0');
  LogDamage d;
  ReadAndDiagnose(bytes, &d);
  ASSERT_TRUE(d.followed);
  EXPECT_TRUE(d.zero_sector);
  EXPECT_FALSE(d.TornTail());
}

TEST_F(LogDamageTest, CutOrGarbageTailIsATornTail) {
  std::vector<uint64_t> starts = WriteLog(std::vector<size_t>(20, 300), /*sync=*/true);
  for (uint64_t cut = starts[19]; cut < bytes_.size(); cut += 37) {
    LogDamage d;
    EXPECT_EQ(ReadAndDiagnose(bytes_.substr(0, cut), &d), 19u);
    EXPECT_FALSE(d.followed);
    EXPECT_TRUE(d.TornTail());
    std::string garbage = bytes_;
    for (uint64_t i = cut; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131);
    EXPECT_EQ(ReadAndDiagnose(garbage, &d), 19u);
    EXPECT_FALSE(d.followed);
    EXPECT_TRUE(d.TornTail());
  }
}

// A damaged middle fragment of a record split in fragments: the whole
// record is lost, the record after it found.
TEST_F(LogDamageTest, DamagedFragmentOfASplitRecord) {
  const size_t big = 3 * size_t{kMaxFragmentPayload} + 100;
  std::vector<uint64_t> starts = WriteLog({100, big, 100}, /*sync=*/true);
  std::string bytes = bytes_;
  const uint64_t second_fragment = starts[1] + kHeaderSize + kMaxFragmentPayload;
  bytes[second_fragment + kHeaderSize + 1000] ^= 4;
  LogDamage d;
  EXPECT_EQ(ReadAndDiagnose(bytes, &d), 1u);
  EXPECT_EQ(d.offset, second_fragment);
  ASSERT_TRUE(d.followed);
  EXPECT_EQ(d.next_offset, starts[2]);
  EXPECT_EQ(d.records_after, 1u);
  EXPECT_FALSE(d.TornTail());

  // A record cut after its first fragment (a crash mid-write) is torn.
  LogDamage cut;
  EXPECT_EQ(ReadAndDiagnose(bytes_.substr(0, second_fragment + 10), &cut), 1u);
  EXPECT_EQ(cut.offset, second_fragment);
  EXPECT_TRUE(cut.TornTail());
}

TEST_F(LogDamageTest, DamagedSegmentHeader) {
  WriteLog(std::vector<size_t>(5, 300), /*sync=*/true);
  std::string bytes = bytes_;
  bytes[kSegmentStartLsnOffset + 7] ^= 1;
  LogDamage d;
  std::unique_ptr<LogReader> reader;
  EXPECT_EQ(ReadAndDiagnose(bytes, &d, &reader), 0u);
  EXPECT_EQ(reader->tail(), LogTail::kBadSegmentHeader);
  ASSERT_TRUE(d.followed);
  EXPECT_EQ(d.next_offset, kSegmentHeaderSize);
  EXPECT_FALSE(d.TornTail());
}

TEST_F(LogDamageTest, FormatVersionOneIsRefusedByName) {
  // A version-1 record header: checksum, length, lsn (= the start), type.
  std::string v1(64, '\0');
  EncodeFixed32(&v1[4], 3);
  EncodeFixed64(&v1[8], kStart.value);
  v1[16] = 1;
  WriteBytes(dir_.path() + "/old", v1);
  Result<std::unique_ptr<LogReader>> r = LogReader::Open(io_.get(), dir_.path() + "/old", kStart);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotSupported()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("format version 1"), std::string::npos);
}

}  // namespace wal_damage_test
}  // namespace ringdb::wal
