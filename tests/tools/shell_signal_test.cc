// The shell's signals, end to end through the built `ringdb` binary: a
// closed output (SIGPIPE ignored) is reported as an error, and SIGTERM,
// SIGHUP and a non-interactive SIGINT close the database cleanly before the
// shell dies of the signal. "Cleanly" is checked on the files: the writes
// are there and the next open replays no log record (a clean close
// checkpoints, so the log is empty).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "ringdb/db.h"
#include "ringdb/options.h"
#include "subprocess_util.h"
#include "tests/util/temp_dir.h"

namespace ringdb::shell {
namespace shell_signal_test {

using testing::Child;
using testing::ProcessResult;
using testing::RunProcess;

const std::string kShell = RINGDB_SHELL_PATH;
constexpr int kPatienceMs = 60000;  // Bounds a failure only.

class ShellSignalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    db_ = dir_ + "/db";
  }

  // Opens the database in this process: how many log records the open
  // replayed, and the value of `key` ("(nil)" when missing).
  void Reopen(const std::string& key, uint64_t* replayed, std::string* value) {
    std::unique_ptr<DB> db;
    Options options;
    ASSERT_TRUE(DB::Open(options, db_, &db).ok());
    std::string n;
    ASSERT_TRUE(db->GetProperty("ringdb.recovered_records", &n));
    *replayed = std::stoull(n);
    Status s = db->Get(ReadOptions(), key, value);
    if (s.IsNotFound()) *value = "(nil)";
    ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
    ASSERT_TRUE(db->Close().ok());
  }

  // A batch shell that has applied a non-sync put of k=v and is now
  // waiting for more input.
  std::unique_ptr<Child> WaitingBatchShell() {
    auto child = std::make_unique<Child>(std::vector<std::string>{kShell, db_});
    EXPECT_TRUE(child->Write("put k v\nget k\n"));
    std::string line;
    EXPECT_TRUE(child->ReadLine(&line, kPatienceMs));
    EXPECT_EQ(line, "OK");
    EXPECT_TRUE(child->ReadLine(&line, kPatienceMs));
    EXPECT_EQ(line, "v");
    return child;
  }

  void ExpectStoppedCleanlyBy(int sig) {
    std::unique_ptr<Child> child = WaitingBatchShell();
    child->Kill(sig);
    ProcessResult r = child->Wait();
    EXPECT_EQ(r.term_signal, sig) << "exit " << r.exit_code << ": " << r.err;
    EXPECT_NE(r.err.find("database closed cleanly"), std::string::npos) << r.err;
    uint64_t replayed = 0;
    std::string value;
    Reopen("k", &replayed, &value);
    EXPECT_EQ(value, "v");
    EXPECT_EQ(replayed, 0u) << "the log was not checkpointed: no clean close";
  }

  test::TempDir tmp_{"shell_sig"};
  std::string dir_;
  std::string db_;
};

TEST_F(ShellSignalTest, SigtermClosesTheDatabaseCleanly) { ExpectStoppedCleanlyBy(SIGTERM); }

TEST_F(ShellSignalTest, SighupClosesTheDatabaseCleanly) { ExpectStoppedCleanlyBy(SIGHUP); }

TEST_F(ShellSignalTest, SigintOutsideThePromptClosesTheDatabaseCleanly) {
  ExpectStoppedCleanlyBy(SIGINT);
}

// `ringdb db scan | head -1`: the scan stops with a write error, the exit
// status says it failed, and the shell is not killed by SIGPIPE.
TEST_F(ShellSignalTest, ClosedOutputOfAScanIsAnError) {
  {
    std::ofstream out(dir_ + "/in.tsv");
    for (int i = 0; i < 20000; ++i) {
      out << "key" << 100000 + i << "\t" << std::string(40, 'v') << "\n";
    }
  }
  ProcessResult load = RunProcess({kShell, db_, "load", dir_ + "/in.tsv"}, "");
  ASSERT_EQ(load.exit_code, 0) << load.err;
  Child child({kShell, db_, "scan"});
  std::string line;
  ASSERT_TRUE(child.ReadLine(&line, kPatienceMs));
  EXPECT_EQ(line, "key100000\t" + std::string(40, 'v'));
  child.CloseStdout();
  ProcessResult r = child.Wait();
  EXPECT_EQ(r.term_signal, 0) << "killed by signal " << r.term_signal;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: writing output"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Broken pipe"), std::string::npos) << r.err;
}

// A batch whose reader went away: the first flush fails, the shell stops
// with an error and closes the database cleanly (the put it applied is on
// disk and the next open replays nothing).
TEST_F(ShellSignalTest, ClosedOutputInABatchClosesTheDatabaseCleanly) {
  Child child({kShell, db_});
  child.CloseStdout();
  ASSERT_TRUE(child.Write("put k v\n"));
  ProcessResult r = child.Wait();  // Closes stdin: end of input.
  EXPECT_EQ(r.term_signal, 0) << "killed by signal " << r.term_signal;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Broken pipe"), std::string::npos) << r.err;
  uint64_t replayed = 0;
  std::string value;
  Reopen("k", &replayed, &value);
  EXPECT_EQ(value, "v");
  EXPECT_EQ(replayed, 0u);
}

}  // namespace shell_signal_test
}  // namespace ringdb::shell
