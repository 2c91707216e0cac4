// The ringdb shell's commands: one table (name, usage, help) and one function
// per command.
//
// A command reads its arguments, talks to the DB through the public API only,
// writes its result to ShellContext::out and returns a CommandResult. It
// never prints errors itself: the caller prints "error: <message>" on stderr,
// so one-shot, batch and interactive modes report problems the same way.
//
// Thread-safety: a ShellContext and the commands run on one thread.
#pragma once

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "ringdb/db.h"
#include "ringdb/options.h"
#include "shell_quote.h"

namespace ringdb::shell {

struct CommandResult {
  enum class Kind {
    kOk,       // Done.
    kMissing,  // `get` of a missing key: printed (nil); a failure only in
               // one-shot mode (exit status 1).
    kError,    // Failed; `message` says why.
    kUsage,    // Bad usage (unknown command, wrong arguments); `message`.
    kExit,     // quit / exit.
  };
  Kind kind = Kind::kOk;
  std::string message;

  static CommandResult Ok() { return {}; }
  static CommandResult Missing() { return {Kind::kMissing, {}}; }
  static CommandResult Error(std::string msg) { return {Kind::kError, std::move(msg)}; }
  static CommandResult Usage(std::string msg) { return {Kind::kUsage, std::move(msg)}; }
  static CommandResult Exit() { return {Kind::kExit, {}}; }
  bool failed() const { return kind == Kind::kError || kind == Kind::kUsage; }
};

// What a command may use. The DB is owned by the caller and outlives the
// context; it may be null for commands that do not need one (help, quit).
struct ShellContext {
  DB* db = nullptr;
  WriteOptions write_options;  // sync = --sync.
  FILE* out = stdout;
  // Where `load` draws its progress bar; null for none.
  FILE* progress = nullptr;
  // Set (from a signal handler) to stop a long scan, dump or load.
  volatile const sig_atomic_t* interrupted = nullptr;
};

using CommandFn = CommandResult (*)(ShellContext* ctx,
                                    const std::vector<Arg>& args);

struct CommandSpec {
  const char* name;
  const char* usage;    // e.g. "put KEY VALUE".
  const char* summary;  // One line for `help`.
  int min_args;         // Arguments after the name.
  int max_args;         // -1: no limit.
  bool needs_db;
  CommandFn run;
};

// The help table: every command, in the order `help` lists them.
const std::vector<CommandSpec>& Commands();

// The command called `name` (aliases included), or null.
const CommandSpec* FindCommand(std::string_view name);

// Checks that args name a known command with a valid argument count, without
// running it. Returns kOk or kUsage. Require: !args.empty().
CommandResult CheckUsage(const std::vector<Arg>& args);

// Checks the argument count and runs the command args[0]. Returns kUsage for
// an unknown command or a wrong argument count. Require: !args.empty().
CommandResult RunCommand(ShellContext* ctx, const std::vector<Arg>& args);

// Writes the help table to `out`.
void PrintHelp(FILE* out);

// Commands implemented in shell_load_dump.cc.
CommandResult CmdLoad(ShellContext* ctx, const std::vector<Arg>& args);
CommandResult CmdDump(ShellContext* ctx, const std::vector<Arg>& args);

// Writes `text` to ctx->out; false on a write error (errno set).
bool Write(ShellContext* ctx, std::string_view text);
bool WriteLine(ShellContext* ctx, std::string_view text);

// True when ctx->interrupted is set.
bool Interrupted(const ShellContext* ctx);

}  // namespace ringdb::shell
