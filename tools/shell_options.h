// Command-line options of the ringdb shell:
//
//   ringdb [OPTIONS] PATH [COMMAND [ARGS...]]
//
// Options come before PATH or right after it (`ringdb x.db --no-create get
// k`); everything from the command on is the command and its arguments,
// passed through untouched (so `ringdb db scan --limit 5` works).
// PATH may be left out; it is then ./ringdb.db. Because of that, the first
// non-option argument is PATH unless it is a command name AND nothing exists
// at that path: `ringdb get k` reads key k from ./ringdb.db, but in a
// directory that holds a database called "get" it opens that database and
// runs the command "k".
//
// Pure parsing (no DB access); safe on one thread at a time (getopt_long
// keeps global state).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ringdb/options.h"

namespace ringdb::shell {

inline constexpr char kDefaultPath[] = "./ringdb.db";

struct ShellOptions {
  std::string path = kDefaultPath;
  // The one-shot command and its arguments; empty for batch / interactive.
  std::vector<std::string> command;
  size_t pool_bytes = 0;  // 0: the engine's default.
  std::string policy;     // Empty: the engine's default.
  uint64_t row_cache_bytes = Options::kAutoRowCacheBytes;  // Options::row_cache_bytes
  bool sync = false;
  bool create = true;
  bool read_only = false;
  bool bail = false;
  bool timer = false;        // --timer: each command's time on stderr.
  std::string format;        // --format; empty: text.
};

enum class ParseOutcome { kRun, kHelp, kVersion, kUsageError };

// Parses argv. is_command(name) tells command names; path_exists(path) tells
// whether something exists at a path. On kUsageError *error says why.
ParseOutcome ParseShellArgs(int argc, char* const* argv,
                            const std::function<bool(std::string_view)>& is_command,
                            const std::function<bool(const std::string&)>& path_exists,
                            ShellOptions* options, std::string* error);

// The --help text.
std::string UsageText();

}  // namespace ringdb::shell
