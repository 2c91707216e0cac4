// Checkpoints that fail without a crash (a page flush, the page map or the
// superblock write fails): the checkpoint reports the error, the previous
// checkpoint stays the valid one, writes go on (the log now spans several
// segments), a later checkpoint succeeds, and a power cut at any point
// after that loses no write acknowledged with sync. Each write of a clean
// checkpoint is failed in turn, so the page store's give-back and rollback
// paths all run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "engine/db_impl.h"
#include "io/fault_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_checkpoint_fault_test {

namespace fs = std::filesystem;

class CheckpointFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 32 * 4096;
    options_.checkpoint_log_bytes = 1ull << 40;  // only explicit checkpoints
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
  }

  // Writes `n` synced puts numbered from *next, recording the acknowledged
  // ones in model_. False when a put was refused.
  bool Write(DB* db, int n, int* next) {
    WriteOptions sync;
    sync.sync = true;
    for (int i = 0; i < n; i++, (*next)++) {
      std::string k = "key" + std::to_string(*next % 400);
      std::string v = std::string(60 + *next % 200, static_cast<char>('a' + *next % 26)) +
                      std::to_string(*next);
      if (!db->Put(sync, k, v).ok()) return false;
      model_[k] = v;
    }
    return true;
  }

  // Runs the scenario with the nth write of the first checkpoint failing;
  // returns whether that checkpoint failed.
  bool Run(uint64_t nth) {
    fs::remove_all(dir_);
    model_.clear();
    auto backend = std::make_shared<io::FaultBackend>(io::NewPreadBackend());
    std::unique_ptr<DB> db;
    EXPECT_TRUE(OpenWithBackend(options_, dir_, backend, &db).ok());
    backend->TrackUnsynced(true);
    int next = 0;
    EXPECT_TRUE(Write(db.get(), 300, &next));
    backend->Arm(io::Fault{io::FaultOp::kWrite, nth, io::FaultKind::kEio});
    Status first = db->Checkpoint();
    bool failed = !first.ok();
    backend->Disarm();
    // A failure while starting the new log segment leaves no log to append
    // to: writes are refused until reopen (and nothing is lost). Any other
    // failed checkpoint leaves the database writable.
    bool log_lost = failed && first.ToString().find("log segment") != std::string::npos;
    if (Write(db.get(), 200, &next)) {  // into the segment the failed checkpoint started
      EXPECT_FALSE(log_lost) << "nth " << nth;
      backend->Arm(io::Fault{io::FaultOp::kSync, 1, io::FaultKind::kEnospc});
      Status second = db->Checkpoint();
      backend->Disarm();
      bool more = Write(db.get(), 200, &next);
      if (!second.ok() && more) {
        Status third = db->Checkpoint();
        EXPECT_TRUE(third.ok()) << "nth " << nth << ": a checkpoint after failed ones: "
                                << third.ToString();
        EXPECT_TRUE(Write(db.get(), 100, &next));
      }
    } else {
      EXPECT_TRUE(log_lost) << "nth " << nth << ": writes refused after " << first.ToString();
    }
    // The machine dies; unsynced data is dropped.
    backend->Arm(io::Fault{io::FaultOp::kWrite, 1, io::FaultKind::kEio, 0, true});
    db.reset();
    Status cut = backend->PowerCut(nth, true);
    EXPECT_TRUE(cut.ok()) << cut.ToString();
    backend->Disarm();
    backend->TrackUnsynced(false);
    Status o = OpenWithBackend(options_, dir_, backend, &db);
    EXPECT_TRUE(o.ok()) << "nth " << nth << ": reopen: " << o.ToString();
    if (!o.ok()) return failed;
    std::map<std::string, std::string> got;
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) got[std::string(it->key())] = it->value();
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    it.reset();
    EXPECT_TRUE(got == model_) << "nth " << nth << ": recovered " << got.size() << " keys, want "
                               << model_.size();
    std::string report;
    EXPECT_TRUE(db->Verify(&report).ok()) << "nth " << nth << ": " << report;
    EXPECT_TRUE(db->Close().ok());
    return failed;
  }

  test::TempDir tmp_{"ckptfault"};
  std::string dir_;
  Options options_;
  std::map<std::string, std::string> model_;
};

TEST_F(CheckpointFaultTest, EveryFailedCheckpointWriteIsSurvived) {
  int failures = 0;
  uint64_t nth = 1;
  // Until the armed write falls beyond the checkpoint (it then succeeds).
  for (; nth < 400 && !HasFatalFailure(); nth++) {
    if (!Run(nth)) break;
    failures++;
  }
  std::printf("checkpoint writes failed in turn: %d (the checkpoint had %llu writes)\n", failures,
              static_cast<unsigned long long>(nth - 1));
  EXPECT_GT(failures, 3) << "the fault never hit the checkpoint's page, map and superblock writes";
}

}  // namespace db_checkpoint_fault_test
}  // namespace ringdb
