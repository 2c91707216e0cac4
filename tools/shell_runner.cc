// One-shot and batch modes (see shell_runner.h).
#include "shell_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace ringdb::shell {

namespace {

volatile sig_atomic_t g_interrupted = 0;
volatile sig_atomic_t g_stop_signal = 0;
volatile sig_atomic_t g_interactive = 0;
// The self-pipe: handlers write one byte, WaitForInput polls the read end.
int g_wake_read = -1;
int g_wake_write = -1;

void OnSignal(int sig) {
  const int saved = errno;
  if (sig != SIGINT || !g_interactive) g_stop_signal = sig;
  g_interrupted = 1;
  const char byte = static_cast<char>(sig);
  if (g_wake_write >= 0) (void)!write(g_wake_write, &byte, 1);  // Full: already awake.
  errno = saved;
}

void DrainWakeups() {
  if (g_wake_read < 0) return;
  char buf[64];
  while (read(g_wake_read, buf, sizeof(buf)) > 0) {
  }
}

void PrintError(FILE* err, const std::string& where, const std::string& msg) {
  std::fprintf(err, "error: %s%s\n", where.c_str(), msg.c_str());
  std::fflush(err);
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Runs the command, printing its time to err with --timer (after its output,
// which is flushed first so that the two interleave in order).
CommandResult TimedRun(ShellContext* ctx, const std::vector<Arg>& args, FILE* err) {
  if (!ctx->timer) return RunCommand(ctx, args);
  const double start = Now();
  CommandResult r = RunCommand(ctx, args);
  const double seconds = Now() - start;
  std::fflush(ctx->out);
  std::fprintf(err, "time: %.6f s\n", seconds);
  std::fflush(err);
  return r;
}

}  // namespace

void InstallSignalHandling(bool interactive) {
  g_interactive = interactive ? 1 : 0;
  if (g_wake_read < 0) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      g_wake_read = fds[0];
      g_wake_write = fds[1];
    }
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    sigaddset(&sa.sa_mask, sig);  // One handler at a time.
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

volatile sig_atomic_t* InterruptFlag() { return &g_interrupted; }

void ClearInterrupt() {
  DrainWakeups();
  g_interrupted = 0;
  if (g_stop_signal != 0) g_interrupted = 1;
}

int StopSignal() { return g_stop_signal; }

void ExitLikeStopSignal() {
  const int sig = g_stop_signal;
  if (sig == 0) return;
  std::fflush(nullptr);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
}

bool WaitForInput(int fd) {
  while (true) {
    if (g_interrupted) return false;
    pollfd fds[2] = {{fd, POLLIN, 0}, {g_wake_read, POLLIN, 0}};
    const int n = poll(fds, g_wake_read >= 0 ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return true;  // Let the read report the error.
    }
    if (g_wake_read >= 0 && (fds[1].revents & POLLIN) != 0) {
      DrainWakeups();
      if (g_interrupted) return false;
    }
    if (fds[0].revents != 0) return true;
  }
}

int RunOneShot(ShellContext* ctx, const std::vector<std::string>& words,
               FILE* err) {
  std::vector<Arg> args;
  for (const std::string& w : words) args.push_back(Arg{w, false});
  CommandResult r = TimedRun(ctx, args, err);
  std::fflush(ctx->out);
  if (std::ferror(ctx->out) && !r.failed()) {
    r = CommandResult::Error("writing output failed");
  }
  switch (r.kind) {
    case CommandResult::Kind::kOk:
    case CommandResult::Kind::kExit:
      return kExitOk;
    case CommandResult::Kind::kMissing:
      return kExitFailed;
    case CommandResult::Kind::kError:
      PrintError(err, "", r.message);
      return kExitFailed;
    case CommandResult::Kind::kUsage:
      PrintError(err, "", r.message);
      return kExitUsage;
  }
  return kExitFailed;
}

CommandResult RunLine(ShellContext* ctx, std::string_view line,
                      const std::string& where, FILE* err) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos || line[first] == '#') {
    return CommandResult::Ok();
  }
  std::vector<Arg> args;
  std::string error;
  CommandResult r;
  if (!ParseLine(line, &args, &error)) {
    r = CommandResult::Usage(error);
  } else {
    r = TimedRun(ctx, args, err);
  }
  if (r.failed()) PrintError(err, where, r.message);
  return r;
}

int RunBatch(ShellContext* ctx, int fd, bool bail, bool flush_each, FILE* err) {
  LineReader reader(fd);
  std::string line;
  std::string read_error;
  uint64_t line_no = 0;
  bool any_failed = false;
  // The first failed write of the output (e.g. EPIPE once the reader of a
  // pipe is gone, SIGPIPE being ignored); the batch stops there.
  int write_errno = 0;
  auto flush = [ctx, &write_errno] {
    if (std::fflush(ctx->out) != 0 && write_errno == 0) write_errno = errno;
  };
  while (write_errno == 0 && reader.Next(&line, flush, &read_error)) {
    if (write_errno != 0) break;  // The flush before the read failed.
    ++line_no;
    CommandResult r =
        RunLine(ctx, line, "line " + std::to_string(line_no) + ": ", err);
    if (flush_each) flush();
    if (r.kind == CommandResult::Kind::kExit) break;
    if (StopSignal() != 0) {
      any_failed = true;
      break;
    }
    if (r.failed()) {
      any_failed = true;
      if (bail) break;
    }
    if (std::ferror(ctx->out) && write_errno == 0) write_errno = errno;
  }
  if (!read_error.empty()) {
    PrintError(err, "", read_error);
    any_failed = true;
  }
  flush();
  if (write_errno == 0 && std::ferror(ctx->out)) write_errno = EIO;
  if (write_errno != 0) {
    PrintError(err, "", std::string("writing output: ") + std::strerror(write_errno));
    any_failed = true;
  }
  return any_failed ? kExitFailed : kExitOk;
}

bool LineReader::Fill(std::string* error) {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[64 * 1024];
  while (true) {
    if (!WaitForInput(fd_) && StopSignal() != 0) {
      *error = std::string("stopped by SIG") + sigabbrev_np(StopSignal());
      return false;
    }
    const ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n > 0) {
      buf_.append(chunk, n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return true;
    }
    if (errno == EINTR) continue;
    *error = std::string("reading standard input: ") + std::strerror(errno);
    return false;
  }
}

}  // namespace ringdb::shell
