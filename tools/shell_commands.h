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
#include <map>
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
  // Print valid UTF-8 sequences as they are instead of \xHH escapes (the
  // locale's character set is UTF-8). Files written by dump stay ASCII.
  bool utf8 = false;
  // The output format (--format): "text" (the quoted form), "tsv", "csv"
  // or "json"; a command's own --format overrides it.
  std::string format = "text";
  // True when standard input is free for `put KEY -` and `load -`
  // (one-shot mode).
  bool stdin_free = false;
  // --timer: RunOneShot / RunLine print each command's time on stderr.
  bool timer = false;
  // Why the shell chose the pool size (shell_memlock.h); `stats` prints
  // it. Empty when the user or the engine chose.
  std::string pool_note;
  // The options of the running command, set by RunCommand from the
  // command's declared options: name (with the dashes) -> value ("" for a
  // flag). Commands read them with Opt / HasOpt.
  std::map<std::string, std::string> opts;
};

// True when the running command was given option `name` (e.g. "--reverse").
bool HasOpt(const ShellContext* ctx, const std::string& name);
// The value of option `name`, or `fallback` when it was not given.
std::string Opt(const ShellContext* ctx, const std::string& name,
                const std::string& fallback = "");

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
  // The options the command takes, e.g. "--limit N --prefix P --reverse": a
  // word in capitals after an option is its value. Null: none. Any other
  // unquoted argument that starts with "--" (before a bare "--") is a usage
  // error. RunCommand moves the options into ShellContext::opts and passes
  // only the positional arguments to `run`; min_args/max_args count those.
  const char* options = nullptr;
  // More text for `help COMMAND`; may be null.
  const char* details = nullptr;
};

// The help table: every command, in the order `help` lists them.
const std::vector<CommandSpec>& Commands();

// The command called `name` (aliases included, case-insensitive), or null.
const CommandSpec* FindCommand(std::string_view name);

// Splits args (args[0] is the command) into the positional arguments
// (*positional, starting with the command name) and the options `spec`
// declares (*opts). Returns false with *error for an unknown option or a
// missing option value.
bool SplitOptions(const CommandSpec& spec, const std::vector<Arg>& args,
                  std::vector<Arg>* positional,
                  std::map<std::string, std::string>* opts, std::string* error);

// Checks that args name a known command with a valid argument count, without
// running it. Returns kOk or kUsage. Require: !args.empty().
CommandResult CheckUsage(const std::vector<Arg>& args);

// Checks the argument count and runs the command args[0]. Returns kUsage for
// an unknown command or a wrong argument count. Require: !args.empty().
CommandResult RunCommand(ShellContext* ctx, const std::vector<Arg>& args);

// Writes the help table to `out`.
void PrintHelp(FILE* out);

// The name of the known command closest to `name` (a typo), or "".
std::string SuggestCommand(std::string_view name);

// " (did you mean NAME?)" for a typo of a command, else
// " (type help for the list)".
std::string DidYouMean(std::string_view name);

// Output in the format of the running command (its --format, else
// ctx->format), honouring ctx->utf8 (shell_format.cc). Each returns one line
// without its '\n'.
//   text: FormatDumpLine / FormatBytes / (nil)
//   tsv:  KEY<TAB>VALUE, raw bytes with \\ \t \n \r escaped; a miss is \N
//   csv:  RFC 4180 (fields quoted when needed, "" for a quote); a miss is an
//         empty unquoted field, an empty value is ""
//   json: {"key":"...","value":"..."} per line; a field that is not UTF-8 is
//         "key_base64"/"value_base64"; a miss has "value":null
std::string FormatPair(const ShellContext* ctx, std::string_view key, std::string_view value);
// The line `get`/`mget` print for a found value / a missing key.
std::string FormatValue(const ShellContext* ctx, std::string_view key, std::string_view value);
std::string FormatMissing(const ShellContext* ctx, std::string_view key);
// The running command's format ("text", "tsv", "csv" or "json"); false with
// *error for an unknown one.
bool OutputFormat(const ShellContext* ctx, std::string* format, std::string* error);
// Parses one record of `format` (a csv record may span lines) into *key and
// *value; false with *error.
bool ParseRecord(const std::string& format, std::string_view record, std::string* key,
                 std::string* value, std::string* error);

// Reads a value given as "-" (standard input; only when ctx->stdin_free) or
// "@FILE". False with *error.
bool ReadValueSource(const ShellContext* ctx, const std::string& source, std::string* value,
                     std::string* error);

// Commands implemented in shell_load_dump.cc.
CommandResult CmdLoad(ShellContext* ctx, const std::vector<Arg>& args);
CommandResult CmdDump(ShellContext* ctx, const std::vector<Arg>& args);

// Commands implemented in shell_more_commands.cc.
CommandResult CmdExists(ShellContext* ctx, const std::vector<Arg>& args);
CommandResult CmdDelRange(ShellContext* ctx, const std::vector<Arg>& args);

// Writes `text` to ctx->out; false on a write error (errno set).
bool Write(ShellContext* ctx, std::string_view text);
bool WriteLine(ShellContext* ctx, std::string_view text);

// True when ctx->interrupted is set.
bool Interrupted(const ShellContext* ctx);

}  // namespace ringdb::shell
