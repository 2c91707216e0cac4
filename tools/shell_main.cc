// ringdb: the command-line shell for ringdb databases.
//
//   ringdb [OPTIONS] [PATH] [COMMAND [ARGS...]]
//
// Parses the options, opens the database and hands over to one of three
// modes: one-shot (a COMMAND on the command line), interactive (stdin is a
// terminal) or batch (commands on stdin, one per line). See shell_options.h
// for the options and how PATH is told from a command.
#include <langinfo.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "ringdb/db.h"
#include "ringdb/eviction_policy.h"
#include "ringdb/options.h"
#include "shell_commands.h"
#include "shell_line.h"
#include "shell_options.h"
#include "shell_runner.h"

namespace ringdb::shell {
namespace {

int UsageError(const std::string& msg) {
  std::fprintf(stderr, "error: %s (see ringdb --help)\n", msg.c_str());
  return kExitUsage;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// Opens the database, reporting a failure as one "error:" line.
bool OpenDatabase(const ShellOptions& so, std::unique_ptr<DB>* db) {
  struct stat st;
  if (stat(so.path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      std::fprintf(stderr,
                   "error: %s is not a ringdb database (a database is a "
                   "directory; this is a file)\n",
                   so.path.c_str());
      return false;
    }
  } else if (errno == ENOENT && !so.create) {
    std::fprintf(stderr, "error: %s does not exist%s\n", so.path.c_str(),
                 so.read_only ? "" : " (leave out --no-create to create it)");
    return false;
  }
  Options options;
  options.create_if_missing = so.create;
  options.read_only = so.read_only;
  if (so.pool_bytes != 0) options.buffer_pool_bytes = so.pool_bytes;
  if (!so.policy.empty()) options.eviction_policy = so.policy;
  Status s = DB::Open(options, so.path, db);
  if (!s.ok()) {
    std::fprintf(stderr, "error: cannot open %s: %s\n", so.path.c_str(),
                 s.ToString().c_str());
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  ShellOptions so;
  std::string error;
  const ParseOutcome outcome = ParseShellArgs(
      argc, argv,
      [](std::string_view name) { return FindCommand(name) != nullptr; },
      PathExists, &so, &error);
  switch (outcome) {
    case ParseOutcome::kUsageError:
      return UsageError(error);
    case ParseOutcome::kHelp:
      std::fputs(UsageText().c_str(), stdout);
      PrintHelp(stdout);
      return kExitOk;
    case ParseOutcome::kVersion:
      std::printf("%s\n", Version());
      return kExitOk;
    case ParseOutcome::kRun:
      break;
  }
  if (!so.policy.empty()) {
    const std::vector<std::string> names = EvictionPolicyNames();
    if (std::find(names.begin(), names.end(), so.policy) == names.end()) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      return UsageError("unknown --policy '" + so.policy + "' (known: " + list + ")");
    }
  }

  // Signals before the database opens: from here on SIGTERM, SIGHUP and
  // (outside the prompt) SIGINT stop the shell through the clean close below,
  // and a closed output is a write error, not a silent death.
  const bool interactive = so.command.empty() && isatty(STDIN_FILENO);
  InstallSignalHandling(interactive);

  ShellContext ctx;
  ctx.interrupted = InterruptFlag();
  ctx.write_options.sync = so.sync;
  ctx.out = stdout;
  ctx.progress = isatty(STDERR_FILENO) ? stderr : nullptr;
  ctx.timer = so.timer;
  if (!so.format.empty()) ctx.format = so.format;
  ctx.stdin_free = !so.command.empty();
  // Only the character type: numbers keep printing with a '.'.
  if (std::setlocale(LC_CTYPE, "") != nullptr) {
    const std::string codeset = nl_langinfo(CODESET);
    ctx.utf8 = codeset == "UTF-8" || codeset == "utf8";
  }

  std::unique_ptr<DB> db;
  int status;
  if (!so.command.empty()) {
    // Check the usage before opening, so a typo does not create a database.
    std::vector<Arg> args;
    for (const std::string& w : so.command) args.push_back(Arg{w, false});
    CommandResult usage = CheckUsage(args);
    if (usage.failed()) {
      std::fprintf(stderr, "error: %s\n", usage.message.c_str());
      return kExitUsage;
    }
    if (FindCommand(so.command[0])->needs_db) {
      if (!OpenDatabase(so, &db)) return kExitFailed;
      ctx.db = db.get();
    }
    status = RunOneShot(&ctx, so.command, stderr);
  } else {
    if (!OpenDatabase(so, &db)) return kExitFailed;
    ctx.db = db.get();
    if (interactive) {
      const std::string banner = std::string(Version()) + " on " + so.path +
                                 (so.read_only ? " (read-only)" : "") +
                                 ". Type help for the commands, quit to leave.";
      status = RunInteractive(&ctx, banner, stderr);
    } else {
      status = RunBatch(&ctx, STDIN_FILENO, so.bail, /*flush_each=*/so.sync, stderr);
    }
  }
  bool closed_ok = true;
  if (db) {
    Status s = db->Close();
    closed_ok = s.ok();
    if (!s.ok()) {
      std::fprintf(stderr, "error: closing %s: %s\n", so.path.c_str(),
                   s.ToString().c_str());
      if (status == kExitOk) status = kExitFailed;
    }
  }
  if (std::fflush(stdout) != 0 && status == kExitOk) status = kExitFailed;
  if (StopSignal() != 0) {
    std::fprintf(stderr, "ringdb: stopped by SIG%s%s\n", sigabbrev_np(StopSignal()),
                 db ? (!closed_ok ? "; closing the database failed"
                                                           : "; database closed cleanly")
                    : "");
    ExitLikeStopSignal();
  }
  return status;
}

}  // namespace
}  // namespace ringdb::shell

int main(int argc, char** argv) { return ringdb::shell::Main(argc, argv); }
