// Tests of batch mode and one-shot status codes against a real DB in a temp
// directory (TempDB).
#include "shell_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "temp_db.h"

namespace ringdb::shell {
namespace shell_runner_test {

struct Captured {
  int status;
  std::string out;
  std::string err;
};

// An in-memory FILE* that collects what is written to it.
class MemFile {
 public:
  MemFile() : file_(open_memstream(&buf_, &len_)) {}
  ~MemFile() {
    if (file_ != nullptr) std::fclose(file_);
    std::free(buf_);
  }
  FILE* get() { return file_; }
  std::string Take() {
    std::fclose(file_);
    file_ = nullptr;
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  FILE* file_;
};

Captured Batch(DB* db, const std::string& input, bool bail = false) {
  FILE* in = tmpfile();
  std::fwrite(input.data(), 1, input.size(), in);
  std::fflush(in);
  lseek(fileno(in), 0, SEEK_SET);
  MemFile out, err;
  ShellContext ctx;
  ctx.db = db;
  ctx.out = out.get();
  const int status = RunBatch(&ctx, fileno(in), bail, /*flush_each=*/false, err.get());
  std::fclose(in);
  return {status, out.Take(), err.Take()};
}

Captured OneShot(DB* db, std::vector<std::string> words) {
  MemFile out, err;
  ShellContext ctx;
  ctx.db = db;
  ctx.out = out.get();
  const int status = RunOneShot(&ctx, words, err.get());
  return {status, out.Take(), err.Take()};
}

TEST(BatchTest, RunsEveryLineAndSkipsCommentsAndBlanks) {
  TempDB db;
  Captured c = Batch(db.get(),
                     "# setup\nput a 1\n\n   \n  # indented comment\nput b 2\nget a\nget zz\ncount");
  EXPECT_EQ(c.status, kExitOk);
  EXPECT_EQ(c.out, "OK\nOK\n1\n(nil)\n2\n");  // A missing get is not an error here.
  EXPECT_EQ(c.err, "");
}

TEST(BatchTest, KeepsGoingAfterErrorsAndFailsAtTheEnd) {
  TempDB db;
  Captured c = Batch(db.get(), "put a 1\nfrob\nput \"x\nget\nput b 2\n");
  EXPECT_EQ(c.status, kExitFailed);
  EXPECT_EQ(c.out, "OK\nOK\n");
  EXPECT_EQ(c.err,
            "error: line 2: unknown command frob (type help for the list)\n"
            "error: line 3: unterminated quote at column 5\n"
            "error: line 4: wrong number of arguments for get (usage: get KEY [--format F])\n");
  EXPECT_EQ(db.Contents().size(), 2u);
}

TEST(BatchTest, BailStopsAtTheFirstFailure) {
  TempDB db;
  Captured c = Batch(db.get(), "put a 1\nbogus\nput b 2\n", /*bail=*/true);
  EXPECT_EQ(c.status, kExitFailed);
  EXPECT_EQ(c.out, "OK\n");
  EXPECT_EQ(db.Get("b"), "(missing)");
}

TEST(BatchTest, QuitStops) {
  TempDB db;
  Captured c = Batch(db.get(), "put a 1\nquit\nput b 2\n");
  EXPECT_EQ(c.status, kExitOk);
  EXPECT_EQ(db.Get("b"), "(missing)");
}

TEST(BatchTest, EngineErrorIsOneLine) {
  TempDB db;
  db.Reopen(/*read_only=*/true);
  Captured c = Batch(db.get(), "put a 1\n");
  EXPECT_EQ(c.status, kExitFailed);
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(c.err, "error: line 1: put a: Invalid argument: database is open read-only\n");
}

TEST(BatchTest, LongLinesAndCrLf) {
  TempDB db;
  const std::string big(300000, 'v');
  Captured c = Batch(db.get(), "put k " + big + "\r\nget k\r\n");
  EXPECT_EQ(c.status, kExitOk) << c.err;
  EXPECT_EQ(db.Get("k"), big);
  EXPECT_EQ(c.out, "OK\n" + big + "\n");
}

TEST(OneShotTest, ExitStatuses) {
  TempDB db;
  EXPECT_EQ(OneShot(db.get(), {"put", "k", "a value"}).status, kExitOk);
  Captured c = OneShot(db.get(), {"get", "k"});
  EXPECT_EQ(c.status, kExitOk);
  EXPECT_EQ(c.out, "\"a value\"\n");  // quoted, so that it pastes back as one argument
  c = OneShot(db.get(), {"get", "missing"});
  EXPECT_EQ(c.status, kExitFailed);
  EXPECT_EQ(c.out, "(nil)\n");
  EXPECT_EQ(c.err, "");
  c = OneShot(db.get(), {"get"});
  EXPECT_EQ(c.status, kExitUsage);
  EXPECT_NE(c.err.find("error: wrong number of arguments for get"), std::string::npos);
  EXPECT_EQ(OneShot(db.get(), {"nope"}).status, kExitUsage);
  db.Close();
  c = OneShot(db.get(), {"put", "k", "v"});
  EXPECT_EQ(c.status, kExitFailed);
  EXPECT_EQ(c.err, "error: put k: Invalid argument: database is closed\n");
  c = OneShot(db.get(), {"get", "k"});
  EXPECT_EQ(c.status, kExitFailed);
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(c.err, "error: get k: Invalid argument: database is closed\n");
}

TEST(OneShotTest, ArgumentsAreLiteral) {
  TempDB db;
  EXPECT_EQ(OneShot(db.get(), {"put", "\"q\"", "a\\n"}).status, kExitOk);
  EXPECT_EQ(db.Get("\"q\""), "a\\n");
}

}  // namespace shell_runner_test
}  // namespace ringdb::shell
