// Directory operations through the io layer: the fault backend fails them
// (a failed directory operation is a clear error that leaves nothing
// poisoned) and, at a power cut, undoes every directory change that was not
// followed by a directory fsync. A database must survive such a power cut
// with everything acknowledged as durable, so every file it creates or
// renames must be made durable in its directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/db_impl.h"
#include "io/fault_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_directory_test {

namespace fs = std::filesystem;

class DBDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 64 * 4096;
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
    auto fault = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
    fault_ = fault.get();
    backend_ = fault;
  }

  Status Open(std::unique_ptr<DB>* db) { return OpenWithBackend(options_, dir_, backend_, db); }

  test::TempDir tmp_{"dirtest"};
  std::string dir_;
  Options options_;
  std::shared_ptr<io::IoBackend> backend_;
  io::FaultBackend* fault_ = nullptr;
};

TEST(FaultBackendDirectoryTest, DirectoryOperationsFailWhenArmedAndNameThePath) {
  test::TempDir tmp("dirops");
  const std::string dir = tmp.File("d");
  io::FaultBackend fault(io::NewPreadBackend());
  ASSERT_TRUE(fault.MakeDirectory(dir).ok());
  auto f = fault.Open(dir + "/a", io::OpenMode::kCreateReadWrite);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(fault.Close(*f).ok());
  io::Fault fl;
  fl.op = io::FaultOp::kDirectory;
  fl.kind = io::FaultKind::kEnospc;
  fault.Arm(fl);
  Status s = fault.Rename(dir + "/a", dir + "/b");
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(s.ToString().find(dir + "/a"), std::string::npos);
  EXPECT_EQ(s.ToString().find("offset"), std::string::npos) << s.ToString();
  EXPECT_TRUE(fs::exists(dir + "/a"));
  fl.kind = io::FaultKind::kEio;
  fault.Arm(fl);
  EXPECT_FALSE(fault.SyncDirectory(dir).ok());
  fault.Arm(fl);
  EXPECT_FALSE(fault.Unlink(dir + "/a").ok());
  EXPECT_TRUE(fs::exists(dir + "/a"));
  EXPECT_EQ(fault.count(io::FaultOp::kDirectory), 4u);  // mkdir, rename, fsync, unlink
  ASSERT_TRUE(fault.Unlink(dir + "/a").ok());
}

TEST(FaultBackendDirectoryTest, PowerCutUndoesUnsyncedDirectoryChanges) {
  test::TempDir tmp("dircut");
  const std::string& dir = tmp.path();
  io::FaultBackend fault(io::NewPreadBackend());
  fault.TrackUnsynced(true);
  auto make = [&](const std::string& name) {
    auto f = fault.Open(dir + "/" + name, io::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(fault.Close(*f).ok());
  };
  make("synced");
  make("old");
  ASSERT_TRUE(fault.SyncDirectory(dir).ok());
  make("unsynced");
  make("tmp");
  ASSERT_TRUE(fault.Rename(dir + "/tmp", dir + "/old").ok());  // replaces "old"
  ASSERT_TRUE(fault.Unlink(dir + "/synced").ok());
  ASSERT_TRUE(fault.PowerCut(1, false).ok());
  EXPECT_TRUE(fs::exists(dir + "/synced"));    // unlink undone
  EXPECT_FALSE(fs::exists(dir + "/unsynced"));  // create undone
  EXPECT_TRUE(fs::exists(dir + "/old"));        // the replaced file is back
  EXPECT_FALSE(fs::exists(dir + "/tmp"));       // ... and the new one vanished with its create
  EXPECT_FALSE(fs::exists(dir + "/old.fault-keep"));
}

TEST_F(DBDirectoryTest, FailedDirectoryOperationAtCreateIsAClearErrorAndRetryWorks) {
  io::Fault fl;
  fl.op = io::FaultOp::kDirectory;
  fl.nth = 2;  // after mkdir: the rename of the new data file into place
  fault_->Arm(fl);
  std::unique_ptr<DB> db;
  Status s = Open(&db);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("injected"), std::string::npos) << s.ToString();
  EXPECT_EQ(db, nullptr);
  fault_->Disarm();
  s = Open(&db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db->Put(WriteOptions(), "k", "v").ok());
  ASSERT_TRUE(db->Close().ok());
}

// Synced writes survive a power cut that also drops every directory change
// that was not fsynced: the data file's rename at creation and the log
// segments must be durable in the directory.
TEST_F(DBDirectoryTest, SyncedWritesSurviveAPowerCutThatDropsUnsyncedDirectoryEntries) {
  fault_->TrackUnsynced(true);
  std::unique_ptr<DB> db;
  ASSERT_TRUE(Open(&db).ok());
  WriteOptions sync;
  sync.sync = true;
  for (int i = 0; i < 50; i++) {
    ASSERT_TRUE(db->Put(sync, "key" + std::to_string(i), "value" + std::to_string(i)).ok());
  }
  // The machine dies: every later I/O fails (the closing checkpoint never
  // reaches the disk), then the power cut drops what was not synced.
  fault_->Arm(io::Fault{io::FaultOp::kWrite, 1, io::FaultKind::kEio, 0, true});
  db.reset();
  Status cut = fault_->PowerCut(7, true);
  ASSERT_TRUE(cut.ok()) << cut.ToString();
  fault_->TrackUnsynced(false);
  Status s = Open(&db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (int i = 0; i < 50; i++) {
    std::string v;
    Status g = db->Get(ReadOptions(), "key" + std::to_string(i), &v);
    ASSERT_TRUE(g.ok()) << "key" << i << ": " << g.ToString();
    EXPECT_EQ(v, "value" + std::to_string(i));
  }
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace db_directory_test
}  // namespace ringdb
