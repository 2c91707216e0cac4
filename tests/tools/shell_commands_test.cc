// Tests of the shell's commands against a real DB in a temp directory
// (TempDB). Error paths come from real situations: a read-only or closed
// database, keys and values over the engine's limits, a corrupted page,
// /dev/full, missing and malformed input files.
#include "shell_commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ringdb/write_batch.h"
#include "temp_db.h"

namespace ringdb::shell {
namespace shell_commands_test {

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { ctx_.db = db_.get(); }

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

  // Reopens the database read-only (or writable again).
  void Reopen(bool read_only) {
    db_.Reopen(read_only);
    ctx_.db = db_.get();
  }

  // A scratch directory for dump and load files (beside the database).
  std::string Scratch() const { return db_.dir(); }

  TempDB db_;
  ShellContext ctx_;
};

using Kind = CommandResult::Kind;

TEST_F(CommandsTest, PutGetDel) {
  EXPECT_EQ(Run("put k v"), "OK\n");
  EXPECT_EQ(Run("get k"), "v\n");
  EXPECT_EQ(Run("del k"), "1\n");  // It was there.
  CommandResult r;
  EXPECT_EQ(Run("get k", &r), "(nil)\n");
  EXPECT_EQ(r.kind, Kind::kMissing);
  EXPECT_EQ(Run("del k", &r), "0\n");  // Missing is fine, and says so.
  EXPECT_EQ(r.kind, Kind::kOk);
  // A stored "(nil)" is told from a miss.
  EXPECT_EQ(Run("put k \"(nil)\""), "OK\n");
  EXPECT_EQ(Run("get k", &r), "\"(nil)\"\n");
  EXPECT_EQ(r.kind, Kind::kOk);
}

TEST_F(CommandsTest, BinaryValuesComeOutQuoted) {
  EXPECT_EQ(Run(R"(put "k\x00" "a\tb\n")"), "OK\n");
  EXPECT_EQ(db_.Get(std::string("k\0", 2)), "a\tb\n");
  EXPECT_EQ(Run(R"(get "k\0")"), "\"a\\tb\\n\"\n");
}

// --sync makes every write fdatasync the log: the engine counts the syncs.
TEST_F(CommandsTest, SyncFlagReachesTheDB) {
  const uint64_t before = db_.Property("ringdb.log.syncs");
  Run("put a 1");
  EXPECT_EQ(db_.Property("ringdb.log.syncs"), before);
  ctx_.write_options.sync = true;
  Run("put a 1");
  const uint64_t after_put = db_.Property("ringdb.log.syncs");
  EXPECT_GT(after_put, before);
  Run("del a");
  EXPECT_GT(db_.Property("ringdb.log.syncs"), after_put);
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

TEST_F(CommandsTest, WritesToAReadOnlyDatabaseFail) {
  Run("put k v");
  Reopen(/*read_only=*/true);
  CommandResult r;
  for (const char* line : {"put k w", "del k"}) {
    EXPECT_EQ(Run(line, &r), "") << line;
    EXPECT_EQ(r.kind, Kind::kError) << line;
    EXPECT_NE(r.message.find("Invalid argument: database is open read-only"),
              std::string::npos) << r.message;
  }
  EXPECT_EQ(Run("get k"), "v\n");  // Reads still work.
}

TEST_F(CommandsTest, OversizedKeysAndValuesAreRejected) {
  const std::string long_key(kMaxKeySize + 904, 'k');  // 5000 bytes.
  CommandResult r;
  EXPECT_EQ(Run("put " + long_key + " v", &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("key of 5000 bytes is longer than the limit"), std::string::npos)
      << r.message;
  // The huge key is cut short in the message.
  EXPECT_NE(r.message.find("... (5000 bytes)"), std::string::npos) << r.message;
  EXPECT_LT(r.message.size(), 200u);
  EXPECT_EQ(Run("get " + long_key, &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("Invalid argument"), std::string::npos) << r.message;
  EXPECT_EQ(Run("mget a " + long_key, &r), "");  // Nothing printed for a.
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(Run("del " + long_key, &r), "");
  EXPECT_EQ(r.kind, Kind::kError);

  EXPECT_EQ(Run("put v " + std::string(kMaxValueSize + 1, 'v'), &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("value of " + std::to_string(kMaxValueSize + 1) + " bytes"),
            std::string::npos) << r.message;
  EXPECT_EQ(db_.Contents().size(), 0u);
}

TEST_F(CommandsTest, EveryCommandFailsOnAClosedDatabase) {
  Run("put k v");
  db_.Close();
  const std::string file = Scratch() + "/in.tsv";
  std::ofstream(file) << "a\t1\n";
  const std::vector<std::string> lines = {
      "put k v", "get k", "del k", "mget k", "scan", "count", "checkpoint", "resume",
      "verify", "dump", "dump " + Scratch() + "/out.tsv", "load " + file};
  for (const std::string& line : lines) {
    CommandResult r;
    EXPECT_EQ(Run(line, &r), "") << line;
    EXPECT_EQ(r.kind, Kind::kError) << line;
    EXPECT_NE(r.message.find("Invalid argument: database is closed"), std::string::npos)
        << line << ": " << r.message;
  }
  // Properties of a closed DB are unknown, so stats cannot say more.
  CommandResult r;
  EXPECT_EQ(Run("stats", &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("no ringdb.stats property"), std::string::npos) << r.message;
  EXPECT_EQ(KindOf("help"), Kind::kOk);
}

class ScanTest : public CommandsTest {
 protected:
  void SetUp() override {
    CommandsTest::SetUp();
    for (const char* k : {"a", "b", "c", "d", "e"}) db_.Put(k, std::string(k) + "v");
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
  db_.Put("--reverse", "x");
  EXPECT_EQ(Run("scan \"--reverse\" a"), "\"--reverse\"\tx\n");
  EXPECT_EQ(Run("scan -- --reverse a"), "\"--reverse\"\tx\n");
}

TEST_F(ScanTest, Count) {
  EXPECT_EQ(Run("count"), "5\n");
  EXPECT_EQ(Run("count c"), "3\n");
  EXPECT_EQ(Run("count b d"), "2\n");
  EXPECT_EQ(Run("count x"), "0\n");
}

TEST_F(CommandsTest, PolicyAndMrc) {
  Run("put k v");
  Run("get k");
  std::string out = Run("policy");
  EXPECT_EQ(out.rfind("policy clock\n", 0), 0u) << out;
  EXPECT_NE(out.find("s3fifo\t"), std::string::npos) << out;
  EXPECT_EQ(Run("policy sieve"), "OK\n");
  EXPECT_EQ(Run("policy").rfind("policy sieve\n", 0), 0u);
  CommandResult r;
  EXPECT_EQ(Run("policy nope", &r), "");
  EXPECT_TRUE(r.failed());
  out = Run("mrc");
  EXPECT_EQ(out.rfind("cache bytes", 0), 0u) << out;
  EXPECT_NE(out.find("<- pool"), std::string::npos) << out;
  EXPECT_GE(std::count(out.begin(), out.end(), '\n'), 17) << out;
}

TEST_F(CommandsTest, PoolShowsAndResizes) {
  std::string bytes;
  ASSERT_TRUE(db_->GetProperty("ringdb.pool.bytes", &bytes));
  EXPECT_EQ(Run("pool").rfind("pool " + bytes + " bytes, ", 0), 0u);
  EXPECT_EQ(Run("pool 128KiB"), "OK\n");
  EXPECT_EQ(Run("pool").rfind("pool 131072 bytes, 32 frames", 0), 0u) << Run("pool");
  CommandResult r;
  EXPECT_EQ(Run("pool lots", &r), "");
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(Run("pool 1KiB", &r), "");  // under 16 pages
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(Run("pool " + bytes), "OK\n");
}

TEST_F(CommandsTest, StatsCheckpointVerify) {
  Run("put k v");
  const std::string stats = Run("stats");
  std::string want, fill;
  ASSERT_TRUE(db_->GetProperty("ringdb.stats", &want));
  ASSERT_TRUE(db_->GetProperty("ringdb.btree.fill-summary", &fill));
  want += fill + "\n";
  // The same text (one trailing newline, no blank line) and the tree's
  // fill line, but for the pool's hit counters: the fill walks the tree.
  auto without_hits = [](std::string s) {
    size_t at = s.find("\n       hits ");
    if (at != std::string::npos) s.erase(at, s.find('\n', at + 1) - at);
    return s;
  };
  EXPECT_EQ(without_hits(stats), without_hits(want));
  EXPECT_EQ(stats.rfind("pool:", 0), 0u) << stats;
  EXPECT_NE(stats.find("\nbtree: leaf fill "), std::string::npos) << stats;
  const uint64_t checkpoints = db_.Property("ringdb.checkpoints");
  EXPECT_EQ(Run("checkpoint"), "OK\n");
  EXPECT_EQ(db_.Property("ringdb.checkpoints"), checkpoints + 1);
  EXPECT_EQ(Run("verify"), "OK\n");
  EXPECT_EQ(Run("resume"), "OK\n");  // nothing to resume
}

// Flips one byte in every page of the data file that holds `marker`. The
// database must be closed.
int CorruptPagesHolding(const std::string& data_file, const std::string& marker) {
  std::fstream f(data_file, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  constexpr size_t kPageSize = 4096;  // Options::page_size default.
  int corrupted = 0;
  for (size_t page = 2 * kPageSize; page + kPageSize <= bytes.size(); page += kPageSize) {
    const size_t at = bytes.find(marker, page);
    if (at == std::string::npos || at + marker.size() > page + kPageSize) continue;
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(bytes[at] ^ 0x20));
    ++corrupted;
  }
  return corrupted;
}

TEST_F(CommandsTest, VerifyPrintsTheProblemsOfACorruptedFile) {
  const std::string marker = "MARKER-in-a-leaf";
  for (int i = 0; i < 400; ++i) db_.Put("key" + std::to_string(1000 + i), marker);
  db_.Close();
  ASSERT_GT(CorruptPagesHolding(db_.path() + "/ringdb.data", marker), 0);
  Reopen(/*read_only=*/false);

  CommandResult r;
  const std::string out = Run("verify", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  // One line per damaged page reached.
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  std::istringstream lines(out);
  size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_NE(line.find("checksum mismatch"), std::string::npos) << line;
    // No repeated "Corruption: " prefix; checksums in hex.
    EXPECT_EQ(line.find("Corruption"), std::string::npos) << line;
    EXPECT_EQ(line.rfind("page ", 0), 0u) << line;
    EXPECT_NE(line.find("(stored 0x"), std::string::npos) << line;
    EXPECT_NE(line.find(", computed 0x"), std::string::npos) << line;
  }
  EXPECT_EQ(r.message, "verify: " + std::to_string(n) + (n == 1 ? " problem found" : " problems found"));
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
  WriteBatch batch;
  for (int i = 0; i < 3000; ++i) {
    std::string k, v;
    for (size_t j = 1 + rng() % 10; j > 0; --j) k.push_back(static_cast<char>(rng() % 256));
    for (size_t j = rng() % 30; j > 0; --j) v.push_back(static_cast<char>(rng() % 256));
    want[k] = v;
    batch.Put(k, v);
  }
  want["plain key"] = "plain value with spaces";
  batch.Put("plain key", "plain value with spaces");
  ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
  const std::string file = Scratch() + "/dump.tsv";
  EXPECT_EQ(Run("dump " + FormatBytes(file)), "OK " + std::to_string(want.size()) + "\n");

  TempDB fresh;
  ctx_.db = fresh.get();
  const uint64_t records = fresh.Property("ringdb.log.records");
  EXPECT_EQ(Run("load " + FormatBytes(file)), "OK " + std::to_string(want.size()) + "\n");
  EXPECT_TRUE(fresh.Contents() == want);
  // Loaded in batches (one log record each), not one write per pair.
  EXPECT_LT(fresh.Property("ringdb.log.records") - records, 10u);

  // Dump to stdout gives the same text as the file.
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ctx_.db = db_.get();
  EXPECT_EQ(Run("dump"), text);
}

TEST_F(CommandsTest, LoadReportsTheBadLine) {
  const std::string file = Scratch() + "/bad.tsv";
  std::ofstream(file) << "a\t1\r\n\nb\t\"2\"\n\"c\\q\"\t3\nd\t4\n";
  CommandResult r;
  EXPECT_EQ(Run("load " + file, &r), "");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("line 4: bad escape \\q"), std::string::npos) << r.message;
  EXPECT_EQ(db_.Get("d"), "(missing)");

  Run("load " + Scratch() + "/missing.tsv", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("No such file or directory"), std::string::npos) << r.message;
  Run("load " + Scratch(), &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("is a directory"), std::string::npos) << r.message;
}

TEST_F(CommandsTest, LoadStripsCarriageReturns) {
  const std::string file = Scratch() + "/crlf.tsv";
  std::ofstream(file) << "a\t1\r\nb\t\"2\"\r\n";
  EXPECT_EQ(Run("load " + file), "OK 2\n");
  EXPECT_EQ(db_.Get("a"), "1");
  EXPECT_EQ(db_.Get("b"), "2");
}

TEST_F(CommandsTest, LoadWriteErrorIsReported) {
  const std::string file = Scratch() + "/ok.tsv";
  std::ofstream(file) << "a\t1\n";
  Reopen(/*read_only=*/true);
  CommandResult r;
  Run("load " + file, &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("database is open read-only"), std::string::npos) << r.message;

  // A key over the limit is named by its line, and the load is all or
  // nothing.
  Reopen(/*read_only=*/false);
  std::ofstream(file) << "a\t1\n" << std::string(kMaxKeySize + 1, 'k') << "\tv\n";
  Run("load " + file, &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("ok.tsv line 2: key of 4097 bytes is over the limit"),
            std::string::npos) << r.message;
  EXPECT_NE(r.message.find("nothing loaded"), std::string::npos) << r.message;
  EXPECT_EQ(db_.Get("a"), "(missing)");
}

TEST_F(CommandsTest, DumpToUnwritablePathFails) {
  CommandResult r;
  Run("dump " + Scratch() + "/no/such/dir/x", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find("cannot create"), std::string::npos) << r.message;
}

TEST_F(CommandsTest, DumpToFullDiskFails) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full on this machine";
  db_.Put("k", std::string(100000, 'x'));
  CommandResult r;
  Run("dump /dev/full", &r);
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_NE(r.message.find(strerror(ENOSPC)), std::string::npos) << r.message;
}

}  // namespace shell_commands_test
}  // namespace ringdb::shell
