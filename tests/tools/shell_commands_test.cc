// Tests of the shell's commands against MapDB (a std::map model of DB), so
// they run without the engine.
#include "shell_commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "map_db.h"

namespace ringdb::shell {
namespace {

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_.db = &db_;
    char tmpl[] = "/tmp/ringdb_shell_cmd_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `line` and returns its stdout; *result receives the outcome.
  std::string Run(std::string_view line, CommandResult* result = nullptr) {
    std::vector<Arg> args;
    std::string error;
    EXPECT_TRUE(ParseLine(line, &args, &error)) << error;
    char* buf = nullptr;
    size_t len = 0;
    FILE* out = open_memstream(&buf, &len);
    ctx_.out = out;
    CommandResult r = RunCommand(&ctx_, args);
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    if (result != nullptr) *result = r;
    return text;
  }

  CommandResult::Kind KindOf(std::string_view line) {
    CommandResult r;
    Run(line, &r);
    return r.kind;
  }

  MapDB db_;
  ShellContext ctx_;
  std::string dir_;
};

using Kind = CommandResult::Kind;

TEST_F(CommandsTest, PutGetDel) {
  EXPECT_EQ(Run("put k v"), "OK\n");
  EXPECT_EQ(Run("get k"), "v\n");
  EXPECT_EQ(Run("del k"), "OK\n");
  CommandResult r;
  EXPECT_EQ(Run("get k", &r), "(nil)\n");
  EXPECT_EQ(r.kind, Kind::kMissing);
  EXPECT_EQ(Run("del k"), "OK\n");  // Missing is fine.
}

TEST_F(CommandsTest, BinaryValuesComeOutQuoted) {
  EXPECT_EQ(Run(R"(put "k\x00" "a\tb\n")"), "OK\n");
  EXPECT_EQ(db_.data.at(std::string("k\0", 2)), "a\tb\n");
  EXPECT_EQ(Run(R"(get "k\0")"), "\"a\\tb\\n\"\n");
}

TEST_F(CommandsTest, SyncFlagReachesTheDB) {
  ctx_.write_options.sync = true;
  Run("put a 1");
  Run("del a");
  EXPECT_EQ(db_.syncs, 2);
}

TEST_F(CommandsTest, Mget) {
  Run("put a 1");
  Run("put c 3");
  EXPECT_EQ(Run("mget a b c"), "1\n(nil)\n3\n");
}

TEST_F(CommandsTest, UsageErrors) {
  CommandResult r;
  Run("put k", &r);
  EXPECT_EQ(r.kind, Kind::kUsage);
  EXPECT_NE(r.message.find("usage: put KEY VALUE"), std::string::npos);
  Run("frob", &r);
  EXPECT_EQ(r.kind, Kind::kUsage);
  EXPECT_NE(r.message.find("unknown command frob"), std::string::npos);
  EXPECT_EQ(KindOf("get"), Kind::kUsage);
  EXPECT_EQ(KindOf("mget"), Kind::kUsage);
  EXPECT_EQ(KindOf("count a b c"), Kind::kUsage);
  EXPECT_EQ(KindOf("scan a b c"), Kind::kUsage);
  EXPECT_EQ(KindOf("scan --limit"), Kind::kUsage);
  EXPECT_EQ(KindOf("scan --limit x"), Kind::kUsage);
  EXPECT_EQ(KindOf("scan --limit -1"), Kind::kUsage);
  EXPECT_EQ(KindOf("scan --bogus"), Kind::kUsage);
  EXPECT_EQ(KindOf("stats x"), Kind::kUsage);
}

TEST_F(CommandsTest, EngineErrorsAreReported) {
  db_.put_error = Status::NoSpace("/db/data: No space left on device");
  CommandResult r;
  EXPECT_EQ(Run("put k v", &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("No space left on device"), std::string::npos) << r.message;
  // A huge key is cut short in the message.
  Run("put " + std::string(5000, 'k') + " v", &r);
  EXPECT_NE(r.message.find("... (5000 bytes)"), std::string::npos) << r.message;
  EXPECT_LT(r.message.size(), 200u);
  db_.get_error = Status::IOError("pread /db/data: Input/output error");
  EXPECT_EQ(Run("get k", &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(Run("mget k", &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
}

class ScanTest : public CommandsTest {
 protected:
  void SetUp() override {
    CommandsTest::SetUp();
    for (const char* k : {"a", "b", "c", "d", "e"}) db_.data[k] = std::string(k) + "v";
  }
};

TEST_F(ScanTest, Ranges) {
  EXPECT_EQ(Run("scan"), "a\tav\nb\tbv\nc\tcv\nd\tdv\ne\tev\n");
  EXPECT_EQ(Run("scan b"), "b\tbv\nc\tcv\nd\tdv\ne\tev\n");
  EXPECT_EQ(Run("scan b d"), "b\tbv\nc\tcv\n");
  EXPECT_EQ(Run("scan bb d"), "c\tcv\n");
  EXPECT_EQ(Run("scan d b"), "");
  EXPECT_EQ(Run("scan \"\" c"), "a\tav\nb\tbv\n");
}

TEST_F(ScanTest, LimitAndReverse) {
  EXPECT_EQ(Run("scan --limit 2"), "a\tav\nb\tbv\n");
  EXPECT_EQ(Run("scan --limit 0"), "");
  EXPECT_EQ(Run("scan --reverse"), "e\tev\nd\tdv\nc\tcv\nb\tbv\na\tav\n");
  EXPECT_EQ(Run("scan b d --reverse"), "c\tcv\nb\tbv\n");
  EXPECT_EQ(Run("scan b dd --reverse"), "d\tdv\nc\tcv\nb\tbv\n");
  EXPECT_EQ(Run("scan --reverse --limit 2 b"), "e\tev\nd\tdv\n");
  EXPECT_EQ(Run("scan c --limit 1 --reverse"), "e\tev\n");
  EXPECT_EQ(Run("scan \"\" a --reverse"), "");
}

TEST_F(ScanTest, QuotedOrAfterDoubleDashIsAKey) {
  db_.data["--reverse"] = "x";
  EXPECT_EQ(Run("scan \"--reverse\" a"), "--reverse\tx\n");
  EXPECT_EQ(Run("scan -- --reverse a"), "--reverse\tx\n");
}

TEST_F(ScanTest, Count) {
  EXPECT_EQ(Run("count"), "5\n");
  EXPECT_EQ(Run("count c"), "3\n");
  EXPECT_EQ(Run("count b d"), "2\n");
  EXPECT_EQ(Run("count x"), "0\n");
}

TEST_F(CommandsTest, StatsCheckpointVerify) {
  EXPECT_EQ(Run("stats"), "pool hits 1\npool misses 2\n");
  EXPECT_EQ(Run("checkpoint"), "OK\n");
  EXPECT_EQ(Run("verify"), "OK\n");
  db_.verify_report = "page 7: checksum mismatch\npage 9: keys out of order";
  CommandResult r;
  EXPECT_EQ(Run("verify", &r), "page 7: checksum mismatch\npage 9: keys out of order\n");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("bad pages"), std::string::npos) << r.message;
}

TEST_F(CommandsTest, HelpListsEveryCommand) {
  const std::string help = Run("help");
  for (const CommandSpec& spec : Commands()) {
    EXPECT_NE(help.find(spec.name), std::string::npos) << spec.name;
  }
  EXPECT_EQ(KindOf("quit"), Kind::kExit);
  EXPECT_EQ(KindOf("exit"), Kind::kExit);
}

TEST_F(CommandsTest, DumpLoadRoundTripOfArbitraryBytes) {
  std::mt19937 rng(42);
  std::map<std::string, std::string> want;
  for (int i = 0; i < 3000; ++i) {
    std::string k, v;
    for (size_t j = 1 + rng() % 10; j > 0; --j) k.push_back(static_cast<char>(rng() % 256));
    for (size_t j = rng() % 30; j > 0; --j) v.push_back(static_cast<char>(rng() % 256));
    want[k] = v;
  }
  want["plain key"] = "plain value with spaces";
  db_.data = want;
  const std::string file = dir_ + "/dump.tsv";
  EXPECT_EQ(Run("dump " + FormatBytes(file)), "OK " + std::to_string(want.size()) + "\n");

  MapDB fresh;
  ctx_.db = &fresh;
  EXPECT_EQ(Run("load " + FormatBytes(file)), "OK " + std::to_string(want.size()) + "\n");
  EXPECT_TRUE(fresh.data == want);
  // Loaded in batches, not one write per pair.
  EXPECT_LT(fresh.writes, 10);

  // Dump to stdout gives the same text as the file.
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(Run("dump"), text);
}

TEST_F(CommandsTest, LoadReportsTheBadLine) {
  const std::string file = dir_ + "/bad.tsv";
  {
    std::ofstream out(file);
    out << "a\t1\r\n\nb\t\"2\"\n\"c\\q\"\t3\nd\t4\n";
  }
  CommandResult r;
  EXPECT_EQ(Run("load " + file, &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("line 4: bad escape \\q"), std::string::npos) << r.message;
  EXPECT_EQ(db_.data.count("d"), 0u);

  Run("load " + dir_ + "/missing.tsv", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("No such file or directory"), std::string::npos) << r.message;
  Run("load " + dir_, &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("is a directory"), std::string::npos) << r.message;
}

TEST_F(CommandsTest, LoadStripsCarriageReturns) {
  const std::string file = dir_ + "/crlf.tsv";
  {
    std::ofstream out(file);
    out << "a\t1\r\nb\t\"2\"\r\n";
  }
  EXPECT_EQ(Run("load " + file), "OK 2\n");
  EXPECT_EQ(db_.data["a"], "1");
  EXPECT_EQ(db_.data["b"], "2");
}

TEST_F(CommandsTest, LoadWriteErrorIsReported) {
  const std::string file = dir_ + "/ok.tsv";
  {
    std::ofstream out(file);
    out << "a\t1\n";
  }
  db_.put_error = Status::NoSpace("disk full");
  CommandResult r;
  Run("load " + file, &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("disk full"), std::string::npos) << r.message;
}

TEST_F(CommandsTest, DumpToUnwritablePathFails) {
  CommandResult r;
  Run("dump " + dir_ + "/no/such/dir/x", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("cannot create"), std::string::npos) << r.message;
}

TEST_F(CommandsTest, DumpToFullDiskFails) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  db_.data["k"] = std::string(100000, 'x');
  CommandResult r;
  Run("dump /dev/full", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("No space left on device"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace ringdb::shell
