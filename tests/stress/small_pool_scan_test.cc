// A scan on the smallest pool Options allows (16 pages) must not stall.
//
// Found by corruption_test.cc: BufferPool::Prefetch (bufferpool/
// buffer_pool.cc) pins every frame it allocates for the iterator's
// read-ahead (up to kReadAheadLeaves = 16 leaves, engine/btree_iterator.cc)
// until the whole batch is read. With 16 frames, the read-ahead itself pins
// every evictable frame, so its next AllocateFrame finds nothing to evict
// and waits for an unpin that only this same thread could do: it sleeps the
// full 2 s deadline, gets Busy, and Prefetch gives up. Each read-ahead round
// of a scan costs 2 s; a 400-key scan takes about 10 s instead of a few ms.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "ringdb/db.h"

namespace ringdb {
namespace {

TEST(SmallPoolScanTest, ScanOnMinimumPoolDoesNotStall) {
  std::string dir = std::filesystem::temp_directory_path().string() + "/ringdb_small_pool_" +
                    std::to_string(getpid());
  std::filesystem::remove_all(dir);
  Options o;
  o.buffer_pool_bytes = 16 * 4096;
  o.io_backend = IoBackendKind::kPread;
  o.lock_pool_memory = false;
  o.info_log = [](std::string_view) {};
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(o, dir, &db).ok());
  for (int i = 0; i < 400; i++) {
    char key[16];
    std::snprintf(key, sizeof(key), "key%05d", i);
    ASSERT_TRUE(db->Put(WriteOptions(), key, std::string(10 + (i * 37) % 700, 'x')).ok());
  }
  ASSERT_TRUE(db->Close().ok());
  ASSERT_TRUE(DB::Open(o, dir, &db).ok());  // cold pool
  auto start = std::chrono::steady_clock::now();
  int n = 0;
  {
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(n, 400);
  EXPECT_LT(secs, 1.0) << "a 400-key scan on a 16-page pool took " << secs << " s";
  ASSERT_TRUE(db->Close().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringdb
