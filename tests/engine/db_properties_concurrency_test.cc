// Properties read while the writer changes what they report. The stats
// line names the log segment being written, which every checkpoint moves
// on; reading it must not race with the checkpoint (ThreadSanitizer runs
// this test, ctest label concurrency).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_properties_concurrency_test {

// The number after "log:   segment " in "ringdb.stats", or 0.
uint64_t SegmentOf(const std::string& stats) {
  const std::string tag = "log:   segment ";
  size_t at = stats.find(tag);
  if (at == std::string::npos) return 0;
  return std::strtoull(stats.c_str() + at + tag.size(), nullptr, 10);
}

TEST(PropertiesConcurrencyTest, StatsWhileCheckpointsRotateTheLog) {
  test::TempDir tmp{"propsconc"};
  Options options;
  options.buffer_pool_bytes = 64 * 4096;
  options.lock_pool_memory = false;
  options.info_log = [](std::string_view) {};
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options, tmp.File("db"), &db).ok());
  std::string stats;
  ASSERT_TRUE(db->GetProperty("ringdb.stats", &stats));
  const uint64_t first = SegmentOf(stats);
  ASSERT_GT(first, 0u) << stats;

  constexpr int kCheckpoints = 100;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; i < kCheckpoints; i++) {
      if (!db->Put(WriteOptions(), "k" + std::to_string(i), "v").ok()) failures++;
      if (!db->Checkpoint().ok()) failures++;
    }
    done.store(true);
  });
  uint64_t last = first;
  int reads = 0;
  while (!done.load()) {
    ASSERT_TRUE(db->GetProperty("ringdb.stats", &stats));
    const uint64_t seg = SegmentOf(stats);
    ASSERT_GE(seg, last) << "the segment went back:\n" << stats;
    last = seg;
    reads++;
  }
  writer.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads, 0);
  ASSERT_TRUE(db->GetProperty("ringdb.stats", &stats));
  EXPECT_EQ(SegmentOf(stats), first + kCheckpoints) << stats;
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace db_properties_concurrency_test
}  // namespace ringdb
