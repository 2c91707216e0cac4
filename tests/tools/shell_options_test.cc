// Tests of the shell's command-line parsing.
#include "shell_options.h"

#include <gtest/gtest.h>

#include <set>

#include "parse_size.h"

namespace ringdb::shell {
namespace shell_options_test {

struct Parsed {
  ParseOutcome outcome;
  ShellOptions options;
  std::string error;
};

Parsed Parse(std::vector<std::string> words, std::set<std::string> existing = {}) {
  std::vector<char*> argv;
  std::string prog = "ringdb";
  argv.push_back(prog.data());
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  Parsed p;
  p.outcome = ParseShellArgs(
      static_cast<int>(argv.size()) - 1, argv.data(),
      [](std::string_view n) { return n == "get" || n == "put" || n == "scan" || n == "help"; },
      [&](const std::string& path) { return existing.count(path) > 0; }, &p.options,
      &p.error);
  return p;
}

// The parser the shell and the bench share (tools/cli_util).
TEST(ParseSizeTest, Units) {
  uint64_t n = 0;
  ASSERT_TRUE(cli::ParseSize("4096", &n));
  EXPECT_EQ(n, 4096u);
  ASSERT_TRUE(cli::ParseSize("64MiB", &n));
  EXPECT_EQ(n, 64u << 20);
  ASSERT_TRUE(cli::ParseSize("1GiB", &n));
  EXPECT_EQ(n, 1u << 30);
  ASSERT_TRUE(cli::ParseSize("512KiB", &n));
  EXPECT_EQ(n, 512u << 10);
  ASSERT_TRUE(cli::ParseSize("512k", &n));
  EXPECT_EQ(n, 512u << 10);
  ASSERT_TRUE(cli::ParseSize("2 mib", &n));
  EXPECT_EQ(n, 2u << 20);
  ASSERT_TRUE(cli::ParseSize("10MB", &n));
  EXPECT_EQ(n, 10000000u);
  ASSERT_TRUE(cli::ParseSize("100b", &n));
  EXPECT_EQ(n, 100u);
}

TEST(ParseSizeTest, Rejects) {
  uint64_t n = 0;
  for (const char* bad : {"", "MiB", "0", "-5", "1.5GiB", "12XB", "64 MiB x",
                          "99999999999999999999", "17179869184GiB", " 5"}) {
    EXPECT_FALSE(cli::ParseSize(bad, &n)) << bad;
  }
}

// Command names, option values and size units match case-insensitively.
TEST(AsciiLowerTest, LowersOnlyAsciiLetters) {
  EXPECT_EQ(cli::AsciiLower("GeT 64MiB"), "get 64mib");
  EXPECT_EQ(cli::AsciiLower("@[`{09az"), "@[`{09az");  // the bytes around A-Z and a-z
  const std::string utf8 = "\xc3\x84PFEL";               // "ÄPFEL": the UTF-8 bytes stay
  EXPECT_EQ(cli::AsciiLower(utf8), "\xc3\x84pfel");
  EXPECT_EQ(cli::AsciiLower(std::string("A\0B", 3)), std::string("a\0b", 3));
  EXPECT_EQ(cli::AsciiLower(""), "");
}

TEST(ParseShellArgsTest, PathAndCommand) {
  Parsed p = Parse({"--pool", "1GiB", "--sync", "db", "put", "k", "--v"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.path, "db");
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"put", "k", "--v"}));
  EXPECT_EQ(p.options.pool_bytes, 1u << 30);
  EXPECT_TRUE(p.options.sync);
  EXPECT_TRUE(p.options.create);
}

TEST(ParseShellArgsTest, DefaultPath) {
  Parsed p = Parse({});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_EQ(p.options.path, "./ringdb.db");
  EXPECT_TRUE(p.options.command.empty());
}

TEST(ParseShellArgsTest, CommandNameIsPathOnlyWhenItExists) {
  Parsed p = Parse({"get", "k"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_EQ(p.options.path, "./ringdb.db");
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"get", "k"}));

  p = Parse({"get", "k"}, {"get"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_EQ(p.options.path, "get");
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"k"}));
}

TEST(ParseShellArgsTest, Flags) {
  Parsed p = Parse({"--no-create", "--bail", "--policy", "sieve", "db"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_FALSE(p.options.create);
  EXPECT_TRUE(p.options.bail);
  EXPECT_EQ(p.options.policy, "sieve");

  p = Parse({"--readonly", "db"});
  EXPECT_TRUE(p.options.read_only);
  EXPECT_FALSE(p.options.create);

  p = Parse({"--pool=64MiB", "db"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_EQ(p.options.pool_bytes, 64u << 20);
  EXPECT_EQ(p.options.row_cache_bytes, Options::kAutoRowCacheBytes) << "the engine's default";

  p = Parse({"--row-cache", "16MiB", "db"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_EQ(p.options.row_cache_bytes, 16u << 20);
  p = Parse({"--row-cache", "0", "db"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.row_cache_bytes, 0u);
  p = Parse({"--row-cache", "auto", "db"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.row_cache_bytes, Options::kAutoRowCacheBytes);

  EXPECT_EQ(Parse({"--help", "db"}).outcome, ParseOutcome::kHelp);
  EXPECT_EQ(Parse({"-h"}).outcome, ParseOutcome::kHelp);
  EXPECT_EQ(Parse({"--version"}).outcome, ParseOutcome::kVersion);
}

TEST(ParseShellArgsTest, UsageErrors) {
  Parsed p = Parse({"--pool", "lots", "db"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_NE(p.error.find("bad --pool size 'lots'"), std::string::npos) << p.error;

  p = Parse({"--pool"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_NE(p.error.find("--pool needs a value"), std::string::npos) << p.error;

  p = Parse({"--row-cache", "some", "db"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_NE(p.error.find("bad --row-cache size 'some'"), std::string::npos) << p.error;

  p = Parse({"--frobnicate", "db"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_NE(p.error.find("unknown option --frobnicate"), std::string::npos) << p.error;

  p = Parse({"-x", "db"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_NE(p.error.find("unknown option -x"), std::string::npos) << p.error;

  p = Parse({"--sync=yes", "db"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_NE(p.error.find("--sync takes no value"), std::string::npos) << p.error;

  p = Parse({""});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
}

TEST(ParseShellArgsTest, OptionsAfterPathBelongToTheCommand) {
  Parsed p = Parse({"db", "scan", "--limit", "3"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun);
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"scan", "--limit", "3"}));
}

TEST(ParseShellArgsTest, OptionsBetweenPathAndCommand) {
  Parsed p = Parse({"x.db", "--no-create", "--format", "json", "get", "k", "--no-create"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.path, "x.db");
  EXPECT_FALSE(p.options.create);
  EXPECT_EQ(p.options.format, "json");
  // Words after the command are the command's, options or not.
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"get", "k", "--no-create"}));
  p = Parse({"--sync", "x.db", "--timer", "--readonly"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun) << p.error;
  EXPECT_TRUE(p.options.sync && p.options.timer && p.options.read_only);
  EXPECT_TRUE(p.options.command.empty());
  p = Parse({"x.db", "--bogus", "get", "k"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_EQ(p.error, "unknown option --bogus");
  p = Parse({"x.db", "--", "get", "k"});
  ASSERT_EQ(p.outcome, ParseOutcome::kRun) << p.error;
  EXPECT_EQ(p.options.command, (std::vector<std::string>{"get", "k"}));
  p = Parse({"x.db", "--format", "yaml", "get", "k"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  p = Parse({"x.db", "--pool"});
  EXPECT_EQ(p.outcome, ParseOutcome::kUsageError);
  EXPECT_EQ(p.error, "option --pool needs a value");
}

}  // namespace shell_options_test
}  // namespace ringdb::shell
