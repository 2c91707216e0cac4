// DB::Backup: a consistent, openable copy made while a writer runs; an
// interrupted backup is never taken for a database and never harms the
// source; the copy helper's fallbacks copy the same bytes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "engine/db_impl.h"
#include "io/file_copy.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_backup_test {

namespace fs = std::filesystem;

std::string Key(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "key%012llu", static_cast<unsigned long long>(i));
  return buf;
}
std::string Value(uint64_t i) { return std::string(100 + i % 300, static_cast<char>('a' + i % 26)); }

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = tmp_.path();
    src_ = base_ + "/src";
    dst_ = base_ + "/copy";
    options_.buffer_pool_bytes = 128 * 4096;
    options_.lock_pool_memory = false;
    options_.checkpoint_log_bytes = 1 << 20;  // checkpoints want to run during the copy
    options_.info_log = [](std::string_view) {};
  }

  void Fill(uint64_t n) {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(options_, src_, &db).ok());
    for (uint64_t i = 0; i < n; i++) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i)).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  test::TempDir tmp_{"backup"};
  std::string base_, src_, dst_;
  Options options_;
};

// Keys are written in order, so the copy must hold exactly keys [0, m) for
// some m between what was acknowledged when Backup began and what had been
// attempted when it returned.
TEST_F(BackupTest, CopyWhileAWriterRunsHoldsEverythingAcknowledgedBefore) {
  Fill(2000);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, src_, &db).ok());
  std::atomic<uint64_t> acked{2000}, attempted{2000};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t i = 2000; !stop; i++) {
      attempted = i + 1;
      if (!db->Put(WriteOptions(), Key(i), Value(i)).ok()) return;
      acked = i + 1;
    }
  });
  while (acked < 4000) std::this_thread::yield();
  uint64_t n0 = acked;
  DB::BackupInfo info;
  Status s = db->Backup(dst_, &info);
  uint64_t n1 = attempted;
  stop = true;
  writer.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(info.bytes, 0u);
  EXPECT_GE(info.files, 2u);
  EXPECT_FALSE(info.method.empty());
  EXPECT_FALSE(fs::exists(dst_ + "/" + kBackupMarkerName));
  // The source keeps working, checkpoints included, after the backup.
  ASSERT_TRUE(db->Checkpoint().ok());
  ASSERT_TRUE(db->Close().ok());

  std::unique_ptr<DB> copy;
  Options ro = options_;
  ro.create_if_missing = false;
  Status o = DB::Open(ro, dst_, &copy);
  ASSERT_TRUE(o.ok()) << o.ToString();
  std::unique_ptr<Iterator> it = copy->NewIterator(ReadOptions());
  uint64_t m = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), m++) {
    ASSERT_EQ(it->key(), Key(m)) << "hole or stranger in the copy";
    ASSERT_EQ(it->value(), Value(m));
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  it.reset();
  EXPECT_GE(m, n0) << "acknowledged writes missing from the copy";
  EXPECT_LE(m, n1);
  std::string report;
  EXPECT_TRUE(copy->Verify(&report).ok()) << report;
  ASSERT_TRUE(copy->Close().ok());
}

TEST_F(BackupTest, RefusesADirectoryThatHoldsADatabase) {
  Fill(10);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, src_, &db).ok());
  ASSERT_TRUE(db->Backup(dst_).ok());
  Status s = db->Backup(dst_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = db->Backup(src_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  ASSERT_TRUE(db->Put(WriteOptions(), "after", "backup").ok());
  ASSERT_TRUE(db->Close().ok());
}

// A process killed at random points of a backup: the source always
// recovers whole; the target is either refused as incomplete or a complete
// database.
TEST_F(BackupTest, KilledBackupNeverHarmsTheSourceOrPassesForADatabase) {
  Fill(6000);
  std::mt19937_64 rng(42);
  int complete = 0, incomplete = 0;
  for (int round = 0; round < 8; round++) {
    fs::remove_all(dst_);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::unique_ptr<DB> db;
      if (!DB::Open(options_, src_, &db).ok()) _exit(2);
      std::thread writer([&] {
        for (uint64_t i = 0;; i++) (void)db->Put(WriteOptions(), Key(1000000 + i), Value(i));
      });
      writer.detach();
      Status s = db->Backup(dst_);
      _exit(s.ok() ? 0 : 1);
    }
    usleep(static_cast<useconds_t>(rng() % 150000));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);

    std::unique_ptr<DB> db;
    Status o = DB::Open(options_, src_, &db);
    ASSERT_TRUE(o.ok()) << "round " << round << ": the source: " << o.ToString();
    for (uint64_t i = 0; i < 6000; i += 97) {
      std::string v;
      ASSERT_TRUE(db->Get(ReadOptions(), Key(i), &v).ok()) << "round " << round;
      ASSERT_EQ(v, Value(i));
    }
    ASSERT_TRUE(db->Close().ok());

    Options ro = options_;
    ro.create_if_missing = false;
    std::unique_ptr<DB> copy;
    Status c = DB::Open(ro, dst_, &copy);
    if (fs::exists(dst_ + "/" + kBackupMarkerName) || !fs::exists(dst_ + "/ringdb.data")) {
      EXPECT_FALSE(c.ok()) << "round " << round << ": an incomplete backup opened";
      incomplete++;
      continue;
    }
    ASSERT_TRUE(c.ok()) << "round " << round << ": " << c.ToString();
    std::string v;
    EXPECT_TRUE(copy->Get(ReadOptions(), Key(5999), &v).ok());
    std::string report;
    EXPECT_TRUE(copy->Verify(&report).ok()) << report;
    ASSERT_TRUE(copy->Close().ok());
    complete++;
  }
  std::printf("killed backups: %d complete, %d incomplete\n", complete, incomplete);
}

TEST(FileCopyTest, EveryMethodCopiesTheSameBytes) {
  test::TempDir tmp("copy");
  const std::string& dir = tmp.path();
  std::string data(3 << 20, '\0');
  std::mt19937_64 rng(1);
  for (char& c : data) c = static_cast<char>(rng());
  { std::ofstream(dir + "/src", std::ios::binary).write(data.data(), data.size()); }
  for (io::CopyMethod m : {io::CopyMethod::kCopyFileRange, io::CopyMethod::kSendfile,
                           io::CopyMethod::kReadWrite}) {
    io::CopyResult r;
    std::string to = dir + "/dst-" + io::CopyMethodName(m)[0];
    Status s = io::CopyFilePrefix(dir + "/src", to, 1000000, m, &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(r.bytes, 1000000u);
    EXPECT_EQ(r.method, m) << io::CopyMethodName(r.method);
    std::ifstream in(to, std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(got == data.substr(0, 1000000)) << io::CopyMethodName(m);
  }
  io::CopyResult r;
  ASSERT_TRUE(io::CopyFilePrefix(dir + "/src", dir + "/all", UINT64_MAX,
                                 io::CopyMethod::kCopyFileRange, &r).ok());
  EXPECT_EQ(r.bytes, data.size());
  EXPECT_FALSE(io::CopyFilePrefix(dir + "/missing", dir + "/x", 1, io::CopyMethod::kReadWrite, &r)
                   .ok());
}

}  // namespace db_backup_test
}  // namespace ringdb
