// The reserve leaves room for a clean close (issue 17): on a 24 MiB tmpfs, a
// database of about 8 MiB of pages is checkpointed, then overwritten at
// random until a write is refused with NoSpace. By then most pages are
// dirty, and each needs a fresh slot at the next checkpoint (shadow paging
// never overwrites a page the last checkpoint references): far more than
// the default reserve of 3 MiB. Close() must still checkpoint (so the log
// holds nothing to replay at reopen), and nothing acknowledged may be lost.
//
// Needs root (mount); skips, saying why, where mounting is not permitted.
// The tmpfs is always unmounted in TearDown.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "ringdb/db.h"

namespace ringdb {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFsBytes = 24ull << 20;

constexpr uint32_t kKeys = 18000;

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
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (running as uid "
                                       << ::geteuid() << ")";
    mnt_ = (fs::temp_directory_path() / ("ringdb_fullclose_" + std::to_string(::getpid())))
               .string();
    fs::create_directories(mnt_);
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      int err = errno;
      fs::remove(mnt_);
      GTEST_SKIP() << "mount -t tmpfs -o size=24m is not permitted here: " << std::strerror(err);
    }
    mounted_ = true;
    dir_ = mnt_ + "/db";
    // A pool that holds every page, against the default reserve of 3 MiB
    // (1/8 of 24 MiB).
    options_.buffer_pool_bytes = 16 << 20;
    options_.lock_pool_memory = false;
    options_.auto_resume_interval_ms = 0;
    options_.info_log = [](std::string_view) {};
  }
  void TearDown() override {
    if (mounted_) {
      if (::umount2(mnt_.c_str(), 0) != 0) ::umount2(mnt_.c_str(), MNT_DETACH);
    }
    if (!mnt_.empty()) fs::remove_all(mnt_);
  }

  uint64_t NumProperty(DB* db, const std::string& name) {
    std::string v;
    EXPECT_TRUE(db->GetProperty(name, &v)) << name;
    return std::strtoull(v.c_str(), nullptr, 10);
  }

  std::string mnt_;
  std::string dir_;
  bool mounted_ = false;
  Options options_;
};

TEST_F(FullDiskCloseTest, CloseAfterRefusalWithManyDirtyPagesIsClean) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  std::map<std::string, std::string> model;
  for (uint32_t i = 0; i < kKeys; i++) {
    ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i, 0)).ok()) << i;
    model[Key(i)] = Value(i, 0);
  }
  ASSERT_TRUE(db->Checkpoint().ok());
  Status refused;
  uint32_t puts = 0;
  uint64_t x = 88172645463325252ull;  // xorshift: the same keys every run
  for (uint32_t round = 1; puts < 1000000; round++, puts++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const uint32_t i = static_cast<uint32_t>(x % kKeys);
    WriteOptions wo;
    wo.sync = puts % 3 == 0;
    refused = db->Put(wo, Key(i), Value(i, round));
    if (!refused.ok()) break;
    model[Key(i)] = Value(i, round);
  }
  ASSERT_TRUE(refused.IsNoSpace()) << "put " << puts << ": " << refused.ToString();
  ASSERT_GT(puts, 100u);
  const uint64_t page_size = NumProperty(db.get(), "ringdb.page_size");
  const uint64_t dirty = NumProperty(db.get(), "ringdb.pool.dirty_pages");
  std::printf("refused after %u overwrites with %llu dirty pages (%llu KiB)\n", puts,
              static_cast<unsigned long long>(dirty),
              static_cast<unsigned long long>(dirty * page_size >> 10));
  // The case under test: more dirty than the reserve alone could hold.
  ASSERT_GT(dirty * page_size, kFsBytes / 8);

  Status s = db->Close();
  EXPECT_TRUE(s.ok()) << s.ToString();
  db.reset();

  Options reopen = options_;
  s = DB::Open(reopen, dir_, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(NumProperty(db.get(), "ringdb.recovered_records"), 0u)
      << "the close did not checkpoint: the log had to be replayed";
  size_t lost = 0;
  std::string v;
  for (const auto& [k, want] : model) {
    if (!db->Get(ReadOptions(), k, &v).ok() || v != want) lost++;
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_TRUE(db->Verify(nullptr).ok());
  EXPECT_TRUE(db->Close().ok());
}

}  // namespace
}  // namespace ringdb
