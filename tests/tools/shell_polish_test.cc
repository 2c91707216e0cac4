// End-to-end tests of the shell conveniences of issue 13 through the built
// `ringdb` binary: all-or-nothing load with file and line in its errors,
// `-` for standard input/output, options after PATH, output that pastes
// back, UTF-8, help COMMAND, case-insensitive commands and "did you mean",
// exists, del's answer, put from stdin or @FILE, --timer, delrange,
// count --estimate and --format tsv|csv|json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "shell_quote.h"
#include "subprocess_util.h"
#include "tests/util/temp_dir.h"

namespace ringdb::shell {
namespace shell_polish_test {

using testing::ProcessResult;
using testing::RunProcess;
using testing::SpawnOptions;

const std::string kShell = RINGDB_SHELL_PATH;

class ShellPolishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    db_ = dir_ + "/db";
  }

  // ringdb [flags...] DB words..., in the C locale unless `locale` is set.
  ProcessResult Shell(std::vector<std::string> words, const std::string& input = "",
                      std::vector<std::string> flags = {}, const std::string& locale = "C") {
    std::vector<std::string> argv{kShell};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(db_);
    argv.insert(argv.end(), words.begin(), words.end());
    SpawnOptions options;
    options.env["LC_ALL"] = locale;
    return RunProcess(argv, input, options);
  }

  void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }

  test::TempDir tmp_{"shell_polish"};
  std::string dir_;
  std::string db_;
};

TEST_F(ShellPolishTest, LoadIsAllOrNothingAndNamesFileAndLine) {
  // The issue's case: 1,500 good lines, then a 5,000-byte key.
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "k" + std::to_string(i) + "\tv\n";
  text += std::string(5000, 'x') + "\tv\n";
  text += "after\tv\n";
  const std::string file = dir_ + "/in.tsv";
  WriteFile(file, text);
  ProcessResult r = Shell({"load", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("load " + file + " line 1501: key of 5000 bytes is over the limit"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing loaded"), std::string::npos) << r.err;
  EXPECT_EQ(Shell({"count"}).out, "0\n");

  // --keep-going: every good pair before the bad line stays (all 1,500,
  // not just the full batches).
  r = Shell({"load", "--keep-going", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 1501"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(1500 pairs loaded before it)"), std::string::npos) << r.err;
  EXPECT_EQ(Shell({"count"}).out, "1500\n");

  // A malformed line names its line too.
  WriteFile(file, "a\t1\nb\n");
  r = Shell({"load", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("in.tsv line 2: expected KEY<TAB>VALUE"), std::string::npos) << r.err;
  EXPECT_EQ(Shell({"get", "a"}).exit_code, 1);  // All or nothing.
}

TEST_F(ShellPolishTest, DashIsStandardInputAndOutput) {
  ASSERT_EQ(Shell({}, "put a 1\nput \"b c\" \"2 3\"\n").exit_code, 0);
  ProcessResult dumped = Shell({"dump", "-"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_EQ(dumped.out, "a\t1\n\"b c\"\t\"2 3\"\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/-"));
  db_ = dir_ + "/copy";
  ProcessResult r = Shell({"load", "-"}, dumped.out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK 2\n");
  EXPECT_EQ(Shell({"dump"}).out, dumped.out);
  // In batch mode standard input is the commands.
  r = Shell({}, "load -\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("standard input"), std::string::npos) << r.err;
}

TEST_F(ShellPolishTest, OptionsAfterPath) {
  ProcessResult r = Shell({"--no-create", "get", "k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db_));
  ASSERT_EQ(Shell({"put", "k", "v"}).exit_code, 0);
  r = Shell({"--readonly", "--format", "json", "get", "k"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"key\":\"k\",\"value\":\"v\"}\n");
  r = Shell({"--readonly", "put", "k", "w"});
  EXPECT_EQ(r.exit_code, 1);
  r = Shell({"--bogus", "get", "k"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos) << r.err;
  // After the command, words belong to the command.
  r = Shell({"get", "--no-create"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("get: unknown option --no-create"), std::string::npos) << r.err;
}

TEST_F(ShellPolishTest, UnknownOptionsAreUsageErrorsInEveryCommand) {
  ASSERT_EQ(Shell({"put", "k", "v"}).exit_code, 0);
  for (std::vector<std::string> words :
       {std::vector<std::string>{"get", "k", "--bogus"}, {"put", "--x", "v"}, {"del", "--k"},
        {"mget", "a", "--b"}, {"stats", "--all"}, {"checkpoint", "--now"}, {"dump", "--x"},
        {"load", "--x"}, {"verify", "--deep"}, {"exists", "--k"}, {"delrange", "a", "--z"}}) {
    ProcessResult r = Shell(words);
    EXPECT_EQ(r.exit_code, 2) << words[0] << ": " << r.err;
    EXPECT_NE(r.err.find("unknown option"), std::string::npos) << r.err;
  }
  // Quoted or after --, such a word is a key.
  ProcessResult r = Shell({}, "put \"--x\" v\nget -- --x\n");
  EXPECT_EQ(r.out, "OK\nv\n") << r.err;
}

TEST_F(ShellPolishTest, OutputPastesBack) {
  std::string script =
      "put \"sp ace\" \"a b\"\nput k \"(nil)\"\nput \"--limit\" -x\nput \"-\" \"@f\"\n"
      "put \"tab\\there\" \"\\x00\\xff\"\n";
  ASSERT_EQ(Shell({}, script).exit_code, 0);
  ProcessResult scanned = Shell({"scan"});
  ASSERT_EQ(scanned.exit_code, 0) << scanned.err;
  // Every line pasted back as put KEY VALUE restores the same pairs.
  std::string paste;
  std::istringstream lines(scanned.out);
  for (std::string line; std::getline(lines, line);) {
    line[line.find('\t')] = ' ';
    paste += "put " + line + "\n";
  }
  db_ = dir_ + "/pasted";
  ProcessResult r = Shell({}, paste);
  ASSERT_EQ(r.exit_code, 0) << r.err << paste;
  EXPECT_EQ(Shell({"scan"}).out, scanned.out);
  // A stored (nil) is not a miss.
  r = Shell({"get", "k"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "\"(nil)\"\n");
  r = Shell({"get", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "(nil)\n");
}

TEST_F(ShellPolishTest, Utf8PrintsAsUtf8InAUtf8Locale) {
  ASSERT_EQ(Shell({"put", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac"}).exit_code, 0);
  EXPECT_EQ(Shell({"scan"}, "", {}, "C.UTF-8").out, "caf\xc3\xa9\t\xe6\x97\xa5\xe6\x9c\xac\n");
  EXPECT_EQ(Shell({"scan"}).out, "\"caf\\xc3\\xa9\"\t\"\\xe6\\x97\\xa5\\xe6\\x9c\\xac\"\n");
  // A dump file stays ASCII whatever the locale.
  const std::string file = dir_ + "/d.tsv";
  ASSERT_EQ(Shell({"dump", file}, "", {}, "C.UTF-8").exit_code, 0);
  std::ifstream f(file);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "\"caf\\xc3\\xa9\"\t\"\\xe6\\x97\\xa5\\xe6\\x9c\\xac\"\n");
}

TEST_F(ShellPolishTest, HelpCaseAndTypos) {
  ProcessResult r = Shell({"help", "scan"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: scan [START [END]]", 0), 0u) << r.out;
  r = Shell({"help", "nosuchthing"});
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(Shell({"PUT", "k", "v"}).exit_code, 0);
  r = Shell({"Get", "k"});
  EXPECT_EQ(r.out, "v\n");
  r = Shell({"gte", "k"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: unknown command gte (did you mean get?)\n");
  r = Shell({}, "chekpoint\n");
  EXPECT_EQ(r.err, "error: line 1: unknown command chekpoint (did you mean checkpoint?)\n");
}

TEST_F(ShellPolishTest, ExistsAndDel) {
  ASSERT_EQ(Shell({"put", "k", "v"}).exit_code, 0);
  ProcessResult r = Shell({"exists", "k"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "1\n");
  r = Shell({"exists", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "0\n");
  r = Shell({}, "del k\ndel k\nexists k\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;  // A miss is no failure in batch mode.
  EXPECT_EQ(r.out, "1\n0\n0\n");
}

TEST_F(ShellPolishTest, PutFromStandardInputOrAFile) {
  const std::string big(1 << 20, 'z');  // Too big for an argument list.
  ProcessResult r = Shell({"put", "k", "-"}, big);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Shell({"--format", "tsv", "get", "k"});
  EXPECT_TRUE(r.out == big + "\n");
  const std::string file = dir_ + "/value.bin";
  WriteFile(file, std::string("a\0b\n", 4));
  ASSERT_EQ(Shell({"put", "f", "@" + file}).exit_code, 0);
  EXPECT_EQ(Shell({"get", "f"}).out, "\"a\\0b\\n\"\n");
  r = Shell({"put", "f", "@" + dir_ + "/missing"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
  // In batch mode - is refused (stdin holds the commands); quoted, it is a value.
  r = Shell({}, "put k -\nput q \"-\"\nget q\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 1: put k:"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "OK\n\"-\"\n");
}

TEST_F(ShellPolishTest, Timer) {
  ProcessResult r = Shell({"--timer", "put", "k", "v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n");
  EXPECT_EQ(r.err.rfind("time: ", 0), 0u) << r.err;
  r = Shell({}, "get k\nget k\n", {"--timer"});
  size_t lines = 0;
  for (size_t p = 0; (p = r.err.find("time: ", p)) != std::string::npos; ++p) ++lines;
  EXPECT_EQ(lines, 2u) << r.err;
  EXPECT_EQ(Shell({"get", "k"}).err, "");  // Off by default.
}

TEST_F(ShellPolishTest, DelRangeAndEstimate) {
  std::string script;
  for (int i = 0; i < 2500; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%05d", i);
    script += std::string("put ") + key + " v\n";
  }
  ASSERT_EQ(Shell({}, script).exit_code, 0);
  ProcessResult r = Shell({"count", "--estimate"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2500\n");  // Quiet database: the leaves' counts are exact.
  r = Shell({"delrange", "k00100", "k02200"});  // More than one chunk.
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2100\n");
  EXPECT_EQ(Shell({"count"}).out, "400\n");
  EXPECT_EQ(Shell({"scan", "k00098", "k02202"}).out,
            "k00098\tv\nk00099\tv\nk02200\tv\nk02201\tv\n");
  EXPECT_EQ(Shell({"count", "--estimate"}).out, "400\n");
  EXPECT_EQ(Shell({"delrange", "z", "a"}).out, "0\n");
  EXPECT_EQ(Shell({"count", "--estimate", "a"}).exit_code, 2);
}

// The notice that the pool could not be locked in memory (a normal user's
// RLIMIT_MEMLOCK) is said once a day per database. Run without
// CAP_IPC_LOCK (setpriv) so that root sees what a normal user sees.
TEST_F(ShellPolishTest, MemlockNoticeOnceADayPerDatabase) {
  std::vector<std::string> prefix;
  if (geteuid() == 0) {
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "root without setpriv";
    prefix = {"/usr/bin/setpriv", "--bounding-set=-ipc_lock"};
  }
  const std::string cache = dir_ + "/cache";
  auto run = [&](const std::string& db) {
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), {kShell, db, "put", "k", "v"});
    SpawnOptions options;
    options.env["XDG_CACHE_HOME"] = cache;
    options.env["LC_ALL"] = "C";
    return RunProcess(argv, "", options);
  };
  ProcessResult r = run(db_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (r.err.find("RLIMIT_MEMLOCK") == std::string::npos) {
    GTEST_SKIP() << "the pool could be locked here (RLIMIT_MEMLOCK large enough)";
  }
  EXPECT_NE(r.err.find("once a day"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = run(db_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");  // Said already today.
  r = run(dir_ + "/other");
  EXPECT_NE(r.err.find("RLIMIT_MEMLOCK"), std::string::npos) << r.err;  // Another database.
  // A marker from another day does not count.
  WriteFile(cache + "/ringdb/notices", "2001-01-01\t" + db_ + "\n");
  r = run(db_);
  EXPECT_NE(r.err.find("RLIMIT_MEMLOCK"), std::string::npos) << r.err;
}

// Random bytes through every format: dump --format F, load --format F into
// a fresh database, and the two dumps match.
TEST_F(ShellPolishTest, FormatsRoundTrip) {
  std::mt19937 rng(13);
  std::string script;
  for (int i = 0; i < 300; ++i) {
    std::string k, v;
    for (size_t j = 1 + rng() % 12; j > 0; --j) k.push_back(static_cast<char>(rng() % 256));
    for (size_t j = rng() % 30; j > 0; --j) v.push_back(static_cast<char>(rng() % 256));
    script += "put " + FormatBytes(k) + " " + FormatBytes(v) + "\n";
  }
  script += "put plain \"caf\\xc3\\xa9, \\\"q\\\"\\n\"\nput empty \"\"\n";
  ASSERT_EQ(Shell({}, script).exit_code, 0);
  const std::string want = Shell({"dump"}).out;
  for (const std::string format : {"tsv", "csv", "json", "text"}) {
    const std::string file = dir_ + "/d." + format;
    ProcessResult r = Shell({"dump", file, "--format", format});
    ASSERT_EQ(r.exit_code, 0) << format << r.err;
    const std::string saved_db = db_;
    db_ = dir_ + "/fresh-" + format;
    r = Shell({"load", "--format", format, file});
    ASSERT_EQ(r.exit_code, 0) << format << ": " << r.err;
    EXPECT_TRUE(Shell({"dump"}).out == want) << format;
    db_ = saved_db;
  }
  EXPECT_EQ(Shell({"--format", "json", "get", "plain"}).out,
            "{\"key\":\"plain\",\"value\":\"caf\xc3\xa9, \\\"q\\\"\\n\"}\n");
  EXPECT_EQ(Shell({"--format", "csv", "get", "plain"}).out, "\"caf\xc3\xa9, \"\"q\"\"\n\"\n");
  EXPECT_EQ(Shell({"--format", "tsv", "mget", "plain", "nope", "empty"}).out,
            "caf\xc3\xa9, \"q\"\\n\n\\N\n\n");
  EXPECT_EQ(Shell({"--format", "json", "get", "nope"}).out, "{\"key\":\"nope\",\"value\":null}\n");
  EXPECT_EQ(Shell({"scan", "--format", "yaml"}).exit_code, 2);
  EXPECT_EQ(Shell({"get", "x"}, "", {"--format", "yaml"}).exit_code, 2);
}

// A normal user's RLIMIT_MEMLOCK (8 MiB): without --pool the shell picks a
// pool it can lock (no mlock warning) and stats says why; an explicit
// --pool 64MiB is taken as asked and the engine warns that it could not
// lock it. Needs prlimit, and setpriv when run as root (root may lock any
// amount: the shell runs as another user there).
TEST_F(ShellPolishTest, DefaultPoolFitsRlimitMemlock) {
  auto which = [](const std::string& name) -> std::string {
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
      if (access((dir + name).c_str(), X_OK) == 0) return dir + name;
    }
    return "";
  };
  const std::string prlimit = which("prlimit"), setpriv = which("setpriv");
  if (prlimit.empty()) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  std::vector<std::string> prefix{prlimit, "--memlock=8388608:8388608", "--"};
  if (geteuid() == 0) {
    if (setpriv.empty()) GTEST_SKIP() << "running as root without setpriv: cannot drop CAP_IPC_LOCK";
    ASSERT_EQ(chown(dir_.c_str(), 54321, 54321), 0);
    for (const char* w : {"--reuid=54321", "--regid=54321", "--clear-groups", "--inh-caps=-all",
                          "--"}) {
      if (prefix.size() == 3) prefix.push_back(setpriv);
      prefix.push_back(w);
    }
  }
  auto run = [&](std::vector<std::string> words, const std::string& cache = "cache") {
    std::vector<std::string> argv = prefix;
    argv.push_back(kShell);
    argv.insert(argv.end(), words.begin(), words.end());
    SpawnOptions options;
    options.env["LC_ALL"] = "C";
    options.env["XDG_CACHE_HOME"] = dir_ + "/" + cache;  // a fresh once-a-day record
    return RunProcess(argv, "", options);
  };
  ProcessResult r = run({db_, "put", "k", "v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("not locked in memory"), std::string::npos) << r.err;
  r = run({db_, "stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pool:  7.0 MiB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shell: pool 7 MiB: what RLIMIT_MEMLOCK (8 MiB) lets this process lock"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("not locked in memory"), std::string::npos) << r.out;
  r = run({"--pool", "64MiB", db_, "get", "k"}, "cache2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v\n");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers intercept mlock and report success without locking, so
  // the shell has nothing to say about it there.
#else
  EXPECT_NE(r.err.find("buffer pool not locked in memory"), std::string::npos) << r.err;
#endif
}

// A database the user may not write: opening it for writing says to open
// it read-only, and --readonly reads it. As root (who may write anywhere)
// the shell runs as another user through setpriv.
TEST_F(ShellPolishTest, UnwritableDatabaseSuggestsReadOnly) {
  ASSERT_EQ(Shell({"put", "k", "v"}).exit_code, 0);
  std::vector<std::string> prefix;
  if (geteuid() == 0) {
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "root without setpriv";
    prefix = {"/usr/bin/setpriv", "--reuid=54321", "--regid=54321", "--clear-groups",
              "--inh-caps=-all", "--"};
    // mkdtemp's 0700 would hide the database from the other user.
    std::filesystem::permissions(dir_, std::filesystem::perms::all,
                                 std::filesystem::perm_options::add);
  } else {
    std::filesystem::permissions(db_, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::remove);
    std::filesystem::permissions(db_ + "/LOCK", std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::remove);
  }
  auto run = [&](std::vector<std::string> words) {
    std::vector<std::string> argv = prefix;
    argv.push_back(kShell);
    argv.insert(argv.end(), words.begin(), words.end());
    SpawnOptions options;
    options.env["LC_ALL"] = "C";
    options.env["XDG_CACHE_HOME"] = dir_ + "/cache";
    return RunProcess(argv, "", options);
  };
  ProcessResult r = run({db_, "get", "k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Permission denied (no write permission here: open the database "
                       "read-only to read it)"),
            std::string::npos)
      << r.err;
  r = run({"--readonly", db_, "get", "k"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v\n");
  if (geteuid() != 0) {
    std::filesystem::permissions(db_, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
  }
}

}  // namespace shell_polish_test
}  // namespace ringdb::shell
