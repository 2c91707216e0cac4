// Running commands in the shell's three modes: once from argv (one-shot),
// one per line from a non-terminal stdin (batch), and the shared per-line
// step the interactive prompt (shell_line.h) uses too.
//
// Also the shell's signals: SIGPIPE is ignored (a closed output shows up as
// a write error), SIGINT, SIGTERM and SIGHUP are caught; every wait for input
// (WaitForInput) watches a self-pipe, so a signal that arrives just before a
// blocking read is never lost.
//
// Errors go to `err` as one line "error: <message>"; results go to ctx->out.
// Thread-safety: one thread.
#pragma once

#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "shell_commands.h"

namespace ringdb::shell {

// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Installs the shell's signal handling (once per process, before the
// database is opened): SIGPIPE ignored; SIGTERM and SIGHUP ask the shell to
// stop (StopSignal) and interrupt the running command; SIGINT interrupts the
// running command or the line being edited when `interactive`, and asks the
// shell to stop otherwise. The caller closes the database and then calls
// ExitLikeStopSignal(). Handlers use SA_RESTART, so the engine's system
// calls are not cut short.
void InstallSignalHandling(bool interactive);

// The flag a command polls to stop early (ShellContext::interrupted); set by
// every caught signal.
volatile sig_atomic_t* InterruptFlag();

// Clears InterruptFlag() and forgets pending wake-ups, except that a stop
// request stays (the flag is set again at once).
void ClearInterrupt();

// The signal that asked the shell to stop, or 0.
int StopSignal();

// After the database is closed: if StopSignal() is set, dies of it with the
// default action (so the parent sees the real cause); otherwise returns.
void ExitLikeStopSignal();

// Waits until `fd` is readable (or at end of file / in error) or a caught
// signal arrives. Returns true when fd is ready, false for a signal (check
// StopSignal() and InterruptFlag()). A signal that arrived before the call
// and has not been cleared also returns false at once.
bool WaitForInput(int fd);

// Runs one command given as separate words (argv after PATH; taken
// literally, no quote processing) and returns the exit status: 0, 1 when it
// failed or was a get of a missing key, 2 on bad usage.
int RunOneShot(ShellContext* ctx, const std::vector<std::string>& words,
               FILE* err);

// Parses and runs one input line. Blank lines and lines whose first
// non-blank byte is '#' are skipped (returns kOk). `where` prefixes error
// messages (e.g. "line 3: "). Prints the error of a failed command to `err`.
CommandResult RunLine(ShellContext* ctx, std::string_view line,
                      const std::string& where, FILE* err);

// Reads commands from `fd`, one per line, until end of input, quit/exit, or
// (with bail) the first failure. Flushes ctx->out whenever it is about to
// wait for input, and after every command when flush_each is set (--sync).
// Returns 0, or 1 when any command failed.
int RunBatch(ShellContext* ctx, int fd, bool bail, bool flush_each, FILE* err);

// Reads lines from a file descriptor with its own buffer (so that output can
// be flushed exactly when the next read would block).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // Stores the next line (without its '\n') in *line. Calls before_read()
  // before each read(2). Returns false at end of input (a last line without
  // '\n' is still returned) or on a read error (*error set).
  template <typename BeforeRead>
  bool Next(std::string* line, BeforeRead before_read, std::string* error);

 private:
  bool Fill(std::string* error);

  int fd_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

template <typename BeforeRead>
bool LineReader::Next(std::string* line, BeforeRead before_read,
                      std::string* error) {
  error->clear();
  while (true) {
    const size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line->assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      return true;
    }
    if (eof_) {
      if (pos_ >= buf_.size()) return false;
      line->assign(buf_, pos_, std::string::npos);
      pos_ = buf_.size();
      return true;
    }
    before_read();
    if (!Fill(error)) return false;
  }
}

}  // namespace ringdb::shell
