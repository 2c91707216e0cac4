// The reserve leaves room for a clean close (issue 17): on a 24 MiB tmpfs a
// database is checkpointed, then written until a write is refused with
// NoSpace. Close() must then checkpoint (so the log holds nothing to replay
// at reopen), and nothing acknowledged may be lost: with many dirty pages,
// each of which needs a fresh slot at the next checkpoint (shadow paging
// never overwrites a page the last checkpoint references), and in a
// database that grows until the disk is full.
//
// Needs root (mount); skips, saying why, where mounting is not permitted.
// The tmpfs is always unmounted in TearDown.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "ringdb/db.h"
#include "tests/util/tmpfs_mount.h"
#include "ringdb/write_batch.h"

namespace ringdb {
namespace db_full_disk_close_test {

constexpr uint64_t kFsBytes = 24ull << 20;

std::string Key(uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08u", i);
  return buf;
}

// Version `round` of key i's value: the same size every round.
std::string Value(uint32_t i, uint32_t round) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08u.%08u.", i, round);
  return buf + std::string(300, static_cast<char>('a' + (i + round) % 26));
}

class FullDiskCloseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    mnt_ = test::TmpfsMount::Create("fullclose", "24m", &why);
    if (mnt_ == nullptr) GTEST_SKIP() << why;
    dir_ = mnt_->path() + "/db";
    // A pool that holds every page, against the default reserve of 3 MiB
    // (1/8 of 24 MiB).
    options_.buffer_pool_bytes = 20 << 20;
    options_.lock_pool_memory = false;
    options_.auto_resume_interval_ms = 0;
    // Many dirty pages at the refusal is the case under test; the page
    // cleaner would write most of them ahead (it may fall behind a real
    // load, so the reserve must still cover them).
    options_.page_cleaner = false;
    options_.info_log = [](std::string_view) {};
  }
  void TearDown() override {
    db_.reset();
    mnt_.reset();  // unmounts
  }

  uint64_t NumProperty(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::strtoull(v.c_str(), nullptr, 10);
  }
  void FillToRefusal(uint32_t keys, bool grow, uint32_t batch_after);
  void CloseCleanlyAndCheck();

  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
  std::unique_ptr<test::TmpfsMount> mnt_;
  std::string dir_;
  Options options_;
};

// Loads `keys` keys and checkpoints, then puts until a write is refused:
// random overwrites, and when `grow`, a new key every fourth put. With
// `batch_after` > 0, after that many puts it writes batches of about 6 MiB
// of new keys instead.
void FullDiskCloseTest::FillToRefusal(uint32_t keys, bool grow, uint32_t batch_after) {
  ASSERT_TRUE(DB::Open(options_, dir_, &db_).ok());
  for (uint32_t i = 0; i < keys; i++) {
    ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), Value(i, 0)).ok()) << i;
    model_[Key(i)] = Value(i, 0);
  }
  ASSERT_TRUE(db_->Checkpoint().ok());
  Status refused;
  uint32_t puts = 0;
  uint64_t x = 88172645463325252ull;  // xorshift: the same keys every run
  for (; puts < 1000000; puts++) {
    if (batch_after > 0 && puts >= batch_after) {
      WriteBatch batch;
      std::map<std::string, std::string> added;
      for (uint32_t n = 0; n < 18000; n++) {
        const uint32_t i = keys + puts * 20000 + n;
        batch.Put(Key(i), Value(i, 0));
        added[Key(i)] = Value(i, 0);
      }
      refused = db_->Write(WriteOptions(), &batch);
      if (!refused.ok()) break;
      model_.insert(added.begin(), added.end());
      continue;
    }
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const uint32_t i =
        grow && puts % 4 == 3 ? keys + puts : static_cast<uint32_t>(x % keys);
    WriteOptions wo;
    wo.sync = puts % 3 == 0;
    refused = db_->Put(wo, Key(i), Value(i, puts + 1));
    if (!refused.ok()) break;
    model_[Key(i)] = Value(i, puts + 1);
  }
  ASSERT_TRUE(refused.IsNoSpace()) << "put " << puts << ": " << refused.ToString();
  ASSERT_GT(puts, 100u);
  std::printf("refused after %u puts with %llu dirty pages, log written %llu KiB, "
              "checkpoints to free space %llu\n",
              puts, static_cast<unsigned long long>(NumProperty("ringdb.pool.dirty_pages")),
              static_cast<unsigned long long>(NumProperty("ringdb.log.bytes_written") >> 10),
              static_cast<unsigned long long>(NumProperty("ringdb.checkpoints_for_space")));
}

// Close() succeeds, the reopen replays nothing, every acknowledged write
// reads back and Verify passes.
void FullDiskCloseTest::CloseCleanlyAndCheck() {
  Status s = db_->Close();
  EXPECT_TRUE(s.ok()) << s.ToString();
  db_.reset();
  s = DB::Open(options_, dir_, &db_);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(NumProperty("ringdb.recovered_records"), 0u)
      << "the close did not checkpoint: the log had to be replayed";
  size_t lost = 0;
  std::string v;
  for (const auto& [k, want] : model_) {
    if (!db_->Get(ReadOptions(), k, &v).ok() || v != want) lost++;
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_TRUE(db_->Verify(nullptr).ok());
  EXPECT_TRUE(db_->Close().ok());
  db_.reset();
}

// About 14 MiB of pages, all in the pool, overwritten at random after a
// checkpoint (each dirty page needs a fresh slot), then a batch too large
// for the space left is refused, with far more dirty than the reserve
// (the log is too short for an early checkpoint to help). Before the
// reserve counted the dirty pages, writes went on until 3 MiB were left,
// the close failed with NoSpace and the reopen could not even start a log
// segment.
TEST_F(FullDiskCloseTest, CloseAfterRefusalWithManyDirtyPagesIsClean) {
  FillToRefusal(36000, /*grow=*/false, /*batch_after=*/2500);
  if (HasFatalFailure()) return;
  const uint64_t dirty_bytes = NumProperty("ringdb.pool.dirty_pages") *
                               NumProperty("ringdb.page_size");
  ASSERT_GT(dirty_bytes, kFsBytes / 8);  // the case under test
  CloseCleanlyAndCheck();
}

// A growing database: before refusing, writes checkpoint early to delete
// the log, so the log written in all exceeds the file system's size; the
// close is clean all the same.
TEST_F(FullDiskCloseTest, WritesCheckpointEarlyToFreeTheLogThenCloseCleanly) {
  FillToRefusal(18000, /*grow=*/true, /*batch_after=*/0);
  if (HasFatalFailure()) return;
  EXPECT_GT(NumProperty("ringdb.checkpoints_for_space"), 0u);
  EXPECT_GT(NumProperty("ringdb.log.bytes_written"), kFsBytes);
  CloseCleanlyAndCheck();
}

}  // namespace db_full_disk_close_test
}  // namespace ringdb
