// Read-only open of a database whose last writer died (its log holds
// records nobody replayed): it must not touch the files, and either refuse
// with InvalidArgument saying the database needs a read-write open first,
// or open showing every write the dead writer had synced. After one
// read-write open (which replays and checkpoints) read-only works.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_readonly_crash_test {

namespace fs = std::filesystem;

// Every file under `dir` with its bytes.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files[e.path().string()] = bytes.str();
  }
  return files;
}

constexpr int kKeys = 50;

std::string Key(int i) { return "key" + std::to_string(1000 + i); }

TEST(ReadOnlyCrashTest, CrashedDatabaseIsLeftUntouched) {
  test::TempDir tmp("ro_crash");
  const std::string dir = tmp.File("db");
  Options options;
  options.info_log = [](std::string_view) {};
  options.lock_pool_memory = false;
  // A writer that syncs its puts and dies without closing.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::unique_ptr<DB> db;
    if (!DB::Open(options, dir, &db).ok()) _exit(3);
    WriteOptions sync;
    sync.sync = true;
    for (int i = 0; i < kKeys; ++i) {
      if (!db->Put(sync, Key(i), "v" + std::to_string(i)).ok()) _exit(4);
    }
    _exit(0);  // No Close: the log keeps its records.
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  const auto before = Snapshot(dir);
  Options ro = options;
  ro.read_only = true;
  ro.create_if_missing = false;
  {
    std::unique_ptr<DB> db;
    Status s = DB::Open(ro, dir, &db);
    if (s.ok()) {
      for (int i = 0; i < kKeys; ++i) {
        std::string v;
        ASSERT_TRUE(db->Get(ReadOptions(), Key(i), &v).ok()) << Key(i);
        EXPECT_EQ(v, "v" + std::to_string(i));
      }
      EXPECT_FALSE(db->Put(WriteOptions(), "x", "y").ok());
      EXPECT_TRUE(db->Close().ok());
    } else {
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_NE(s.ToString().find("without read-only"), std::string::npos) << s.ToString();
      EXPECT_EQ(db, nullptr);
    }
  }
  EXPECT_TRUE(Snapshot(dir) == before) << "a read-only open changed the files";

  // A read-write open replays the log; read-only opens then work.
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(options, dir, &db).ok());
    std::string n;
    ASSERT_TRUE(db->GetProperty("ringdb.recovered_records", &n));
    EXPECT_GE(std::stoull(n), static_cast<uint64_t>(kKeys));
    ASSERT_TRUE(db->Close().ok());
  }
  {
    std::unique_ptr<DB> db;
    Status s = DB::Open(ro, dir, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (int i = 0; i < kKeys; ++i) {
      std::string v;
      ASSERT_TRUE(db->Get(ReadOptions(), Key(i), &v).ok()) << Key(i);
      EXPECT_EQ(v, "v" + std::to_string(i));
    }
    Status w = db->Put(WriteOptions(), "x", "y");
    EXPECT_TRUE(w.IsInvalidArgument()) << w.ToString();
    EXPECT_TRUE(db->Close().ok());
  }
}

}  // namespace db_readonly_crash_test
}  // namespace ringdb
