// End-to-end tests of the built `ringdb` binary through pipes: one-shot exit
// statuses, batch mode, dump/load, scans, locking, bad paths and a kill -9
// during a --sync stream of puts. Needs the engine (a real database).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "shell_quote.h"
#include "subprocess_util.h"
#include "tests/util/temp_dir.h"

namespace ringdb::shell {
namespace shell_e2e_test {

using testing::Child;
using testing::ProcessResult;
using testing::RunProcess;
using testing::SpawnOptions;

const std::string kShell = RINGDB_SHELL_PATH;

// `bytes` as one argument on a command line.
std::string Arg(std::string_view bytes) { return FormatBytes(bytes); }

class ShellE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    db_ = dir_ + "/db";
  }

  // ringdb [flags...] DB words...
  ProcessResult Shell(std::vector<std::string> words, const std::string& input = "",
                      std::vector<std::string> flags = {}) {
    std::vector<std::string> argv{kShell};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(db_);
    argv.insert(argv.end(), words.begin(), words.end());
    // The C locale: non-ASCII bytes print as \xHH escapes.
    SpawnOptions options;
    options.env["LC_ALL"] = "C";
    return RunProcess(argv, input, options);
  }

  test::TempDir tmp_{"shell_e2e"};
  std::string dir_;
  std::string db_;
};

TEST_F(ShellE2eTest, OneShotExitStatuses) {
  ProcessResult r = Shell({"put", "k", "hello world"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n");
  r = Shell({"get", "k"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "\"hello world\"\n");
  r = Shell({"get", "missing"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "(nil)\n");
  r = Shell({"frob"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: unknown command frob (type help for the list)\n");
  r = Shell({"get"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("wrong number of arguments for get"), std::string::npos) << r.err;
  r = Shell({"scan", "--limit", "x"});
  EXPECT_EQ(r.exit_code, 2);
  r = Shell({"get", "k"}, "", {"--pool", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: bad --pool size 'lots'"), std::string::npos) << r.err;
  r = Shell({"get", "k"}, "", {"--policy", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown --policy"), std::string::npos) << r.err;
  r = Shell({"get", "k"}, "", {"--pool", "8MiB", "--policy", "lru"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunProcess({kShell, "--bogus"}, "");
  EXPECT_EQ(r.exit_code, 2);
  r = RunProcess({kShell, "--help"}, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: ringdb"), std::string::npos);
  EXPECT_NE(r.out.find("checkpoint"), std::string::npos);
  r = RunProcess({kShell, "--version"}, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("ringdb ", 0), 0u) << r.out;
}

TEST_F(ShellE2eTest, BackupAndCompact) {
  std::string input;
  for (int i = 0; i < 3000; i++) input += "put key" + std::to_string(i) + " " + std::string(300, 'v') + "\n";
  for (int i = 0; i < 3000; i++) {
    if (i % 10 != 0) input += "del key" + std::to_string(i) + "\n";
  }
  input += "checkpoint\ncompact\nbackup " + dir_ + "/copy\n";
  ProcessResult r = Shell({}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t at = r.out.find("OK data file ");
  ASSERT_NE(at, std::string::npos) << r.out;
  unsigned long long before = 0, after = 0;
  ASSERT_EQ(std::sscanf(r.out.c_str() + at, "OK data file %llu -> %llu", &before, &after), 2);
  EXPECT_LE(after, before) << r.out;
  EXPECT_GT(after, 0u) << r.out;
  EXPECT_NE(r.out.find("files (copy_file_range"), std::string::npos) << r.out;
  ProcessResult copy = RunProcess({kShell, "--no-create", dir_ + "/copy", "count"}, "");
  EXPECT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_EQ(copy.out, "300\n");
  r = Shell({"backup", dir_ + "/copy"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already holds a database"), std::string::npos) << r.err;
  r = Shell({"checkpoint"}, "", {"--readonly"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
  r = Shell({"compact"}, "", {"--readonly"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
}

TEST_F(ShellE2eTest, CountAndScanTakeOptionsNotKeys) {
  ProcessResult r = Shell({}, "put a1 x\nput a2 y\nput b1 z\nput \"--limit\" q\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Shell({"count", "--limit", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n");
  r = Shell({"count", "k1", "--limit"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--limit needs a value"), std::string::npos) << r.err;
  r = Shell({"count", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos) << r.err;
  r = Shell({"count", "--prefix", "a"});
  EXPECT_EQ(r.out, "2\n") << r.err;
  r = Shell({"scan", "--prefix", "a", "--reverse"});
  EXPECT_EQ(r.out, "a2\ty\na1\tx\n") << r.err;
  r = Shell({}, "count -- --limit\n");  // after --, a key
  EXPECT_EQ(r.out, "4\n") << r.err;
  r = Shell({"count", "--prefix", "a", "b"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(ShellE2eTest, UnknownCommandDoesNotCreateTheDatabase) {
  ProcessResult r = Shell({"frob"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(ShellE2eTest, BatchModeWithErrors) {
  ProcessResult r = Shell({}, "# comment\nput a 1\n\nbogus\nget a\nget nope\nput \"x\ndel a\nget a\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "OK\n1\n(nil)\n1\n(nil)\n");
  EXPECT_EQ(r.err,
            "error: line 4: unknown command bogus (type help for the list)\n"
            "error: line 7: unterminated quote at column 5\n");
}

TEST_F(ShellE2eTest, BatchModeSuccessHasNoBanner) {
  ProcessResult r = Shell({}, "put a 1\nget a\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n1\n");
}

TEST_F(ShellE2eTest, Bail) {
  ProcessResult r = Shell({}, "put a 1\nbogus\nput b 2\n", {"--bail"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "OK\n");
  r = Shell({"get", "b"});
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(ShellE2eTest, DumpLoadRoundTripOfArbitraryBytes) {
  std::mt19937 rng(2026);
  std::map<std::string, std::string> want;
  std::string script;
  for (int i = 0; i < 2000; ++i) {
    std::string k, v;
    for (size_t j = 1 + rng() % 16; j > 0; --j) k.push_back(static_cast<char>(rng() % 256));
    for (size_t j = rng() % 40; j > 0; --j) v.push_back(static_cast<char>(rng() % 256));
    want[k] = v;
    script += "put " + Arg(k) + " " + Arg(v) + "\n";
  }
  for (int b = 0; b < 256; ++b) {
    const std::string k = "byte" + std::string(1, static_cast<char>(b));
    want[k] = std::string(1, static_cast<char>(b));
    script += "put " + Arg(k) + " " + Arg(want[k]) + "\n";
  }
  want["spaced key"] = "a value with spaces";
  script += "put \"spaced key\" \"a value with spaces\"\n";
  ProcessResult r = Shell({}, script);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string file = dir_ + "/dump.tsv";
  r = Shell({"dump", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK " + std::to_string(want.size()) + "\n");

  std::string expected_dump;
  for (const auto& [k, v] : want) expected_dump += FormatDumpLine(k, v) + "\n";
  r = Shell({"dump"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == expected_dump);

  db_ = dir_ + "/fresh";
  r = Shell({"load", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK " + std::to_string(want.size()) + "\n");
  r = Shell({"dump"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == expected_dump);
  r = Shell({"count"});
  EXPECT_EQ(r.out, std::to_string(want.size()) + "\n");
  r = Shell({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n");
}

TEST_F(ShellE2eTest, ScanAndCount) {
  std::string script;
  for (char c = 'a'; c <= 'j'; ++c) script += std::string("put ") + c + " v" + c + "\n";
  ASSERT_EQ(Shell({}, script).exit_code, 0);
  EXPECT_EQ(Shell({"scan", "c", "f"}).out, "c\tvc\nd\tvd\ne\tve\n");
  EXPECT_EQ(Shell({"scan", "c", "f", "--reverse"}).out, "e\tve\nd\tvd\nc\tvc\n");
  EXPECT_EQ(Shell({"scan", "--limit", "2"}).out, "a\tva\nb\tvb\n");
  EXPECT_EQ(Shell({"scan", "--reverse", "--limit", "2"}).out, "j\tvj\ni\tvi\n");
  EXPECT_EQ(Shell({"scan", "h"}).out, "h\tvh\ni\tvi\nj\tvj\n");
  EXPECT_EQ(Shell({"count"}).out, "10\n");
  EXPECT_EQ(Shell({"count", "c", "f"}).out, "3\n");
  EXPECT_EQ(Shell({"count", "x"}).out, "0\n");
  EXPECT_EQ(Shell({"mget", "a", "zz", "j"}).out, "va\n(nil)\nvj\n");
  ProcessResult r = Shell({"stats"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_EQ(Shell({"checkpoint"}).out, "OK\n");
}

TEST_F(ShellE2eTest, SecondProcessGetsALockError) {
  ASSERT_EQ(Shell({"put", "a", "1"}).exit_code, 0);
  Child holder({kShell, db_});  // Batch mode, waiting on its stdin.
  ASSERT_TRUE(holder.Write("get a\n"));
  std::string line;
  ASSERT_TRUE(holder.ReadLine(&line, 20000));  // It has the database open.
  EXPECT_EQ(line, "1");
  ProcessResult r = Shell({"get", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("error: cannot open " + db_ + ": ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  ProcessResult h = holder.Wait();
  EXPECT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(Shell({"get", "a"}).exit_code, 0);
}

// Two processes: a writing shell holds the database; `--readonly` opens
// beside it, reads the writer's last checkpoint, says so, and refuses
// writes; after the writer checkpoints again, a new reader sees more.
TEST_F(ShellE2eTest, ReadOnlyBesideAWritingProcessSeesItsLastCheckpoint) {
  Child writer({kShell, "--sync", db_});
  std::string line;
  ASSERT_TRUE(writer.Write("put a 1\ncheckpoint\nput b 2\n"));
  for (const char* want : {"OK", "OK", "OK"}) {
    ASSERT_TRUE(writer.ReadLine(&line, 20000));
    ASSERT_EQ(line, want);
  }
  ProcessResult r = Shell({"--readonly", "get", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
  EXPECT_NE(r.err.find(db_ + " is open for writing by process " + std::to_string(writer.pid()) +
                       " (ringdb): this read-only handle sees its last checkpoint"),
            std::string::npos)
      << r.err;
  r = Shell({"--readonly", "get", "b"});  // Logged, not checkpointed.
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "(nil)\n");
  r = Shell({"--readonly", "put", "c", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
  // A second writer is told who holds the database.
  r = Shell({"put", "c", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("locked by process " + std::to_string(writer.pid()) + " (ringdb)"),
            std::string::npos)
      << r.err;
  // A reader that stays open keeps its view while the writer goes on.
  Child reader({kShell, "--readonly", db_});
  ASSERT_TRUE(reader.Write("get a\n"));
  ASSERT_TRUE(reader.ReadLine(&line, 20000));
  EXPECT_EQ(line, "1");
  std::string script;
  for (int i = 0; i < 2000; ++i) script += "put a " + std::to_string(i) + std::string(200, 'x') + "\n";
  script += "checkpoint\ndel a\ncheckpoint\ncompact\n";
  ASSERT_TRUE(writer.Write(script));
  for (int i = 0; i < 2000 + 4; ++i) ASSERT_TRUE(writer.ReadLine(&line, 20000));
  ASSERT_TRUE(reader.Write("get a\nverify\ncount\n"));
  for (const char* want : {"1", "OK", "1"}) {
    ASSERT_TRUE(reader.ReadLine(&line, 20000));
    EXPECT_EQ(line, want);
  }
  reader.CloseStdin();
  EXPECT_EQ(reader.Wait().exit_code, 0);
  r = Shell({"--readonly", "get", "b"});  // Checkpointed since.
  EXPECT_EQ(r.out, "2\n");
  writer.CloseStdin();
  ProcessResult w = writer.Wait();
  EXPECT_EQ(w.exit_code, 0) << w.err;
  // Without a writer, --readonly says nothing about checkpoints.
  r = Shell({"--readonly", "get", "b"});
  EXPECT_EQ(r.out, "2\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(ShellE2eTest, FileIsNotADatabase) {
  {
    std::ofstream f(db_);
    f << "just some text\n";
  }
  ProcessResult r = Shell({"get", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: " + db_ +
                       " is not a ringdb database (a database is a directory; "
                       "this is a file)\n");
}

TEST_F(ShellE2eTest, DirectoryWithJunkIsAnError) {
  std::filesystem::create_directory(db_);
  for (const char* name : {"data", "wal", "superblock", "ringdb.data", "LOG", "CURRENT"}) {
    std::ofstream f(db_ + "/" + name);
    f << std::string(10000, 'z');
  }
  ProcessResult r = Shell({"count"});
  // Whatever the engine decides this directory is, the shell must not crash
  // and must report at most one error line.
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << r.err;
  EXPECT_EQ(r.term_signal, 0);
  if (r.exit_code == 1) {
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
}

TEST_F(ShellE2eTest, NoCreateAndReadOnly) {
  ProcessResult r = Shell({"get", "a"}, "", {"--no-create"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db_));
  ASSERT_EQ(Shell({"put", "a", "1"}).exit_code, 0);
  r = Shell({"put", "b", "2"}, "", {"--readonly"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: put b: ", 0), 0u) << r.err;
  r = Shell({"get", "a"}, "", {"--readonly"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
}

TEST_F(ShellE2eTest, DefaultPathAndCommandNameAmbiguity) {
  SpawnOptions in_dir;
  in_dir.cwd = dir_;
  ProcessResult r = RunProcess({kShell, "put", "k", "v"}, "", in_dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/ringdb.db"));
  r = RunProcess({kShell, "get", "k"}, "", in_dir);
  EXPECT_EQ(r.out, "v\n");
  // A database named like a command wins once it exists.
  r = RunProcess({kShell, "./get", "put", "x", "1"}, "", in_dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunProcess({kShell, "get", "get", "x"}, "", in_dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
}

TEST_F(ShellE2eTest, LoadFromAFileWithErrors) {
  const std::string file = dir_ + "/in.tsv";
  {
    std::ofstream f(file);
    f << "a\t1\nb\t\"\\x4\"\n";
  }
  ProcessResult r = Shell({"load", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2: bad escape \\x"), std::string::npos) << r.err;
  r = Shell({"load", dir_ + "/nope.tsv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

// Kills a --sync batch shell in the middle of a stream of puts; every put
// it acknowledged with OK must be in the database after reopening.
TEST_F(ShellE2eTest, KillDuringSyncPutsKeepsAcknowledgedWrites) {
  Child child({kShell, "--sync", db_});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 1000000 && !stop; ++i) {
      if (!child.Write("put key" + std::to_string(i) + " value" + std::to_string(i) + "\n")) break;
    }
  });
  int acked = 0;
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (acked < 300 && std::chrono::steady_clock::now() < deadline &&
         child.ReadLine(&line, 5000)) {
    ASSERT_EQ(line, "OK");
    ++acked;
  }
  child.Kill(SIGKILL);
  stop = true;
  writer.join();  // Its next write fails once the child is gone.
  ProcessResult killed = child.Wait();
  EXPECT_EQ(killed.term_signal, SIGKILL);
  // Lines that arrived after we stopped counting were acknowledged too.
  size_t pos = 0;
  while ((pos = killed.out.find("OK\n", pos)) != std::string::npos) {
    ++acked;
    pos += 3;
  }
  ASSERT_GT(acked, 0) << killed.err;

  std::string script;
  for (int i = 0; i < acked; ++i) script += "get key" + std::to_string(i) + "\n";
  ProcessResult r = Shell({}, script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (int i = 0; i < acked; ++i) expected += "value" + std::to_string(i) + "\n";
  EXPECT_TRUE(r.out == expected) << "acknowledged " << acked << " puts";
  EXPECT_EQ(Shell({"verify"}).out, "OK\n");
}

}  // namespace shell_e2e_test
}  // namespace ringdb::shell
