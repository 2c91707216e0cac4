// The page cleaner (Options::page_cleaner, engine/db_cleaner.cc): during a
// bulk load it writes the full leaves ahead of the checkpoint, so the
// checkpoint (which holds writers back) writes few pages; with it off the
// checkpoint writes them all. Either way nothing is lost across a reopen.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "engine/db_impl.h"
#include "engine/wal.h"
#include "ringdb/db.h"
#include "tests/util/page_cache.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_cleaner_test {

std::string Key(int i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "key%012d", i);
  return buf;
}

std::string Value(int i) { return std::string(100, static_cast<char>('a' + i % 26)); }

uint64_t Property(DB* db, const std::string& name) {
  std::string v;
  EXPECT_TRUE(db->GetProperty(name, &v)) << name;
  return std::strtoull(v.c_str(), nullptr, 10);
}

// About 80% of a checkpoint interval of keys in order: the cleaner starts
// at a quarter and writes every leaf idle for 1/16 of the interval.
constexpr int kKeys = 24000;

class PageCleanerTest : public ::testing::TestWithParam<bool> {
 protected:
  // Opens the database and writes kKeys keys in order, within one
  // checkpoint interval.
  void OpenAndLoad(std::unique_ptr<DB>* db) {
    ASSERT_TRUE(DB::Open(options_, dir_, db).ok());
    const uint64_t checkpoints = Property(db->get(), "ringdb.checkpoints");
    for (int i = 0; i < kKeys; i++) {
      ASSERT_TRUE((*db)->Put(WriteOptions(), Key(i), Value(i)).ok());
    }
    ASSERT_EQ(Property(db->get(), "ringdb.checkpoints"), checkpoints)
        << "the load crossed a checkpoint: make kKeys smaller";
  }
  void SetUp() override {
    options_.buffer_pool_bytes = 64ull << 20;
    options_.lock_pool_memory = false;
    options_.checkpoint_log_bytes = 4ull << 20;
    options_.page_cleaner = GetParam();
    options_.info_log = [](std::string_view) {};
  }
  test::TempDir tmp_{"cleaner"};
  const std::string dir_ = tmp_.path() + "/db";
  Options options_;
};

TEST_P(PageCleanerTest, CheckpointAfterABulkLoadWritesOnlyRecentPages) {
  const bool cleaner = GetParam();
  std::unique_ptr<DB> db;
  OpenAndLoad(&db);
  if (HasFatalFailure()) return;
  const uint64_t live = Property(db.get(), "ringdb.store.live_pages");
  ASSERT_GT(live, 500u);
  if (cleaner) {
    // The cleaner runs every 20 to 100 ms; give a loaded machine a minute to get
    // through the idle leaves (it stops at the last 1/16 of the log).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Property(db.get(), "ringdb.cleaner.pages_written") < live / 2 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_GE(Property(db.get(), "ringdb.cleaner.pages_written"), live / 2)
        << "the cleaner did not write the idle leaves";
  } else {
    // Nothing runs in the background: give it the same chance to.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(Property(db.get(), "ringdb.cleaner.pages_written"), 0u);
  }
  ASSERT_TRUE(db->Checkpoint().ok());
  const uint64_t flushed = Property(db.get(), "ringdb.checkpoint.pages_written");
  if (cleaner) {
    EXPECT_LT(flushed, live / 2) << "the checkpoint still wrote most pages itself";
  } else {
    EXPECT_GE(flushed, live * 9 / 10) << "without the cleaner the checkpoint writes every page";
  }
  std::string report;
  ASSERT_TRUE(db->Verify(&report).ok()) << report;
  ASSERT_TRUE(db->Close().ok());

  // The pages written early are the checkpoint's pages: a reopen (no log to
  // replay after the checkpoint) reads them back.
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  EXPECT_EQ(Property(db.get(), "ringdb.recovered_records"), 0u);
  std::string v;
  for (int i = 0; i < kKeys; i++) {
    ASSERT_TRUE(db->Get(ReadOptions(), Key(i), &v).ok()) << Key(i);
    ASSERT_EQ(v, Value(i)) << Key(i);
  }
  ASSERT_TRUE(db->Verify(&report).ok()) << report;
}

// The cleaner running under concurrent overwrites, reads and checkpoints:
// every value read is one that was written, and the reopened database holds
// the last value of every key.
TEST_P(PageCleanerTest, OverwritesWhileTheCleanerRunsLoseNothing) {
  options_.buffer_pool_bytes = 64 * 4096;  // smaller than the data: eviction too
  options_.checkpoint_log_bytes = 1ull << 20;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  constexpr int kRange = 6000;
  constexpr int kRounds = 4;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    std::string v;
    int i = 0;
    while (!done.load()) {
      i = (i + 7919) % kRange;
      Status s = db->Get(ReadOptions(), Key(i), &v);
      if (s.IsNotFound()) continue;
      if (!s.ok() || v.size() != 100 || v.find_first_not_of(v[0]) != std::string::npos) bad++;
    }
  });
  for (int r = 0; r < kRounds; r++) {
    for (int i = 0; i < kRange; i++) {
      ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i + r)).ok());
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  ASSERT_TRUE(db->Close().ok());
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  std::string v;
  for (int i = 0; i < kRange; i++) {
    ASSERT_TRUE(db->Get(ReadOptions(), Key(i), &v).ok()) << Key(i);
    ASSERT_EQ(v, Value(i + kRounds - 1)) << Key(i);
  }
  std::string report;
  ASSERT_TRUE(db->Verify(&report).ok()) << report;
}

// The log leaves the page cache as it is written: the writers' leaders
// start the write-back of every MiB written and drop the MiB before it
// (LogWriterOptions::cache_drop_bytes), so at most the last two steps stay
// cached, with the page cleaner on or off.
TEST_P(PageCleanerTest, TheLogLeavesThePageCache) {
  std::unique_ptr<DB> db;
  OpenAndLoad(&db);
  if (HasFatalFailure()) return;
  Result<std::vector<uint64_t>> segs = wal::ListSegments(dir_);
  ASSERT_TRUE(segs.ok() && !segs->empty());
  const std::string segment = wal::SegmentPath(dir_, segs->back());  // the one written to
  // Two drop steps and a page, and two mapped windows: the writer's
  // (mlocked, reserved ahead) and the one it left, whose pages the next
  // step drops (the drops stop below the mapped window).
  const size_t kStep = wal::LogWriterOptions().cache_drop_bytes / 4096;
  const size_t kWindow = kLogMapBytes / 4096;
  const size_t bound = 2 * kStep + 2 * kWindow + 1;
  size_t total = 0;
  const size_t resident = test::ResidentPages(segment, &total);
  ASSERT_GT(total, bound + kWindow) << "too little log to tell";
  EXPECT_LE(resident, bound) << "of " << total << " pages";
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Cleaner, PageCleanerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? std::string("On") : std::string("Off");
                         });

}  // namespace db_cleaner_test
}  // namespace ringdb
