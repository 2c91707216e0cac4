// Tests for the write-ahead log format, LogWriter and LogReader on the
// io_uring and pread backends: round trips, fragments, block boundaries,
// torn and stale tails, segment files. Damage diagnosis is in
// wal_damage_test.cc. Concurrency is in wal_concurrency_test.cc,
// fault injection in wal_fault_test.cc.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "engine/wal.h"
#include "engine/wal_format.h"
#include "tests/util/tmpfs_mount.h"
#include "wal_test_util.h"

namespace ringdb::wal {
namespace wal_test {

using testing::MakeBackend;
using testing::MakePayload;
using testing::ReadAll;
using testing::ReadResult;
using testing::ScratchDir;

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(WalSegments, NamesListAndDelete) {
  EXPECT_EQ(SegmentFileName(0x1f), "wal-000000000000001f.log");
  uint64_t n = 0;
  EXPECT_TRUE(ParseSegmentFileName("wal-00000000000000ff.log", &n));
  EXPECT_EQ(n, 0xffu);
  EXPECT_FALSE(ParseSegmentFileName("wal-00000000000000FF.log", &n));
  EXPECT_FALSE(ParseSegmentFileName("wal-0000000000000ff.log", &n));
  EXPECT_FALSE(ParseSegmentFileName("wal-00000000000000ff.lo", &n));
  EXPECT_FALSE(ParseSegmentFileName("xal-00000000000000ff.log", &n));

  ScratchDir dir;
  for (uint64_t s : {7u, 3u, 12u, 5u}) {
    WriteFileBytes(SegmentPath(dir.path(), s), "");
  }
  WriteFileBytes(dir.path() + "/other.log", "");
  Result<std::vector<uint64_t>> list = ListSegments(dir.path());
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, (std::vector<uint64_t>{3, 5, 7, 12}));

  std::unique_ptr<io::IoBackend> plain = io::NewPreadBackend();
  ASSERT_TRUE(DeleteSegmentsBefore(plain.get(), dir.path(), 7).ok());
  list = ListSegments(dir.path());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<uint64_t>{7, 12}));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/other.log"));
  EXPECT_FALSE(ListSegments(dir.path() + "/missing").ok());
}

TEST(WalFormat, HeaderLayout) {
  char header[kHeaderSize];
  EncodeHeader(header, 9, kLastFragment, Lsn(0x0102030405060708ull), Lsn(77), "abc");
  EXPECT_EQ(DecodeFixed32(header + kLengthOffset), 3u);
  EXPECT_EQ(DecodeFixed64(header + kLsnOffset), 0x0102030405060708ull);
  EXPECT_EQ(DecodeFixed64(header + kDurableOffset), 77u);
  EXPECT_EQ(header[kTypeOffset], 9);
  EXPECT_EQ(header[kFragmentOffset], kLastFragment);
  EXPECT_EQ(static_cast<uint8_t>(header[kLsnOffset]), 0x08);  // little-endian
  EXPECT_EQ(DecodeFixed32(header), RecordChecksum(header, "abc"));
  EXPECT_NE(DecodeFixed32(header), RecordChecksum(header, "abd"));

  char segment[kSegmentHeaderSize];
  EncodeSegmentHeader(segment, Lsn(4242));
  EXPECT_EQ(DecodeFixed64(segment + kSegmentMagicOffset), kSegmentMagic);
  EXPECT_EQ(DecodeFixed32(segment + kSegmentVersionOffset), kFormatVersion);
  EXPECT_EQ(DecodeFixed64(segment + kSegmentStartLsnOffset), 4242u);
  EXPECT_EQ(DecodeFixed32(segment + kSegmentChecksumOffset),
            SegmentHeaderChecksum(segment));
}

class LogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    io_ = MakeBackend(GetParam(), &why);
    if (io_ == nullptr) {
      GTEST_SKIP() << why;
    }
    Result<std::unique_ptr<LogBuffer>> buffer =
        LogBuffer::Create(io_.get(), 4u << 20);
    ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
    buffer_ = std::move(buffer).value();
    Result<std::unique_ptr<LogBuffer>> small = LogBuffer::Create(io_.get(), 8192);
    ASSERT_TRUE(small.ok()) << small.status().ToString();
    small_buffer_ = std::move(small).value();
    if (GetParam() == "io_uring") {
      EXPECT_TRUE(buffer_->registration().ok())
          << buffer_->registration().ToString();
    }
  }

  // The writer uses the fixture's registered 4 MiB buffer unless `options`
  // says otherwise.
  std::unique_ptr<LogWriter> NewWriter(uint64_t segment, Lsn start) {
    LogWriterOptions options;
    options.buffer = buffer_.get();
    return NewWriter(segment, start, options);
  }
  std::unique_ptr<LogWriter> NewWriter(uint64_t segment, Lsn start,
                                       const LogWriterOptions& options) {
    Result<std::unique_ptr<LogWriter>> w =
        LogWriter::Create(io_.get(), dir_.path(), segment, start, options);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(w).value() : nullptr;
  }

  // Appends records of `sizes` (payload seed = index + seed_base, type =
  // 1 + index % 200), syncing after every one when `sync_each`.
  std::vector<Lsn> AppendAll(LogWriter* w, const std::vector<size_t>& sizes,
                             uint64_t seed_base, bool sync_each) {
    std::vector<Lsn> ends;
    for (size_t i = 0; i < sizes.size(); ++i) {
      Result<Lsn> lsn = w->Append(static_cast<uint8_t>(1 + i % 200),
                                  MakePayload(seed_base + i, sizes[i]));
      EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
      if (!lsn.ok()) break;
      ends.push_back(*lsn);
      if (sync_each) {
        EXPECT_TRUE(w->SyncTo(*lsn).ok());
      }
    }
    return ends;
  }

  Status NewWriterStatus(uint64_t segment) {
    LogWriterOptions options;
    options.buffer = buffer_.get();
    return LogWriter::Create(io_.get(), dir_.path(), segment, Lsn(), options)
        .status();
  }

  void ExpectRecords(const ReadResult& got, const std::vector<size_t>& sizes,
                     const std::vector<Lsn>& ends, uint64_t seed_base,
                     size_t count) {
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    ASSERT_EQ(got.records.size(), count);
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(got.records[i].payload.size(), sizes[i]) << "record " << i;
      ASSERT_TRUE(got.records[i].payload == MakePayload(seed_base + i, sizes[i]))
          << "record " << i;
      ASSERT_EQ(got.records[i].type, 1 + i % 200);
      ASSERT_EQ(got.records[i].end_lsn, ends[i]);
    }
  }

  ScratchDir dir_;
  std::unique_ptr<io::IoBackend> io_;
  // Declared after io_ so they are freed (and unregistered) before it.
  std::unique_ptr<LogBuffer> buffer_;
  std::unique_ptr<LogBuffer> small_buffer_;
};

TEST_P(LogTest, RoundTripRandomSizesAcrossReopen) {
  std::mt19937_64 rng(42);
  std::vector<size_t> sizes;
  for (int i = 0; i < 240; ++i) {
    switch (i % 3) {
      case 0: sizes.push_back(rng() % 100); break;
      case 1: sizes.push_back(rng() % 8192); break;
      default: sizes.push_back(rng() % ((1u << 20) + 1)); break;
    }
  }
  sizes[0] = 0;
  sizes[100] = 1u << 20;
  const Lsn start(1000);
  std::unique_ptr<LogWriter> w = NewWriter(1, start);
  ASSERT_NE(w, nullptr);
  std::vector<Lsn> ends = AppendAll(w.get(), sizes, 0, /*sync_each=*/false);
  ASSERT_EQ(ends.size(), sizes.size());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(w->durable_lsn(), ends.back());

  ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), 1), start);
  ExpectRecords(got, sizes, ends, 0, sizes.size());
  EXPECT_EQ(got.end_of_valid_log, ends.back());
  EXPECT_TRUE(got.tail == LogTail::kZeroFill || got.tail == LogTail::kEndOfFile)
      << LogTailName(got.tail);

  // Reopen: the next segment continues where the valid log ends, and holds
  // one record larger than the writer's buffer, split in fragments.
  w.reset();  // releases the shared buffer
  const Lsn start2 = got.end_of_valid_log;
  std::vector<size_t> sizes2 = {5, 9 * size_t{kMaxFragmentPayload} + 17, 7,
                                kMaxFragmentPayload, kMaxFragmentPayload + 1};
  std::unique_ptr<LogWriter> w2 = NewWriter(2, start2);
  ASSERT_NE(w2, nullptr);
  std::vector<Lsn> ends2 = AppendAll(w2.get(), sizes2, 5000, true);
  ASSERT_TRUE(w2->Close().ok());
  EXPECT_GE(w2->stats().writes, 2u);  // written through in pieces

  ExpectRecords(ReadAll(io_.get(), SegmentPath(dir_.path(), 1), start), sizes,
                ends, 0, sizes.size());
  ReadResult got2 = ReadAll(io_.get(), SegmentPath(dir_.path(), 2), start2);
  ExpectRecords(got2, sizes2, ends2, 5000, sizes2.size());
  EXPECT_EQ(w2->stats().fragments, 1u + 10u + 1u + 1u + 2u);
  Result<std::vector<uint64_t>> list = ListSegments(dir_.path());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<uint64_t>{1, 2}));
}

TEST_P(LogTest, RecordsCrossingBlockBoundaries) {
  // Headers and payloads that end just before, on and just after each 4 KiB
  // boundary (the page-cache page the writer appends to and drops).
  std::vector<size_t> sizes;
  for (size_t d = 0; d < 40; ++d) sizes.push_back(4096 - kHeaderSize - 20 + d);
  for (size_t d = 0; d < 40; ++d) sizes.push_back(d);
  sizes.push_back(3 * 4096 + 5);
  sizes.push_back(0);
  for (size_t chunk : {size_t{4096}, LogReader::kDefaultChunkBytes}) {
    for (bool sync_each : {true, false}) {
      const uint64_t segment = chunk / 4096 + (sync_each ? 1000 : 2000);
      // Small buffers: many buffer-full writes and piecewise copies, with
      // registered (shared) and private unregistered buffers.
      LogWriterOptions small;
      small.buffer_bytes = 8192;
      if (sync_each) small.buffer = small_buffer_.get();
      std::unique_ptr<LogWriter> w = NewWriter(segment, Lsn(7), small);
      ASSERT_NE(w, nullptr);
      std::vector<Lsn> ends = AppendAll(w.get(), sizes, 77, sync_each);
      ASSERT_TRUE(w->Close().ok());
      ReadResult got =
          ReadAll(io_.get(), SegmentPath(dir_.path(), segment), Lsn(7), chunk);
      ExpectRecords(got, sizes, ends, 77, sizes.size());
      EXPECT_EQ(got.end_of_valid_log, ends.back());
    }
  }
}

TEST_P(LogTest, TornTailReturnsExactlyTheIntactPrefix) {
  std::mt19937_64 rng(7);
  std::vector<size_t> sizes;
  for (int i = 0; i < 60; ++i) sizes.push_back(rng() % 300);
  const Lsn start(1u << 20);
  std::unique_ptr<LogWriter> w = NewWriter(1, start);
  ASSERT_NE(w, nullptr);
  std::vector<Lsn> ends = AppendAll(w.get(), sizes, 300, false);
  ASSERT_TRUE(w->Close().ok());
  const std::string original = ReadFileBytes(SegmentPath(dir_.path(), 1));
  const uint64_t log_end = ends.back() - start;
  const uint64_t first_cut = ends[ends.size() - 4] - start - 1;
  const std::string torn_path = dir_.path() + "/torn";

  enum class Fill { kZeros, kGarbage, kCutFile };
  for (Fill fill : {Fill::kZeros, Fill::kGarbage, Fill::kCutFile}) {
    for (uint64_t cut = first_cut; cut <= log_end; ++cut) {
      std::string bytes = original;
      switch (fill) {
        case Fill::kZeros:
          std::fill(bytes.begin() + cut, bytes.end(), '\0');
          break;
        case Fill::kGarbage:
          for (uint64_t i = cut; i < bytes.size(); ++i) {
            bytes[i] = static_cast<char>(rng());
          }
          break;
        case Fill::kCutFile:
          bytes.resize(cut);
          break;
      }
      WriteFileBytes(torn_path, bytes);
      ReadResult got = ReadAll(io_.get(), torn_path, start, 4096);
      const uint64_t readable = cut;
      size_t intact = 0;
      while (intact < ends.size() && ends[intact] - start <= readable) ++intact;
      SCOPED_TRACE("fill " + std::to_string(static_cast<int>(fill)) +
                   " cut " + std::to_string(cut));
      ExpectRecords(got, sizes, ends, 300, intact);
      EXPECT_EQ(got.end_of_valid_log, intact == 0 ? start : ends[intact - 1]);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST_P(LogTest, StaleRecordsAfterTheTailAreRejected) {
  // Two logs with identical record sizes but different start LSNs: the
  // second log's records at the same offsets are checksum-valid, but their
  // lsn fields name another position.
  std::vector<size_t> sizes(50, 100);
  std::unique_ptr<LogWriter> old_log = NewWriter(1, Lsn(5000));
  ASSERT_NE(old_log, nullptr);
  AppendAll(old_log.get(), sizes, 0, false);
  ASSERT_TRUE(old_log->Close().ok());
  old_log.reset();
  std::unique_ptr<LogWriter> new_log = NewWriter(2, Lsn(1000));
  ASSERT_NE(new_log, nullptr);
  std::vector<size_t> new_sizes(10, 100);
  std::vector<Lsn> ends = AppendAll(new_log.get(), new_sizes, 0, false);
  ASSERT_TRUE(new_log->Close().ok());

  std::string stale = ReadFileBytes(SegmentPath(dir_.path(), 1));
  const std::string fresh = ReadFileBytes(SegmentPath(dir_.path(), 2));
  const size_t valid = ends.back() - Lsn(1000);
  stale.replace(0, valid, fresh.substr(0, valid));
  WriteFileBytes(dir_.path() + "/mixed", stale);
  ReadResult got = ReadAll(io_.get(), dir_.path() + "/mixed", Lsn(1000));
  ExpectRecords(got, new_sizes, ends, 0, new_sizes.size());
  EXPECT_EQ(got.tail, LogTail::kBadLsn);
  EXPECT_EQ(got.end_of_valid_log, ends.back());
}

TEST_P(LogTest, ApiContracts) {
  std::unique_ptr<LogWriter> w = NewWriter(3, Lsn(100));
  ASSERT_NE(w, nullptr);
  // The segment exists now.
  EXPECT_TRUE(LogWriter::Create(io_.get(), dir_.path(), 3, Lsn(100))
                  .status()
                  .IsInvalidArgument());
  // The shared buffer is taken.
  EXPECT_TRUE(NewWriterStatus(9).IsInvalidArgument());
  EXPECT_TRUE(w->Append(kInvalidRecordType, "x").status().IsInvalidArgument());
  // Create wrote and synced the segment header.
  const Lsn first(100 + kSegmentHeaderSize);
  EXPECT_EQ(w->appended_lsn(), first);
  EXPECT_EQ(w->durable_lsn(), first);
  EXPECT_TRUE(w->SyncTo(first).ok());  // nothing to do
  Result<Lsn> a = w->Append(1, "hello");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, first + kHeaderSize + 5);
  EXPECT_TRUE(w->SyncTo(*a + 1).IsInvalidArgument());
  EXPECT_TRUE(w->WriteTo(*a + 1).IsInvalidArgument());
  EXPECT_EQ(w->durable_lsn(), first);
  EXPECT_EQ(w->written_lsn(), first);
  ASSERT_TRUE(w->WriteTo(*a).ok());
  EXPECT_EQ(w->written_lsn(), *a);
  ASSERT_TRUE(w->Flush().ok());  // nothing left to write
  EXPECT_EQ(w->stats().syncs, 0u);
  EXPECT_EQ(w->stats().writes, 1u);
  EXPECT_EQ(w->durable_lsn(), first);
  // Written means in the file, before any sync.
  ReadResult got = ReadAll(io_.get(), w->path(), Lsn(100));
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].payload, "hello");
  ASSERT_TRUE(w->SyncTo(*a).ok());
  EXPECT_EQ(w->durable_lsn(), *a);
  EXPECT_EQ(w->stats().syncs, 1u);
  EXPECT_EQ(w->stats().writes, 1u);  // already written: sync only
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(w->Close().ok());
  EXPECT_FALSE(w->Append(1, "late").ok());
  EXPECT_EQ(w->stats().records, 1u);
}

TEST_P(LogTest, EmptySegmentReadsAsEmpty) {
  std::unique_ptr<LogWriter> w = NewWriter(4, Lsn(55));
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Close().ok());
  ReadResult got = ReadAll(io_.get(), SegmentPath(dir_.path(), 4), Lsn(55));
  ASSERT_TRUE(got.status.ok());
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.end_of_valid_log, Lsn(55 + kSegmentHeaderSize));
  EXPECT_EQ(got.tail, LogTail::kEndOfFile);
  // A segment created but never written (a crash before its header).
  WriteFileBytes(dir_.path() + "/empty", "");
  got = ReadAll(io_.get(), dir_.path() + "/empty", Lsn(55));
  ASSERT_TRUE(got.status.ok());
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.end_of_valid_log, Lsn(55));
  EXPECT_EQ(got.tail, LogTail::kEndOfFile);
}

// The mapped writer (LogWriterOptions::map_bytes): small windows, so that
// records and buffer-full writes cross many of them, with and without
// syncs. Every write is a copy into the mapping; the file runs ahead of
// the records (reserved) until Close cuts it to the last one.
TEST_P(LogTest, MappedWritesReadBackAndCloseCutsTheReserve) {
  std::mt19937_64 rng(11);
  std::vector<size_t> sizes;
  for (int i = 0; i < 300; ++i) sizes.push_back(i % 50 == 7 ? rng() % 70000 : rng() % 300);
  for (bool sync_each : {false, true}) {
    const uint64_t segment = sync_each ? 2 : 1;
    LogWriterOptions options;
    options.buffer = small_buffer_.get();
    options.map_bytes = 8192;
    options.cache_drop_bytes = 16384;
    std::unique_ptr<LogWriter> w = NewWriter(segment, Lsn(3), options);
    ASSERT_NE(w, nullptr);
    std::vector<Lsn> ends;
    for (size_t i = 0; i < sizes.size(); ++i) {
      Result<Lsn> lsn = w->Append(static_cast<uint8_t>(1 + i % 200), MakePayload(i, sizes[i]));
      ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
      ends.push_back(*lsn);
      ASSERT_TRUE((sync_each ? w->SyncTo(*lsn) : w->WriteTo(*lsn)).ok());
    }
    const std::string path = SegmentPath(dir_.path(), segment);
    const uint64_t records_end = ends.back() - Lsn(3);
    EXPECT_GT(std::filesystem::file_size(path), records_end);  // reserved ahead
    ASSERT_TRUE(w->Close().ok());
    const LogWriterStats st = w->stats();
    EXPECT_GT(st.writes, sizes.size());
    EXPECT_EQ(st.mapped_writes, st.writes);
    EXPECT_EQ(std::filesystem::file_size(path), records_end);
    ReadResult got = ReadAll(io_.get(), path, Lsn(3));
    ExpectRecords(got, sizes, ends, 0, sizes.size());
    EXPECT_EQ(got.tail, LogTail::kEndOfFile);
  }
}

// Bytes this process had the kernel read from the device
// (/proc/self/io read_bytes); nullopt where the kernel does not count them.
std::optional<uint64_t> DeviceReadBytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "read_bytes:") return value;
  }
  return std::nullopt;
}

// A mapped writer reads nothing from the device: a fault in a fresh window
// reads zeros from reserved blocks. The bug: a fault's read-around read the
// pages around it, the log's pages dropped from the page cache just before
// the window among them, back from the device (a fill read as many bytes
// as it wrote; the windows are now MADV_RANDOM).
TEST_P(LogTest, MappedWritesReadNothingFromTheDevice) {
  LogWriterOptions options;
  options.buffer = buffer_.get();
  options.map_bytes = 256 << 10;
  options.cache_drop_bytes = 256 << 10;
  std::unique_ptr<LogWriter> w = NewWriter(1, Lsn(0), options);
  ASSERT_NE(w, nullptr);
  const std::optional<uint64_t> before = DeviceReadBytes();
  if (!before) GTEST_SKIP() << "/proc/self/io has no read_bytes here";
  const std::string payload(150, 'p');
  for (int i = 0; i < 80000; ++i) {  // 14 MiB: 55 windows
    Result<Lsn> lsn = w->Append(1, payload);
    ASSERT_TRUE(lsn.ok());
    ASSERT_TRUE(w->WriteTo(*lsn).ok());
  }
  const uint64_t read = DeviceReadBytes().value_or(UINT64_MAX) - *before;
  EXPECT_EQ(w->stats().mapped_writes, w->stats().writes);
  EXPECT_GT(w->stats().cache_drops, 10u);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(read, 0u);
}

// A mapped writer destroyed without Close (as in a crash of the process)
// leaves every record it wrote, then zeros to the end of its reserve: the
// reader stops there, and the damage diagnosis calls it a zero tail.
TEST_P(LogTest, MappedWriterLeftOpenEndsInZeros) {
  LogWriterOptions options;
  options.buffer = buffer_.get();
  options.map_bytes = 64 << 10;
  std::unique_ptr<LogWriter> w = NewWriter(1, Lsn(0), options);
  ASSERT_NE(w, nullptr);
  std::vector<size_t> sizes(500, 100);
  std::vector<Lsn> ends = AppendAll(w.get(), sizes, 0, /*sync_each=*/false);
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(w->Append(1, "appended, never written").ok());
  EXPECT_EQ(w->stats().mapped_writes, w->stats().writes);
  w.reset();
  const std::string path = SegmentPath(dir_.path(), 1);
  const std::string bytes = ReadFileBytes(path);
  const uint64_t records_end = ends.back().value;
  ASSERT_EQ(bytes.size(), 64u << 10);
  EXPECT_EQ(bytes.find_first_not_of('\0', records_end), std::string::npos);
  ReadResult got = ReadAll(io_.get(), path, Lsn(0));
  ExpectRecords(got, sizes, ends, 0, sizes.size());
  EXPECT_EQ(got.tail, LogTail::kZeroFill);
  Result<std::unique_ptr<LogReader>> reader = LogReader::Open(io_.get(), path, Lsn(0));
  ASSERT_TRUE(reader.ok());
  std::string payload;
  uint8_t type;
  Lsn end;
  for (bool eof = false; !eof;) ASSERT_TRUE((*reader)->Next(&payload, &type, &end, &eof).ok());
  LogDamage damage;
  ASSERT_TRUE((*reader)->Diagnose(&damage).ok());
  EXPECT_FALSE(damage.followed);
  EXPECT_TRUE(damage.zero_to_end);
  EXPECT_TRUE(damage.TornTail());
  // A byte that is not zero after the records is not a reserve.
  std::string dirty = bytes;
  dirty[dirty.size() - 100] = 1;
  WriteFileBytes(path, dirty);
  reader = LogReader::Open(io_.get(), path, Lsn(0));
  ASSERT_TRUE(reader.ok());
  for (bool eof = false; !eof;) ASSERT_TRUE((*reader)->Next(&payload, &type, &end, &eof).ok());
  ASSERT_TRUE((*reader)->Diagnose(&damage).ok());
  EXPECT_FALSE(damage.zero_to_end);
}

// A full disk: a mapped writer whose window cannot be reserved reserves
// what each copy needs, and once nothing is left its write fails with
// NoSpace (as write(2) does; touching unreserved mapped bytes would be
// SIGBUS). The records written before read back.
TEST(MappedLogTest, AFullDiskIsNoSpaceAndEarlierRecordsReadBack) {
  std::string why;
  std::unique_ptr<test::TmpfsMount> mnt = test::TmpfsMount::Create("maplog", "1m", &why);
  if (mnt == nullptr) GTEST_SKIP() << why;
  std::unique_ptr<io::IoBackend> io = io::NewPreadBackend();
  LogWriterOptions options;
  options.buffer_bytes = 8192;
  options.map_bytes = 256 << 10;
  Result<std::unique_ptr<LogWriter>> w = LogWriter::Create(io.get(), mnt->path(), 1, Lsn(), options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<size_t> sizes;
  std::vector<Lsn> ends;
  Status s;
  for (size_t i = 0; s.ok() && i < 100000; ++i) {
    Result<Lsn> lsn = (*w)->Append(1, MakePayload(i, 1000));
    s = lsn.status();
    if (s.ok()) s = (*w)->WriteTo(*lsn);
    if (s.ok()) {
      sizes.push_back(1000);
      ends.push_back(*lsn);
    }
  }
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_GT(sizes.size(), 500u);  // the disk filled, not the first window
  EXPECT_GT((*w)->stats().mapped_writes, 0u);
  w->reset();
  ReadResult got = ReadAll(io.get(), SegmentPath(mnt->path(), 1), Lsn());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_GE(got.records.size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_EQ(got.records[i].payload, MakePayload(i, 1000)) << i;
    ASSERT_EQ(got.records[i].end_lsn, ends[i]) << i;
  }
}

// A user whose RLIMIT_MEMLOCK is smaller than a window (a normal user has
// 8 MiB, and the pool may use it): the window is not locked, and the
// mapped writer works the same. Runs in a child dropped to uid 65534 under
// a 64 KiB limit (root alone can switch users; elsewhere it skips).
TEST(MappedLogTest, WorksWhereTheWindowCannotBeLocked) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to uid 65534";
  ScratchDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: gtest assertions do not reach the parent, so exit codes.
    struct rlimit rl = {64 << 10, 64 << 10};
    if (::setrlimit(RLIMIT_MEMLOCK, &rl) != 0 || ::setgroups(0, nullptr) != 0 ||
        ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(2);
    }
    std::unique_ptr<io::IoBackend> io = io::NewPreadBackend();
    LogWriterOptions options;
    options.buffer_bytes = 8192;
    options.map_bytes = 256 << 10;
    Result<std::unique_ptr<LogWriter>> w = LogWriter::Create(io.get(), dir.path(), 1, Lsn(), options);
    if (!w.ok()) ::_exit(3);
    for (size_t i = 0; i < 2000; ++i) {
      Result<Lsn> lsn = (*w)->Append(1, MakePayload(i, 300));
      if (!lsn.ok() || !(*w)->WriteTo(*lsn).ok()) ::_exit(4);
    }
    if ((*w)->stats().mapped_writes != 2000) ::_exit(5);
    if (!(*w)->Close().ok()) ::_exit(6);
    ReadResult got = ReadAll(io.get(), SegmentPath(dir.path(), 1), Lsn());
    if (!got.status.ok() || got.records.size() != 2000 || got.tail != LogTail::kEndOfFile) {
      ::_exit(7);
    }
    for (size_t i = 0; i < 2000; ++i) {
      if (got.records[i].payload != MakePayload(i, 300)) ::_exit(8);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: signal " << WTERMSIG(status);
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "could not drop to uid 65534";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's step that failed (see the test)";
}

INSTANTIATE_TEST_SUITE_P(Wal, LogTest,
                         ::testing::Values(std::string("io_uring"),
                                           std::string("pread")),
                         [](const auto& info) {
                           return info.param == "io_uring" ? "IoUring"
                                                           : "Pread";
                         });

TEST(CopyInOrderTest, CopiesEveryLengthAtEveryAlignment) {
  std::string src(200, '\0');
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<char>(i * 7 + 1);
  alignas(16) char dst[256];
  for (size_t align = 0; align < 16; ++align) {
    for (size_t n = 0; n <= 200; ++n) {
      std::memset(dst, 0, sizeof(dst));
      CopyInOrder(dst + align, src.data(), n);
      ASSERT_EQ(std::string(dst, align), std::string(align, '\0')) << align << " " << n;
      ASSERT_EQ(std::string(dst + align, n), src.substr(0, n)) << align << " " << n;
      ASSERT_EQ(std::string(dst + align + n, sizeof(dst) - align - n),
                std::string(sizeof(dst) - align - n, '\0'))
          << align << " " << n;
    }
  }
}

// A copy into a shared file mapping that stops part way, here at a
// write-protected page as a kill stops it anywhere, leaves a prefix of the
// source in the file and nothing after it. The mapped log writer relies on
// it: a killed memcpy left zeros where a record began and whole records
// after them
// (StressCrashDriver.NoSyncAcknowledgedWritesSurviveKill, "damaged at
// offset 8980 (zero fill) and 1 valid log record(s) follow").
TEST(CopyInOrderTest, ACopyStoppedPartWayLeavesAPrefix) {
  constexpr size_t kPage = 4096;
  ScratchDir dir;
  const std::string path = dir.path() + "/map";
  for (size_t start : {size_t{0}, size_t{788}, size_t{4000}}) {
    for (size_t stop_page : {size_t{1}, size_t{3}, size_t{5}}) {
      SCOPED_TRACE("start " + std::to_string(start) + ", page " + std::to_string(stop_page));
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::ftruncate(fd, 8 * kPage), 0);
      char* map = static_cast<char*>(
          ::mmap(nullptr, 8 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
      ASSERT_NE(map, MAP_FAILED);
      ASSERT_EQ(::mprotect(map + stop_page * kPage, kPage, PROT_READ), 0);
      std::string src(7 * kPage - 100, '\0');
      std::mt19937 rng(static_cast<uint32_t>(start + stop_page));
      for (char& c : src) c = static_cast<char>(1 + rng() % 255);
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::signal(SIGSEGV, SIG_DFL);  // no sanitizer report: die as a kill would
        CopyInOrder(map + start, src.data(), src.size());
        ::_exit(0);
      }
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << status;
      ::munmap(map, 8 * kPage);
      ::close(fd);
      const std::string bytes = ReadFileBytes(path);
      ASSERT_EQ(bytes.size(), 8 * kPage);
      const size_t stop = stop_page * kPage;
      EXPECT_EQ(bytes.substr(0, start), std::string(start, '\0'));
      // The copied bytes: src up to some point, then nothing. A store that
      // straddled the stop would fault whole, so the point may lie up to a
      // store's width (16 bytes) before it.
      size_t copied = 0;
      while (start + copied < bytes.size() && copied < src.size() &&
             bytes[start + copied] == src[copied]) {
        ++copied;
      }
      EXPECT_GE(start + copied + 16, stop) << "the copy did not reach the stop";
      EXPECT_LE(start + copied, stop);
      EXPECT_EQ(bytes.find_first_not_of('\0', start + copied), std::string::npos)
          << "bytes after the first one not copied were copied (at "
          << bytes.find_first_not_of('\0', start + copied) << ", first missing "
          << start + copied << ")";
    }
  }
}

}  // namespace wal_test
}  // namespace ringdb::wal
