// Adaptive scan read-ahead (BTree::ReadAhead, engine/btree_iterator.cc),
// asserted on read counts, never on time: a Seek plus 100 Next on a cold
// pool reads about the leaves it touches, a full scan reads every page once
// in large batches, and a backward scan is read ahead too.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "btree_test_util.h"
#include "engine/btree.h"

namespace ringdb::test {
namespace btree_readahead_test {

constexpr int kKeys = 30000;  // about 1000 full 4 KiB leaves of 30 entries

class ReadAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.ok());
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(h_.tree->Put(NumKey(i), std::string(100, 'v'), h_.NextLsn()).ok());
    }
    ASSERT_TRUE(h_.tree->ComputeFill(&fill_).ok());
    h_.Reopen();  // a cold pool
    ASSERT_TRUE(h_.ok());
  }
  uint64_t PoolReads() { return h_.env.pool()->stats().reads; }
  uint64_t Pages() const { return 1 + fill_.leaf_pages + fill_.inner_pages; }

  Harness h_{4096, 1024};
  BTree::FillStats fill_;
};

// Seeks far apart, each followed by 100 Next: 101 entries of 30 per leaf
// touch at most 5 leaves, and the window starts at the average scan length
// seen so far (from 1) and grows meanwhile, so at most 3 leaves are read
// that the scan never reaches. (A fixed read-ahead
// of 16 leaves reads 16 per seek.)
TEST_F(ReadAheadTest, SeekAndHundredNextReadsAboutWhatItTouches) {
  const int seeks = 10;
  const uint64_t before = PoolReads();
  auto it = h_.tree->NewIterator();
  for (int j = 0; j < seeks; ++j) {
    int start = 1000 + j * 2800;
    it->Seek(NumKey(start));
    for (int k = 0; k < 100; ++k) {
      ASSERT_TRUE(it->Valid()) << start << " +" << k;
      ASSERT_EQ(it->key(), NumKey(start + k));
      it->Next();
    }
    ASSERT_TRUE(it->Valid());
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  const uint64_t reads = PoolReads() - before;
  const uint64_t upper = seeks * (5 + 3) + 1 + fill_.inner_pages;  // + meta + inner pages
  RecordProperty("pool_reads", std::to_string(reads));
  EXPECT_LE(reads, upper) << fill_.inner_pages << " inner pages";
  EXPECT_GE(reads, static_cast<uint64_t>(seeks * 4));  // the leaves touched
}

// The bench's seekrandom: a new iterator per Seek, then 100 Next. Once the
// tree has seen such scans, a Seek reads its leaf and the leaves the scan
// will cross in one batch: one submit per seek. (Starting from the next leaf
// only and doubling took three rounds of reads, 1 + 1, 2, 4: three
// submits, each a device latency the scan waits for.)
TEST_F(ReadAheadTest, SeeksLearnHowFarScansGoAndReadThatInOneBatch) {
  if (h_.env.io()->Name() != "io_uring") {
    GTEST_SKIP() << "rounds are counted in io_uring submits; backend is " << h_.env.io()->Name();
  }
  const int seeks = 20;
  auto scan = [&](int start) {
    auto it = h_.tree->NewIterator();
    it->Seek(NumKey(start));
    for (int k = 0; k < 100; ++k) {
      ASSERT_TRUE(it->Valid()) << start << " +" << k;
      ASSERT_EQ(it->key(), NumKey(start + k));
      it->Next();
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  };
  // Learning: scans far apart (and the inner pages on their way are read).
  for (int j = 0; j < seeks; ++j) scan(500 + j * 1400);
  EXPECT_GE(h_.tree->SeekReadAhead(), 3);
  // Measured: scans 400 keys on, under the same parents, on leaves not read.
  std::vector<uint64_t> submits;
  const uint64_t reads_before = PoolReads();
  for (int j = 0; j < seeks; ++j) {
    const uint64_t before = h_.env.io()->stats().submits;
    scan(900 + j * 1400);
    submits.push_back(h_.env.io()->stats().submits - before);
  }
  std::sort(submits.begin(), submits.end());
  const uint64_t reads = PoolReads() - reads_before;
  RecordProperty("median_submits_per_seek", std::to_string(submits[seeks / 2]));
  RecordProperty("pool_reads", std::to_string(reads));
  EXPECT_LE(submits[seeks / 2], 1u)
      << "submits per seek, sorted: " << ::testing::PrintToString(submits);
  // 101 entries touch at most 5 leaves; the window is the average rounded
  // up, so at most about one leaf per seek is read for nothing.
  EXPECT_LE(reads, static_cast<uint64_t>(seeks * 6));
  EXPECT_GE(reads, static_cast<uint64_t>(seeks * 4));
}

// A full forward scan reads each page once, and the window grows to its
// cap (64 leaves): reads come in batches of 32 and 64 leaves, 20 reads per
// submit here counting the synchronous reads of inner pages and of each
// parent's first leaf (the fixed 16 leaves of old gave 9, a window that
// never grows gives 1).
TEST_F(ReadAheadTest, FullScanReadsEveryPageOnceInGrowingBatches) {
  const uint64_t before = PoolReads();
  const io::IoStats io_before = h_.env.io()->stats();
  auto it = h_.tree->NewIterator();
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(n, kKeys);
  const uint64_t reads = PoolReads() - before;
  EXPECT_LE(reads, Pages());
  EXPECT_GE(reads, fill_.leaf_pages);
  if (h_.env.io()->Name() != "io_uring") {
    GTEST_SKIP() << "batching is counted in io_uring submits; backend is "
                 << h_.env.io()->Name();
  }
  const io::IoStats io_after = h_.env.io()->stats();
  const uint64_t submits = io_after.submits - io_before.submits;
  ASSERT_GT(submits, 0u);
  RecordProperty("reads_per_submit", std::to_string((io_after.reads - io_before.reads) / submits));
  EXPECT_GE((io_after.reads - io_before.reads) / submits, 15u)
      << io_after.reads - io_before.reads << " reads in " << submits << " submits";
}

// Backward: SeekToLast and Prev to the start reads every page once, in
// batches too (there was no backward read-ahead before).
TEST_F(ReadAheadTest, BackwardScanIsReadAhead) {
  const uint64_t before = PoolReads();
  const io::IoStats io_before = h_.env.io()->stats();
  auto it = h_.tree->NewIterator();
  int n = 0;
  for (it->SeekToLast(); it->Valid(); it->Prev()) ++n;
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(n, kKeys);
  EXPECT_LE(PoolReads() - before, Pages());
  if (h_.env.io()->Name() != "io_uring") {
    GTEST_SKIP() << "batching is counted in io_uring submits; backend is "
                 << h_.env.io()->Name();
  }
  const io::IoStats io_after = h_.env.io()->stats();
  const uint64_t submits = io_after.submits - io_before.submits;
  ASSERT_GT(submits, 0u);
  RecordProperty("reads_per_submit", std::to_string((io_after.reads - io_before.reads) / submits));
  EXPECT_GE((io_after.reads - io_before.reads) / submits, 15u)
      << io_after.reads - io_before.reads << " reads in " << submits << " submits";
}

}  // namespace btree_readahead_test
}  // namespace ringdb::test
