// The interactive prompt (see shell_line.h).
#include "shell_line.h"

#include <editline/readline.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "shell_runner.h"

namespace ringdb::shell {

namespace {

constexpr int kHistoryEntries = 1000;
constexpr char kPrompt[] = "ringdb> ";

volatile sig_atomic_t g_interrupted = 0;

void OnSigint(int) { g_interrupted = 1; }

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
  rl_readline_name = "ringdb";
  rl_attempted_completion_function = Complete;
  using_history();
  stifle_history(kHistoryEntries);
  if (!history.empty()) read_history(history.c_str());  // Missing is fine.

  // Ctrl-C interrupts the running command (or the line being edited), not
  // the shell. No SA_RESTART, so a blocked read returns.
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_sa;
  sigaction(SIGINT, &sa, &old_sa);
  ctx->interrupted = &g_interrupted;

  std::fprintf(ctx->out, "%s\n", banner.c_str());
  std::fflush(ctx->out);
  while (true) {
    g_interrupted = 0;
    char* raw = readline(kPrompt);
    if (raw == nullptr) {
      if (g_interrupted) {  // Ctrl-C at the prompt: a fresh line.
        std::fputc('\n', ctx->out);
        continue;
      }
      std::fputc('\n', ctx->out);  // Ctrl-D.
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
  sigaction(SIGINT, &old_sa, nullptr);
  ctx->interrupted = nullptr;
  return kExitOk;
}

}  // namespace ringdb::shell
