// The command table and the commands that are one DB call each, plus scan
// and count. load and dump live in shell_load_dump.cc.
#include "shell_commands.h"

#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

namespace ringdb::shell {

namespace {

CommandResult FromStatus(const Status& s, std::string_view what) {
  if (s.ok()) return CommandResult::Ok();
  return CommandResult::Error(std::string(what) + ": " + s.ToString());
}

// A key as shown in an error message: quoted like output, cut after 60
// bytes so that a huge key does not flood the terminal.
std::string ShowKey(std::string_view key) {
  constexpr size_t kMaxShown = 60;
  if (key.size() <= kMaxShown) return FormatBytes(key);
  return FormatBytes(key.substr(0, kMaxShown)) + "... (" +
         std::to_string(key.size()) + " bytes)";
}

CommandResult WriteFailed() {
  return CommandResult::Error(std::string("writing output: ") +
                              std::strerror(errno));
}

CommandResult PrintOk(ShellContext* ctx) {
  return WriteLine(ctx, "OK") ? CommandResult::Ok() : WriteFailed();
}

CommandResult CmdPut(ShellContext* ctx, const std::vector<Arg>& args) {
  Status s = ctx->db->Put(ctx->write_options, args[1].value, args[2].value);
  if (!s.ok()) return FromStatus(s, "put " + ShowKey(args[1].value));
  return PrintOk(ctx);
}

CommandResult CmdGet(ShellContext* ctx, const std::vector<Arg>& args) {
  std::string value;
  Status s = ctx->db->Get(ReadOptions(), args[1].value, &value);
  if (s.IsNotFound()) {
    return WriteLine(ctx, "(nil)") ? CommandResult::Missing() : WriteFailed();
  }
  if (!s.ok()) return FromStatus(s, "get " + ShowKey(args[1].value));
  return WriteLine(ctx, FormatBytes(value)) ? CommandResult::Ok()
                                            : WriteFailed();
}

CommandResult CmdDel(ShellContext* ctx, const std::vector<Arg>& args) {
  Status s = ctx->db->Delete(ctx->write_options, args[1].value);
  if (!s.ok() && !s.IsNotFound()) {
    return FromStatus(s, "del " + ShowKey(args[1].value));
  }
  return PrintOk(ctx);
}

CommandResult CmdMget(ShellContext* ctx, const std::vector<Arg>& args) {
  std::vector<std::string_view> keys;
  for (size_t i = 1; i < args.size(); ++i) keys.push_back(args[i].value);
  std::vector<std::string> values;
  std::vector<Status> statuses = ctx->db->MultiGet(ReadOptions(), keys, &values);
  // Check every lookup before printing, so a failure prints nothing.
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!statuses[i].ok() && !statuses[i].IsNotFound()) {
      return FromStatus(statuses[i], "mget " + ShowKey(keys[i]));
    }
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool ok = statuses[i].ok() ? WriteLine(ctx, FormatBytes(values[i]))
                                     : WriteLine(ctx, "(nil)");
    if (!ok) return WriteFailed();
  }
  return CommandResult::Ok();
}

// The arguments of scan and count: [START [END]] [--limit N] [--reverse]
// [--prefix P]. Quoted arguments and everything after "--" are never
// options; an unknown option is a usage error.
struct RangeArgs {
  std::optional<std::string> start;
  std::optional<std::string> end;
  uint64_t limit = UINT64_MAX;
  bool reverse = false;
};

bool ParseRange(const std::vector<Arg>& args, bool allow_options,
                RangeArgs* range, std::string* error) {
  const std::string name = args[0].value;
  bool options_done = false;
  std::optional<std::string> prefix;
  for (size_t i = 1; i < args.size(); ++i) {
    const Arg& arg = args[i];
    const bool is_option = allow_options && !options_done && !arg.quoted &&
                           arg.value.size() > 2 && arg.value.rfind("--", 0) == 0;
    if (allow_options && !options_done && !arg.quoted && arg.value == "--") {
      options_done = true;
    } else if (is_option && arg.value == "--reverse") {
      range->reverse = true;
    } else if (is_option && arg.value == "--prefix") {
      if (i + 1 >= args.size()) {
        *error = name + ": --prefix needs a value";
        return false;
      }
      prefix = args[++i].value;
    } else if (is_option && arg.value == "--limit") {
      if (i + 1 >= args.size()) {
        *error = name + ": --limit needs a number";
        return false;
      }
      const std::string& n = args[++i].value;
      char* end = nullptr;
      errno = 0;
      const unsigned long long v = std::strtoull(n.c_str(), &end, 10);
      if (n.empty() || n[0] == '-' || *end != '\0' || errno != 0) {
        *error = name + ": bad --limit " + FormatBytes(n) +
                 " (expected a whole number)";
        return false;
      }
      range->limit = v;
    } else if (is_option) {
      *error = name + ": unknown option " + arg.value +
               " (quote a key that starts with --, or put -- before it)";
      return false;
    } else if (!range->start) {
      range->start = arg.value;
    } else if (!range->end) {
      range->end = arg.value;
    } else {
      *error = name + ": too many arguments";
      return false;
    }
  }
  if (prefix) {
    if (range->start || range->end) {
      *error = name + ": give either --prefix or START/END, not both";
      return false;
    }
    // [P, the first key after every key that starts with P).
    range->start = *prefix;
    std::string end = *prefix;
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
    if (!end.empty()) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      range->end = end;
    }
  }
  return true;
}

// Positions `it` on the first key of the range in scan order.
void SeekRangeStart(Iterator* it, const RangeArgs& range) {
  if (!range.reverse) {
    if (range.start) {
      it->Seek(*range.start);
    } else {
      it->SeekToFirst();
    }
    return;
  }
  if (!range.end) {
    it->SeekToLast();
    return;
  }
  it->SeekForPrev(*range.end);
  if (it->Valid() && it->key() == *range.end) it->Prev();  // END is exclusive.
}

bool InRange(const Iterator& it, const RangeArgs& range) {
  if (!range.reverse) return !range.end || it.key() < *range.end;
  return !range.start || it.key() >= *range.start;
}

// Walks the range, calling visit(key, value) per pair until it returns
// false. Returns the iterator's status or an interruption error.
template <typename Visit>
CommandResult WalkRange(ShellContext* ctx, const RangeArgs& range,
                        std::string_view what, Visit visit) {
  std::unique_ptr<Iterator> it = ctx->db->NewIterator(ReadOptions());
  uint64_t seen = 0;
  for (SeekRangeStart(it.get(), range);
       it->Valid() && InRange(*it, range) && seen < range.limit;
       range.reverse ? it->Prev() : it->Next()) {
    if (Interrupted(ctx)) return CommandResult::Error(std::string(what) + ": interrupted");
    if (!visit(it->key(), it->value())) return WriteFailed();
    ++seen;
  }
  return FromStatus(it->status(), what);
}

CommandResult CmdScan(ShellContext* ctx, const std::vector<Arg>& args) {
  RangeArgs range;
  std::string error;
  if (!ParseRange(args, /*allow_options=*/true, &range, &error)) {
    return CommandResult::Usage(error);
  }
  std::string line;
  return WalkRange(ctx, range, "scan",
                   [&](std::string_view key, std::string_view value) {
                     line = FormatDumpLine(key, value);
                     return WriteLine(ctx, line);
                   });
}

CommandResult CmdCount(ShellContext* ctx, const std::vector<Arg>& args) {
  RangeArgs range;
  std::string error;
  if (!ParseRange(args, /*allow_options=*/true, &range, &error)) {
    return CommandResult::Usage(error);
  }
  uint64_t n = 0;
  CommandResult r = WalkRange(ctx, range, "count",
                              [&](std::string_view, std::string_view) {
                                ++n;
                                return true;
                              });
  if (r.failed()) return r;
  return WriteLine(ctx, std::to_string(n)) ? CommandResult::Ok() : WriteFailed();
}

CommandResult CmdStats(ShellContext* ctx, const std::vector<Arg>&) {
  std::string stats;
  if (!ctx->db->GetProperty("ringdb.stats", &stats)) {
    return CommandResult::Error("stats: the engine has no ringdb.stats property");
  }
  if (!stats.empty() && stats.back() == '\n') stats.pop_back();
  return WriteLine(ctx, stats) ? CommandResult::Ok() : WriteFailed();
}

// policy [NAME]: without NAME, the policy in use and every policy's
// simulated miss ratio (ringdb.cache.policies); with NAME, switches to it.
CommandResult CmdPolicy(ShellContext* ctx, const std::vector<Arg>& args) {
  if (args.size() > 1) {
    Status s = ctx->db->SetEvictionPolicy(args[1].value);
    if (!s.ok()) return FromStatus(s, "policy " + ShowKey(args[1].value));
    return PrintOk(ctx);
  }
  std::string current, table;
  (void)ctx->db->GetProperty("ringdb.pool.policy", &current);
  std::string out = "policy " + current;
  if (ctx->db->GetProperty("ringdb.cache.policies", &table) && !table.empty()) {
    out += "\nsimulated miss ratio at the pool size:\n" + table;
    if (out.back() == '\n') out.pop_back();
  }
  return WriteLine(ctx, out) ? CommandResult::Ok() : WriteFailed();
}

// mrc: the predicted LRU miss ratio at sizes from 1/8x to 8x the pool
// (ringdb.cache.mrc) as a table; on a terminal each row gets a bar.
CommandResult CmdMrc(ShellContext* ctx, const std::vector<Arg>&) {
  std::string curve, pool, samples;
  if (!ctx->db->GetProperty("ringdb.cache.mrc", &curve)) {
    return CommandResult::Error("mrc: the engine has no miss-ratio curve");
  }
  (void)ctx->db->GetProperty("ringdb.pool.bytes", &pool);
  (void)ctx->db->GetProperty("ringdb.cache.mrc_samples", &samples);
  const bool bars = isatty(fileno(ctx->out));
  std::string out = "cache bytes      miss ratio  (LRU, from " + samples + " sampled accesses)";
  size_t pos = 0;
  while (pos < curve.size()) {
    size_t end = curve.find('\n', pos);
    if (end == std::string::npos) end = curve.size();
    std::string line = curve.substr(pos, end - pos);
    pos = end + 1;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string bytes = line.substr(0, tab), ratio = line.substr(tab + 1);
    char row[160];
    std::snprintf(row, sizeof(row), "\n%-16s %-10s", bytes.c_str(), ratio.c_str());
    out += row;
    if (bars) out += " " + std::string(static_cast<size_t>(std::atof(ratio.c_str()) * 40), '#');
    if (bytes == pool) out += "  <- pool";
  }
  return WriteLine(ctx, out) ? CommandResult::Ok() : WriteFailed();
}

CommandResult CmdCheckpoint(ShellContext* ctx, const std::vector<Arg>&) {
  Status s = ctx->db->Checkpoint();
  if (!s.ok()) return FromStatus(s, "checkpoint");
  return PrintOk(ctx);
}

CommandResult CmdCompact(ShellContext* ctx, const std::vector<Arg>&) {
  std::string before, after;
  (void)ctx->db->GetProperty("ringdb.store.file_bytes", &before);
  Status s = ctx->db->Compact();
  if (!s.ok()) return FromStatus(s, "compact");
  (void)ctx->db->GetProperty("ringdb.store.file_bytes", &after);
  return WriteLine(ctx, "OK data file " + before + " -> " + after + " bytes")
             ? CommandResult::Ok()
             : WriteFailed();
}

CommandResult CmdBackup(ShellContext* ctx, const std::vector<Arg>& args) {
  DB::BackupInfo info;
  Status s = ctx->db->Backup(args[1].value, &info);
  if (!s.ok()) return FromStatus(s, "backup");
  char line[160];
  std::snprintf(line, sizeof(line), "OK %llu bytes in %llu files (%s, %.2f s)",
                static_cast<unsigned long long>(info.bytes),
                static_cast<unsigned long long>(info.files), info.method.c_str(), info.seconds);
  return WriteLine(ctx, line) ? CommandResult::Ok() : WriteFailed();
}

CommandResult CmdVerify(ShellContext* ctx, const std::vector<Arg>&) {
  std::string report;
  Status s = ctx->db->Verify(&report);
  if (s.ok() && report.empty()) return PrintOk(ctx);
  if (!report.empty() && report.back() != '\n') report.push_back('\n');
  size_t problems = 0;
  for (char c : report) problems += c == '\n';
  if (!report.empty() && !Write(ctx, report)) return WriteFailed();
  if (!s.ok()) return FromStatus(s, "verify");
  return CommandResult::Error("verify: " + std::to_string(problems) +
                              (problems == 1 ? " problem found" : " problems found"));
}

CommandResult CmdHelp(ShellContext* ctx, const std::vector<Arg>&) {
  PrintHelp(ctx->out);
  return CommandResult::Ok();
}

CommandResult CmdQuit(ShellContext*, const std::vector<Arg>&) {
  return CommandResult::Exit();
}

bool ParseRecoveryMode(std::string_view name, WalRecoveryMode* mode) {
  if (name == "point-in-time") {
    *mode = WalRecoveryMode::kPointInTimeRecovery;
  } else if (name == "skip" || name == "skip-any-corrupted") {
    *mode = WalRecoveryMode::kSkipAnyCorruptedRecords;
  } else {
    return false;
  }
  return true;
}

// salvage DB MODE [FILE]: opens the database at DB (not the shell's own)
// with a salvage wal_recovery_mode, prints what recovery dropped or skipped
// (lines starting "salvage: " on stderr) and dumps every readable pair.
// Opening repairs the database in place: the damaged log is replaced by a
// checkpoint of what was recovered.
CommandResult CmdSalvage(ShellContext* ctx, const std::vector<Arg>& args) {
  Options options;
  options.create_if_missing = false;
  if (!ParseRecoveryMode(args[2].value, &options.wal_recovery_mode)) {
    return CommandResult::Usage("salvage: unknown mode " + FormatBytes(args[2].value) +
                                " (point-in-time or skip)");
  }
  options.info_log = [](std::string_view msg) {
    std::fprintf(stderr, "salvage: %.*s\n", static_cast<int>(msg.size()), msg.data());
  };
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, args[1].value, &db);
  if (!s.ok()) return FromStatus(s, "salvage: cannot open " + FormatBytes(args[1].value));
  ShellContext dump_ctx = *ctx;
  dump_ctx.db = db.get();
  std::vector<Arg> dump_args = {Arg{"dump", false}};
  if (args.size() > 3) dump_args.push_back(args[3]);
  CommandResult r = CmdDump(&dump_ctx, dump_args);
  s = db->Close();
  if (!r.failed() && !s.ok()) return FromStatus(s, "salvage: closing " + FormatBytes(args[1].value));
  return r;
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"put", "put KEY VALUE", "store VALUE under KEY; prints OK", 2, 2, true, CmdPut},
      {"get", "get KEY", "print the value of KEY, or (nil)", 1, 1, true, CmdGet},
      {"del", "del KEY", "delete KEY (OK also when missing)", 1, 1, true, CmdDel},
      {"mget", "mget KEY...", "one line per KEY: its value or (nil)", 1, -1, true, CmdMget},
      {"scan", "scan [START [END]] [--prefix P] [--limit N] [--reverse]",
       "print KEY<TAB>VALUE for START <= key < END", 0, -1, true, CmdScan},
      {"count", "count [START [END]] [--prefix P] [--limit N]",
       "count the keys in START <= key < END (or starting with P)", 0, -1, true, CmdCount},
      {"stats", "stats", "print the engine's statistics", 0, 0, true, CmdStats},
      {"policy", "policy [NAME]", "show the eviction policy and each one's simulated miss ratio, or switch to NAME", 0, 1, true, CmdPolicy},
      {"mrc", "mrc", "print the predicted miss ratio at 1/8x to 8x the pool size", 0, 0, true, CmdMrc},
      {"checkpoint", "checkpoint", "write dirty pages and trim the log; prints OK", 0, 0, true, CmdCheckpoint},
      {"load", "load FILE", "bulk-load KEY<TAB>VALUE lines (dump's format); prints OK N", 1, 1, true, CmdLoad},
      {"dump", "dump [FILE]", "write every pair as KEY<TAB>VALUE (to FILE: prints OK N)", 0, 1, true, CmdDump},
      {"salvage", "salvage DB point-in-time|skip [FILE]",
       "open DB past log damage (repairing it) and dump what is readable", 2, 3, false, CmdSalvage},
      {"verify", "verify", "check checksums and tree order; prints OK or the problems", 0, 0, true, CmdVerify},
      {"compact", "compact", "move pages down and shrink the data file to the live data", 0, 0,
       true, CmdCompact},
      {"backup", "backup DIR", "copy the open database into the new directory DIR while it is in use",
       1, 1, true, CmdBackup},
      {"help", "help", "list the commands", 0, 0, false, CmdHelp},
      {"quit", "quit", "leave the shell (also: exit)", 0, 0, false, CmdQuit},
      {"exit", "exit", nullptr, 0, 0, false, CmdQuit},  // Alias, not listed.
  };
  return kCommands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& spec : Commands()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

CommandResult CheckUsage(const std::vector<Arg>& args) {
  const CommandSpec* spec = FindCommand(args[0].value);
  if (spec == nullptr) {
    return CommandResult::Usage("unknown command " + FormatBytes(args[0].value) +
                                " (type help for the list)");
  }
  const int n = static_cast<int>(args.size()) - 1;
  if (n < spec->min_args || (spec->max_args >= 0 && n > spec->max_args)) {
    return CommandResult::Usage(std::string("wrong number of arguments for ") +
                                spec->name + " (usage: " + spec->usage + ")");
  }
  return CommandResult::Ok();
}

CommandResult RunCommand(ShellContext* ctx, const std::vector<Arg>& args) {
  CommandResult usage = CheckUsage(args);
  if (usage.failed()) return usage;
  const CommandSpec* spec = FindCommand(args[0].value);
  if (spec->needs_db && ctx->db == nullptr) {
    return CommandResult::Error(std::string(spec->name) + ": no database is open");
  }
  return spec->run(ctx, args);
}

void PrintHelp(FILE* out) {
  size_t width = 0;
  for (const CommandSpec& spec : Commands()) {
    if (spec.summary != nullptr) width = std::max(width, std::strlen(spec.usage));
  }
  for (const CommandSpec& spec : Commands()) {
    if (spec.summary == nullptr) continue;
    std::fprintf(out, "  %-*s  %s\n", static_cast<int>(width), spec.usage,
                 spec.summary);
  }
  std::fputs(
      "Arguments are separated by spaces. Quote one with \"...\" to include\n"
      "spaces or any byte: \\\\ \\\" \\n \\t \\r \\0 \\xHH. Output uses the same form.\n",
      out);
}

bool Write(ShellContext* ctx, std::string_view text) {
  return std::fwrite(text.data(), 1, text.size(), ctx->out) == text.size();
}

bool WriteLine(ShellContext* ctx, std::string_view text) {
  return Write(ctx, text) && std::fputc('\n', ctx->out) != EOF;
}

bool Interrupted(const ShellContext* ctx) {
  return ctx->interrupted != nullptr && *ctx->interrupted != 0;
}

}  // namespace ringdb::shell
