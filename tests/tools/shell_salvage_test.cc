// The shell's salvage command on a database whose log is damaged in the
// middle: a process writes synced puts and dies without closing, a byte of
// one record is flipped, and then the default open refuses while
// `salvage DB skip|point-in-time FILE` opens it and dumps what is readable.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ringdb/db.h"
#include "shell_commands.h"
#include "shell_options.h"
#include "tests/util/temp_dir.h"

namespace ringdb::shell {
namespace shell_salvage_test {

constexpr int kWrites = 20;
constexpr int kDamaged = 7;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "key%02d", i);
  return buf;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SalvageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    db_path_ = dir_ + "/db";
    // A process that acknowledges synced writes and dies without Close.
    pid_t pid = fork();
    if (pid == 0) {
      Options o;
      o.info_log = [](std::string_view) {};
      std::unique_ptr<DB> db;
      if (!DB::Open(o, db_path_, &db).ok()) _exit(1);
      WriteOptions wo;
      wo.sync = true;
      for (int i = 0; i < kWrites; i++) {
        if (!db->Put(wo, Key(i), std::string(50, 'v')).ok()) _exit(2);
      }
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    // Flip a byte of record kDamaged's value in the newest log segment.
    std::string segment;
    for (const auto& e : std::filesystem::directory_iterator(db_path_)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("wal-", 0) == 0 && e.path().string() > segment) segment = e.path().string();
    }
    std::string log = ReadFile(segment);
    const size_t at = log.find(Key(kDamaged));
    ASSERT_NE(at, std::string::npos);
    log[at + Key(kDamaged).size() + 10] ^= 1;
    std::ofstream(segment, std::ios::binary | std::ios::trunc) << log;
  }

  // Runs the command words with no database open (as the one-shot shell
  // does for a command that needs none); returns its stdout.
  std::string Run(const std::vector<std::string>& words, CommandResult* r) {
    std::vector<Arg> args;
    for (const std::string& w : words) args.push_back(Arg{w, false});
    char* buf = nullptr;
    size_t len = 0;
    FILE* out = open_memstream(&buf, &len);
    ShellContext ctx;
    ctx.out = out;
    *r = RunCommand(&ctx, args);
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    return text;
  }

  test::TempDir tmp_{"salvage"};
  std::string dir_;
  std::string db_path_;
};

TEST_F(SalvageTest, DefaultOpenRefusesSalvageDumpsWhatIsReadable) {
  Options o;
  o.info_log = [](std::string_view) {};
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, db_path_, &db);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("ringdb salvage DB"), std::string::npos) << s.ToString();

  // Point in time keeps the writes before the damaged one. Opening repairs
  // the database, so work on a copy.
  const std::string copy = dir_ + "/copy";
  std::filesystem::copy(db_path_, copy, std::filesystem::copy_options::recursive);
  CommandResult r;
  EXPECT_EQ(Run({"salvage", copy, "point-in-time", dir_ + "/pit.tsv"}, &r),
            "OK " + std::to_string(kDamaged) + "\n");
  EXPECT_FALSE(r.failed()) << r.message;
  EXPECT_EQ(ReadFile(dir_ + "/pit.tsv").find(Key(kDamaged)), std::string::npos);

  // Skip keeps every write but the damaged one; to stdout without FILE.
  std::string dump = Run({"salvage", db_path_, "skip"}, &r);
  EXPECT_FALSE(r.failed()) << r.message;
  for (int i = 0; i < kWrites; i++) {
    EXPECT_EQ(dump.find(Key(i) + "\t") != std::string::npos, i != kDamaged) << i;
  }
  // Repaired: the default open works now.
  s = DB::Open(o, db_path_, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SalvageTest, UsageAndParsing) {
  CommandResult r;
  Run({"salvage", db_path_, "whatever"}, &r);
  EXPECT_EQ(r.kind, CommandResult::Kind::kUsage);
  EXPECT_NE(r.message.find("point-in-time or skip"), std::string::npos) << r.message;
  Run({"salvage", dir_ + "/missing", "skip"}, &r);
  EXPECT_EQ(r.kind, CommandResult::Kind::kError);
  // `ringdb salvage DB skip FILE`: salvage is the command, not the path.
  const char* argv[] = {"ringdb", "salvage", "x", "skip", "f"};
  ShellOptions so;
  std::string error;
  ASSERT_EQ(ParseShellArgs(5, const_cast<char* const*>(argv),
                           [](std::string_view n) { return FindCommand(n) != nullptr; },
                           [](const std::string&) { return false; }, &so, &error),
            ParseOutcome::kRun)
      << error;
  ASSERT_EQ(so.command.size(), 4u);
  EXPECT_EQ(so.command[0], "salvage");
  EXPECT_FALSE(FindCommand("salvage")->needs_db);
}

}  // namespace shell_salvage_test
}  // namespace ringdb::shell
