// Running the built `ringdb` binary from tests: one call with all input at
// once (RunProcess), or a live child whose pipes the test drives (Child).
// Not thread-safe; one test thread drives a Child (a helper thread may write
// its stdin).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace ringdb::shell::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal.
  int term_signal = 0;
  std::string out;
  std::string err;
};

struct SpawnOptions {
  std::string cwd;                          // Empty: inherit.
  std::map<std::string, std::string> env;   // Added to / overriding ours.
};

// Runs argv[0] with `input` on stdin and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::string& input,
                         const SpawnOptions& options = {});

// A child with pipes on stdin, stdout and stderr.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ~Child();  // Kills and reaps the child if still running.

  // Writes to the child's stdin; false once it has gone away.
  bool Write(const std::string& data);
  void CloseStdin();
  // Closes our end of the child's stdout, as `| head -1` does after a line.
  void CloseStdout();
  // Reads one line (without '\n') from stdout; false at EOF or after
  // timeout_ms.
  bool ReadLine(std::string* line, int timeout_ms);
  void Kill(int sig);
  // Waits for exit and collects the rest of stdout and stderr.
  ProcessResult Wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_buf_;
};

}  // namespace ringdb::shell::testing
