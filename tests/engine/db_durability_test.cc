// The durability promises of WriteOptions::sync (include/ringdb/options.h),
// checked by killing a writer process for real: a write acknowledged with
// sync = false survives SIGKILL. Also batches larger than any log record
// limit (split into fragments) surviving a crash, and refused requests
// leaving the database usable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "crash_child_util.h"
#include "ringdb/db.h"
#include "ringdb/write_batch.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_durability_test {

using testing::WriteInChildThenKill;

std::string Key(uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%012u", i);
  return buf;
}
std::string Value(uint32_t i) { return std::string(100, static_cast<char>('a' + i % 26)) + Key(i); }

class DurabilityTest : public ::testing::TestWithParam<IoBackendKind> {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.io_backend = GetParam();
    options_.buffer_pool_bytes = 64 * 4096;
    options_.info_log = [](std::string_view) {};
  }

  test::TempDir tmp_{"dur"};
  std::string dir_;
  Options options_;
};

// Before the log was handed to the kernel at every commit, every one of
// these writes sat in a 4 MiB user-space buffer and died with the process.
TEST_P(DurabilityTest, NonSyncWritesSurviveSigkill) {
  // A pool that holds every page: no eviction forces the log out early (a
  // dirty page may only be written once its log records are durable).
  options_.buffer_pool_bytes = 64ull << 20;
  constexpr uint32_t kKillAfter = 3000;
  std::vector<uint32_t> acked = WriteInChildThenKill(
      dir_, options_, kKillAfter, [](DB* db, uint32_t i, bool* more) {
        *more = true;
        return db->Put(WriteOptions(), Key(i), Value(i));
      });
  ASSERT_GE(acked.size(), kKillAfter);

  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  size_t lost = 0;
  for (uint32_t i : acked) {
    std::string v;
    Status s = db->Get(ReadOptions(), Key(i), &v);
    if (!s.ok() || v != Value(i)) ++lost;
  }
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " acknowledged non-sync writes";
  ASSERT_TRUE(db->Close().ok());
}

// Two 40 MiB values in one batch: more than any single log record may
// hold, so the record is split into fragments. Acknowledged without sync,
// then the process is killed: recovery joins the fragments again.
TEST_P(DurabilityTest, HugeBatchSurvivesSigkill) {
  const std::string big1(40u << 20, 'x');
  std::string big2(40u << 20, 'y');
  big2[12345] = 'z';
  std::vector<uint32_t> acked = WriteInChildThenKill(
      dir_, options_, 2, [&](DB* db, uint32_t i, bool* more) {
        *more = i < 2;
        if (i == 0) {
          WriteBatch batch;
          batch.Put("big1", big1);
          batch.Put("big2", big2);
          return db->Write(WriteOptions(), &batch);
        }
        if (i == 1) return db->Put(WriteOptions(), "after", "small");
        return Status::OK();
      });
  ASSERT_EQ(acked.size(), 2u);

  std::unique_ptr<DB> db;
  Status s = DB::Open(options_, dir_, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string v;
  ASSERT_TRUE(db->Get(ReadOptions(), "big1", &v).ok());
  EXPECT_TRUE(v == big1);
  ASSERT_TRUE(db->Get(ReadOptions(), "big2", &v).ok());
  EXPECT_TRUE(v == big2);
  ASSERT_TRUE(db->Get(ReadOptions(), "after", &v).ok());
  EXPECT_EQ(v, "small");
  ASSERT_TRUE(db->Close().ok());
}

// A request refused for its size changes nothing and leaves the database
// writable; a batch beyond the old 65 MiB log-record limit is accepted
// (it used to be refused and then fail every later write with "log append
// failed; reopen the database").
TEST_P(DurabilityTest, RefusedAndHugeRequestsLeaveTheDatabaseUsable) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  WriteBatch too_big;
  too_big.Put("ok", "v");
  too_big.Put("huge", std::string(kMaxValueSize + 1, 'h'));
  Status s = db->Write(WriteOptions(), &too_big);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(kMaxValueSize)), std::string::npos) << s.ToString();
  EXPECT_TRUE(db->Put(WriteOptions(), std::string(kMaxKeySize + 1, 'k'), "v").IsInvalidArgument());
  std::string v;
  EXPECT_TRUE(db->Get(ReadOptions(), "ok", &v).IsNotFound());

  WriteBatch huge;
  huge.Put("a", std::string(40u << 20, 'a'));
  huge.Put("b", std::string(40u << 20, 'b'));
  s = db->Write(WriteOptions(), &huge);
  ASSERT_TRUE(s.ok()) << s.ToString();

  ASSERT_TRUE(db->Put(WriteOptions(), "after", "works").ok());
  ASSERT_TRUE(db->Get(ReadOptions(), "after", &v).ok());
  EXPECT_EQ(v, "works");
  ASSERT_TRUE(db->Get(ReadOptions(), "b", &v).ok());
  EXPECT_EQ(v.size(), 40u << 20);
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, DurabilityTest,
                         ::testing::Values(IoBackendKind::kIoUring, IoBackendKind::kPread),
                         [](const auto& info) {
                           return info.param == IoBackendKind::kIoUring ? "IoUring" : "Pread";
                         });

}  // namespace db_durability_test
}  // namespace ringdb
