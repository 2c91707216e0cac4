// Opening, locking and destroying a database: the directory lock keeps a
// second handle (in this process or another) and DestroyDB away from an
// open database.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_lifecycle_test {

namespace fs = std::filesystem;

class DBLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 64 * 4096;
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
  }

  test::TempDir tmp_{"lifecycle"};
  std::string dir_;
  Options options_;
};

TEST_F(DBLifecycleTest, DestroyRefusesAnOpenDatabaseInThisProcess) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  ASSERT_TRUE(db->Put(WriteOptions(), "k", "v").ok());
  Status s = DestroyDB(dir_);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_TRUE(fs::exists(dir_ + "/ringdb.data"));
  // The open handle is untouched: it writes, reads, closes, and the data is
  // there after reopening.
  ASSERT_TRUE(db->Put(WriteOptions(), "k2", "v2").ok());
  Status closed = db->Close();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  db.reset();
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  std::string v;
  ASSERT_TRUE(db->Get(ReadOptions(), "k", &v).ok());
  EXPECT_EQ(v, "v");
  ASSERT_TRUE(db->Get(ReadOptions(), "k2", &v).ok());
  EXPECT_EQ(v, "v2");
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  Status d = DestroyDB(dir_);
  ASSERT_TRUE(d.ok()) << d.ToString();
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(DBLifecycleTest, DestroyRefusesADatabaseOpenInAnotherProcess) {
  {
    std::unique_ptr<DB> db;
    ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  int to_parent[2], to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::unique_ptr<DB> db;
    char c = DB::Open(options_, dir_, &db).ok() ? 'y' : 'n';
    if (write(to_parent[1], &c, 1) != 1) _exit(2);
    if (read(to_child[0], &c, 1) != 1) _exit(3);  // wait for the parent
    _exit(db && db->Close().ok() ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  Status s = DestroyDB(dir_);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  ASSERT_EQ(write(to_child[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) close(fd);
  EXPECT_TRUE(fs::exists(dir_ + "/ringdb.data"));
  EXPECT_TRUE(DestroyDB(dir_).ok());
}

TEST_F(DBLifecycleTest, SecondHandleInTheSameProcessIsBusyAndSaysSo) {
  std::unique_ptr<DB> db, db2;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  Status s = DB::Open(options_, dir_, &db2);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.ToString().find("locked by this process"), std::string::npos) << s.ToString();
  EXPECT_EQ(db2, nullptr);
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(DBLifecycleTest, OpenInAMissingParentNamesThePathWithoutAnOffset) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(options_, dir_ + "/no/such/parent", &db);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find(dir_ + "/no/such/parent"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.ToString().find("offset"), std::string::npos) << s.ToString();
}

}  // namespace db_lifecycle_test
}  // namespace ringdb
