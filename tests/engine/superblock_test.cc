// Superblock: the encoding of its frozen fields, the choice between the two
// alternating copies, and the statuses of files that are damaged, not
// ringdb's, or too new. Drives engine/superblock.h directly on a file.
#include "engine/superblock.h"

#include <gtest/gtest.h>

#include <cstring>

#include "io/aligned_buffer.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace superblock_test {

constexpr uint32_t kPage = 4096;

class SuperblockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    io_ = io::NewPreadBackend();
    Result<io::FileId> f = io_->Open(dir_.File("data"), io::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    file_ = *f;
    // Room for both slots and a little more (a file shorter than two pages
    // is refused before any copy is read).
    io::AlignedBuffer zeros = io::NewAlignedBuffer(4 * kPage);
    RINGDB_ASSERT_OK(io_->Write(file_, 0, zeros.get(), 4 * kPage));
  }
  void TearDown() override { (void)io_->Close(file_); }

  static Superblock Make(uint64_t seq) {
    Superblock sb;
    sb.page_size = kPage;
    sb.seq = seq;
    sb.ckpt_lsn = Lsn(1000 + seq);
    sb.log_segment = 3 + seq;
    sb.btree_meta = 2;
    sb.logical_pages = 10;
    sb.slot_count = 4;
    sb.map_start = 2;
    sb.map_pages = 1;
    sb.key_count = 77;
    return sb;
  }
  // Flips one byte of slot `slot`'s copy (a torn or rotten write).
  void Damage(int slot, uint64_t at) {
    io::AlignedBuffer buf = io::NewAlignedBuffer(kPage);
    RINGDB_ASSERT_OK(io_->Read(file_, slot * kPage, buf.get(), kPage));
    buf.get()[at] ^= 0x40;
    RINGDB_ASSERT_OK(io_->Write(file_, slot * kPage, buf.get(), kPage));
  }

  test::TempDir dir_{"superblock"};
  std::unique_ptr<io::IoBackend> io_;
  io::FileId file_;
};

TEST_F(SuperblockTest, EncodingPinsTheFrozenOffsets) {
  io::AlignedBuffer buf = io::NewAlignedBuffer(kSuperblockSize);
  EncodeSuperblock(Make(5), buf.get());
  auto u64 = [&](size_t off) {
    uint64_t v;
    std::memcpy(&v, buf.get() + off, 8);
    return v;
  };
  auto u32 = [&](size_t off) {
    uint32_t v;
    std::memcpy(&v, buf.get() + off, 4);
    return v;
  };
  EXPECT_EQ(u64(0), kSuperblockMagic);
  EXPECT_EQ(u32(16), kFormatVersion);
  EXPECT_EQ(u32(20), kPage);
  EXPECT_EQ(u64(24), 5u);
  EXPECT_EQ(u64(32), 1005u);
  EXPECT_EQ(u64(40), 8u);
  EXPECT_EQ(u64(48), 2u);
  EXPECT_EQ(u64(56), 10u);
  EXPECT_EQ(u64(64), 4u);
  EXPECT_EQ(u64(72), 2u);
  EXPECT_EQ(u64(80), 1u);
  EXPECT_EQ(u64(88), 77u);
  for (size_t i = 96; i < kSuperblockSize; i++) ASSERT_EQ(buf.get()[i], 0) << "byte " << i;
}

TEST_F(SuperblockTest, RoundTripAndTheNewerCopyWins) {
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(6)));  // slot 0
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(7)));  // slot 1
  Result<Superblock> sb = ReadSuperblock(io_.get(), file_);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_EQ(sb->seq, 7u);
  EXPECT_EQ(sb->ckpt_lsn, Lsn(1007));
  EXPECT_EQ(sb->log_segment, 10u);
  EXPECT_EQ(sb->key_count, 77u);
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(8)));  // slot 0 again
  sb = ReadSuperblock(io_.get(), file_);
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->seq, 8u);
}

TEST_F(SuperblockTest, DamagedNewestCopyFallsBackToTheOther) {
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(6)));
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(7)));
  Damage(1, 40);  // inside the checksummed fields of seq 7
  Result<Superblock> sb = ReadSuperblock(io_.get(), file_);
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_EQ(sb->seq, 6u);
}

TEST_F(SuperblockTest, BothCopiesDamagedIsCorruption) {
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(6)));
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, Make(7)));
  Damage(0, 30);
  Damage(1, 30);
  EXPECT_TRUE(ReadSuperblock(io_.get(), file_).status().IsCorruption());
}

TEST_F(SuperblockTest, ForeignFileIsInvalidArgument) {
  // Zeros: no magic in either slot.
  EXPECT_TRUE(ReadSuperblock(io_.get(), file_).status().IsInvalidArgument());
}

TEST_F(SuperblockTest, NewerFormatIsNotSupported) {
  Superblock sb = Make(6);
  sb.version = kFormatVersion + 1;
  RINGDB_ASSERT_OK(WriteSuperblock(io_.get(), file_, sb));
  EXPECT_TRUE(ReadSuperblock(io_.get(), file_).status().IsNotSupported());
}

}  // namespace superblock_test
}  // namespace ringdb
