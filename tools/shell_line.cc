// The interactive prompt (see shell_line.h).
//
// Ctrl-C must always give a fresh prompt, whenever it lands. libedit's own
// signal handling cannot promise that: its handler runs, re-raises the
// signal to ours and returns, and if the signal landed before libedit
// blocked in read(2) (it prints the prompt before it switches the terminal
// to raw mode) the read then waits for input that the ^C flushed, and the
// shell hangs. So libedit handles no signals here (rl_catch_signals = 0) and
// reads each character through GetChar below, which waits on the terminal
// and on the signal self-pipe together (WaitForInput) and reads from a
// private non-blocking descriptor of the terminal, so neither a signal nor a
// ^C that flushes typed input between the wait and the read can block it.
#include "shell_line.h"

#include <editline/readline.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "shell_runner.h"

namespace ringdb::shell {

namespace {

constexpr int kHistoryEntries = 1000;
constexpr char kPrompt[] = "ringdb> ";

// The terminal, opened again with O_NONBLOCK (its own open file description,
// so stdin's flags are untouched); stdin itself if that fails.
int g_tty_fd = STDIN_FILENO;

// rl_getc_function: the next byte of input, or EOF at end of input, on a
// read error, or when a caught signal arrived (the caller tells these apart
// with InterruptFlag() and StopSignal()).
int GetChar(FILE*) {
  while (true) {
    if (!WaitForInput(g_tty_fd)) return EOF;
    unsigned char c;
    const ssize_t n = read(g_tty_fd, &c, 1);
    if (n == 1) return c;
    if (n == 0) return EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
    return EOF;
  }
}

// Generator for rl_completion_matches: command names starting with `text`.
char* CommandNameGenerator(const char* text, int state) {
  static size_t index;
  if (state == 0) index = 0;
  const std::vector<CommandSpec>& commands = Commands();
  const size_t len = std::strlen(text);
  while (index < commands.size()) {
    const char* name = commands[index++].name;
    if (std::strncmp(name, text, len) == 0) return strdup(name);
  }
  return nullptr;
}

// Completes the first word with command names, the argument of load and
// dump with file names, and nothing else (keys are not completed).
char** Complete(const char* text, int start, int) {
  std::string before(rl_line_buffer, start);
  const size_t first = before.find_first_not_of(" \t");
  if (first == std::string::npos) {
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, CommandNameGenerator);
  }
  const std::string command = before.substr(first, before.find_first_of(" \t", first) - first);
  if (command == "load" || command == "dump") return nullptr;  // File names.
  rl_attempted_completion_over = 1;
  return nullptr;
}

void OpenPrivateTerminal() {
  const char* name = ttyname(STDIN_FILENO);
  if (name == nullptr) return;
  const int fd = open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) g_tty_fd = fd;
}

}  // namespace

std::string HistoryPath() {
  if (const char* env = std::getenv("RINGDB_HISTORY"); env != nullptr) {
    return env;
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] == '\0') return "";
  return std::string(home) + "/.ringdb_history";
}

int RunInteractive(ShellContext* ctx, const std::string& banner, FILE* err) {
  const std::string history = HistoryPath();
  OpenPrivateTerminal();
  // Both before libedit initialises (using_history does).
  rl_catch_signals = 0;
  rl_getc_function = GetChar;
  rl_readline_name = "ringdb";
  rl_attempted_completion_function = Complete;
  using_history();
  stifle_history(kHistoryEntries);
  if (!history.empty()) read_history(history.c_str());  // Missing is fine.

  // Ctrl-C interrupts the running command or the line being edited, not the
  // shell (InstallSignalHandling(true) in main).
  ctx->interrupted = InterruptFlag();

  std::fprintf(ctx->out, "%s\n", banner.c_str());
  std::fflush(ctx->out);
  while (StopSignal() == 0) {
    ClearInterrupt();
    char* raw = readline(kPrompt);
    if (StopSignal() != 0) {  // SIGTERM or SIGHUP: leave, closing cleanly.
      std::free(raw);
      std::fputc('\n', ctx->out);
      break;
    }
    if (*InterruptFlag()) {  // Ctrl-C: drop what was typed, a fresh line.
      std::free(raw);
      std::fputc('\n', ctx->out);
      std::fflush(ctx->out);
      continue;
    }
    if (raw == nullptr) {  // Ctrl-D or end of input.
      std::fputc('\n', ctx->out);
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
    }
    CommandResult r = RunLine(ctx, line, "", err);
    std::fflush(ctx->out);
    if (r.kind == CommandResult::Kind::kExit) break;
  }

  if (!history.empty()) {
    // Create it private before libedit writes it.
    const int fd = open(history.c_str(), O_WRONLY | O_CREAT, 0600);
    if (fd >= 0) close(fd);
    if (write_history(history.c_str()) != 0) {
      std::fprintf(err, "warning: cannot write history to %s\n", history.c_str());
    }
  }
  ctx->interrupted = nullptr;
  if (g_tty_fd != STDIN_FILENO) {
    close(g_tty_fd);
    g_tty_fd = STDIN_FILENO;
  }
  return kExitOk;
}

}  // namespace ringdb::shell
