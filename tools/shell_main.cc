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
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "ringdb/db.h"
#include "ringdb/eviction_policy.h"
#include "ringdb/options.h"
#include "shell_commands.h"
#include "shell_line.h"
#include "shell_memlock.h"
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

// The file remembering when each database's memory-locking notice was last
// shown: $XDG_CACHE_HOME/ringdb/notices, else ~/.cache/ringdb/notices; ""
// when neither is known. Lines are "YYYY-MM-DD<TAB>/real/path".
std::string NoticeMarkerPath() {
  const char* cache = std::getenv("XDG_CACHE_HOME");
  std::string dir;
  if (cache != nullptr && cache[0] == '/') {
    dir = cache;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    dir = std::string(home) + "/.cache";
  } else {
    return "";
  }
  return dir + "/ringdb/notices";
}

std::string Today() {
  const time_t now = time(nullptr);
  struct tm tm;
  localtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

// True when the notice that the buffer pool could not be locked in memory
// (RLIMIT_MEMLOCK; a normal user's everyday case) should be shown for the
// database at `path`: at most once a day per database, remembered in
// NoticeMarkerPath() (always, when that cannot be written). Records today.
bool FirstMemlockNoticeToday(const std::string& path) {
  const std::string marker = NoticeMarkerPath();
  if (marker.empty()) return true;
  char* real = realpath(path.c_str(), nullptr);
  const std::string db = real != nullptr ? real : path;
  std::free(real);
  const std::string today = Today();
  std::string kept;
  bool seen_today = false;
  if (FILE* f = std::fopen(marker.c_str(), "r")) {
    char line[4096 + 32];
    while (std::fgets(line, sizeof(line), f) != nullptr) {
      std::string l(line);
      if (!l.empty() && l.back() == '\n') l.pop_back();
      const size_t tab = l.find('\t');
      if (tab == std::string::npos || l.substr(0, tab) != today) continue;  // Old: dropped.
      if (l.substr(tab + 1) == db) seen_today = true;
      kept += l + "\n";
    }
    std::fclose(f);
  }
  if (seen_today) return false;
  // Write the new list beside the old one and rename it over: concurrent
  // shells may lose a line (one extra notice), never corrupt the file.
  const std::string dir = marker.substr(0, marker.rfind('/'));
  (void)mkdir(dir.substr(0, dir.rfind('/')).c_str(), 0700);
  (void)mkdir(dir.c_str(), 0700);
  const std::string tmp = marker + "." + std::to_string(getpid());
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    kept += today + "\t" + db + "\n";
    const bool ok = std::fputs(kept.c_str(), f) >= 0;
    if (std::fclose(f) == 0 && ok) {
      (void)std::rename(tmp.c_str(), marker.c_str());
    } else {
      (void)std::remove(tmp.c_str());
    }
  }
  return true;
}

// Opens the database, reporting a failure as one "error:" line. Without
// --pool, sizes the pool to what the process may lock and says why in
// *pool_note.
bool OpenDatabase(const ShellOptions& so, std::unique_ptr<DB>* db, std::string* pool_note) {
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
  if (so.pool_bytes != 0) {
    options.buffer_pool_bytes = so.pool_bytes;
  } else if (options.lock_pool_memory) {
    const size_t pool = ChooseDefaultPool(LockableBytes(), options.buffer_pool_bytes, pool_note);
    if (pool != 0) options.buffer_pool_bytes = pool;
  }
  if (!so.policy.empty()) options.eviction_policy = so.policy;
  options.row_cache_bytes = so.row_cache_bytes;
  // The engine's notices go to stderr as before, except the one about
  // memory locking: once a day per database (`stats` shows it always).
  const std::string path = so.path;
  options.info_log = [path](std::string_view msg) {
    if (msg.find("RLIMIT_MEMLOCK") != std::string_view::npos) {
      if (!FirstMemlockNoticeToday(path)) return;
      std::fprintf(stderr, "ringdb: %.*s (said once a day per database; stats shows it)\n",
                   static_cast<int>(msg.size()), msg.data());
      return;
    }
    std::fprintf(stderr, "ringdb: %.*s\n", static_cast<int>(msg.size()), msg.data());
  };
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
      if (!OpenDatabase(so, &db, &ctx.pool_note)) return kExitFailed;
      ctx.db = db.get();
    }
    status = RunOneShot(&ctx, so.command, stderr);
  } else {
    if (!OpenDatabase(so, &db, &ctx.pool_note)) return kExitFailed;
    ctx.db = db.get();
    if (interactive) {
      std::string snapshot;
      (void)db->GetProperty("ringdb.read_only_snapshot", &snapshot);
      const std::string banner = std::string(Version()) + " on " + so.path +
                                 (!snapshot.empty() ? " (read-only, beside a writer: its last "
                                                      "checkpoint)"
                                  : so.read_only    ? " (read-only)"
                                                    : "") +
                                 (ctx.pool_note.empty() ? "" : "; " + ctx.pool_note) +
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
