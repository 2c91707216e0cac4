// The command table and the commands that are one DB call each, plus scan
// and count. load and dump live in shell_load_dump.cc.
#include "shell_commands.h"
#include "parse_size.h"
#include "shell_options.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
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
  std::string msg = std::string(what) + ": " + s.ToString();
  // The engine's NoSpace names the directory and the space it needs.
  if (s.IsNoSpace()) msg += " (free space there, then run: resume)";
  return CommandResult::Error(msg);
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
  std::string from_file;
  const std::string* value = &args[2].value;
  if (!args[2].quoted && (args[2].value == "-" || args[2].value.rfind('@', 0) == 0)) {
    std::string error;
    if (!ReadValueSource(ctx, args[2].value, &from_file, &error)) {
      return CommandResult::Error("put " + ShowKey(args[1].value) + ": " + error);
    }
    value = &from_file;
  }
  Status s = ctx->db->Put(ctx->write_options, args[1].value, *value);
  if (!s.ok()) return FromStatus(s, "put " + ShowKey(args[1].value));
  return PrintOk(ctx);
}

CommandResult CmdGet(ShellContext* ctx, const std::vector<Arg>& args) {
  std::string value;
  Status s = ctx->db->Get(ReadOptions(), args[1].value, &value);
  if (s.IsNotFound()) {
    return WriteLine(ctx, FormatMissing(ctx, args[1].value)) ? CommandResult::Missing()
                                                             : WriteFailed();
  }
  if (!s.ok()) return FromStatus(s, "get " + ShowKey(args[1].value));
  return WriteLine(ctx, FormatValue(ctx, args[1].value, value)) ? CommandResult::Ok()
                                                                : WriteFailed();
}

// del KEY prints 1 when KEY was there (and is now deleted), 0 when it was
// not (nothing is written then).
CommandResult CmdDel(ShellContext* ctx, const std::vector<Arg>& args) {
  std::string value;
  Status s = ctx->db->Get(ReadOptions(), args[1].value, &value);
  if (s.IsNotFound()) return WriteLine(ctx, "0") ? CommandResult::Ok() : WriteFailed();
  if (s.ok()) s = ctx->db->Delete(ctx->write_options, args[1].value);
  if (!s.ok()) return FromStatus(s, "del " + ShowKey(args[1].value));
  return WriteLine(ctx, "1") ? CommandResult::Ok() : WriteFailed();
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
    const bool ok = statuses[i].ok() ? WriteLine(ctx, FormatValue(ctx, keys[i], values[i]))
                                     : WriteLine(ctx, FormatMissing(ctx, keys[i]));
    if (!ok) return WriteFailed();
  }
  return CommandResult::Ok();
}

// The arguments of scan, count and delrange: [START [END]] and the options
// --limit N, --reverse, --prefix P (already split off by RunCommand).
struct RangeArgs {
  std::optional<std::string> start;
  std::optional<std::string> end;
  uint64_t limit = UINT64_MAX;
  bool reverse = false;
};

bool ParseRange(const ShellContext* ctx, const std::vector<Arg>& args,
                RangeArgs* range, std::string* error) {
  const std::string name = args[0].value;
  if (args.size() > 1) range->start = args[1].value;
  if (args.size() > 2) range->end = args[2].value;
  range->reverse = HasOpt(ctx, "--reverse");
  if (HasOpt(ctx, "--limit")) {
    const std::string n = Opt(ctx, "--limit");
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(n.c_str(), &end, 10);
    if (n.empty() || n[0] == '-' || *end != '\0' || errno != 0) {
      *error = name + ": bad --limit " + FormatBytes(n) + " (expected a whole number)";
      return false;
    }
    range->limit = v;
  }
  if (HasOpt(ctx, "--prefix")) {
    if (range->start || range->end) {
      *error = name + ": give either --prefix or START/END, not both";
      return false;
    }
    const std::string prefix = Opt(ctx, "--prefix");
    // [P, the first key after every key that starts with P).
    range->start = prefix;
    std::string end = prefix;
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
// false, with one iterator: one snapshot of the database (DB::NewIterator),
// so a scan sees no write made after it began. Returns the iterator's
// status or an interruption error.
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
  if (!ParseRange(ctx, args, &range, &error)) return CommandResult::Usage(error);
  std::string line;
  return WalkRange(ctx, range, "scan",
                   [&](std::string_view key, std::string_view value) {
                     line = FormatPair(ctx, key, value);
                     return WriteLine(ctx, line);
                   });
}

CommandResult CmdCount(ShellContext* ctx, const std::vector<Arg>& args) {
  RangeArgs range;
  std::string error;
  if (!ParseRange(ctx, args, &range, &error)) return CommandResult::Usage(error);
  if (HasOpt(ctx, "--estimate")) {
    if (range.start || range.end || HasOpt(ctx, "--limit")) {
      return CommandResult::Usage("count: --estimate counts the whole database (no range or --limit)");
    }
    std::string estimate;
    if (!ctx->db->GetProperty("ringdb.estimate-num-keys", &estimate)) {
      return CommandResult::Error("count: the engine has no ringdb.estimate-num-keys property");
    }
    return WriteLine(ctx, estimate) ? CommandResult::Ok() : WriteFailed();
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
  // The tree's fill walks every page: the shell asks for it, ringdb.stats
  // does not.
  std::string fill;
  if (ctx->db->GetProperty("ringdb.btree.fill-summary", &fill)) stats += "\n" + fill;
  if (!ctx->pool_note.empty()) stats += "\nshell: " + ctx->pool_note;
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

// pool [SIZE]: without SIZE, the pool's size and use; with SIZE (4096,
// 64MiB, ...), resizes it online (DB::SetBufferPoolBytes).
CommandResult CmdPool(ShellContext* ctx, const std::vector<Arg>& args) {
  if (args.size() > 1) {
    uint64_t bytes = 0;
    if (!cli::ParseSize(args[1].value, &bytes)) {
      return CommandResult::Error("pool: " + ShowKey(args[1].value) +
                                  " is not a size (4096, 64MiB, 1GiB, ...)");
    }
    Status s = ctx->db->SetBufferPoolBytes(bytes);
    if (!s.ok()) return FromStatus(s, "pool " + ShowKey(args[1].value));
    return PrintOk(ctx);
  }
  std::string bytes, frames, used;
  (void)ctx->db->GetProperty("ringdb.pool.bytes", &bytes);
  (void)ctx->db->GetProperty("ringdb.pool.frames", &frames);
  (void)ctx->db->GetProperty("ringdb.pool.used_frames", &used);
  std::string out = "pool " + bytes + " bytes, " + frames + " frames";
  if (!used.empty()) out += ", " + used + " in use";
  return WriteLine(ctx, out) ? CommandResult::Ok() : WriteFailed();
}

CommandResult CmdCheckpoint(ShellContext* ctx, const std::vector<Arg>&) {
  Status s = ctx->db->Checkpoint();
  if (!s.ok()) return FromStatus(s, "checkpoint");
  return PrintOk(ctx);
}

CommandResult CmdResume(ShellContext* ctx, const std::vector<Arg>&) {
  Status s = ctx->db->Resume();
  if (!s.ok()) return FromStatus(s, "resume");
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

// verify: OK, or one line per problem on stdout and "verify: N problems
// found" as the error.
CommandResult CmdVerify(ShellContext* ctx, const std::vector<Arg>&) {
  std::string report;
  Status s = ctx->db->Verify(&report);
  if (s.ok() && report.empty()) return PrintOk(ctx);
  if (!report.empty() && report.back() != '\n') report.push_back('\n');
  size_t problems = 0;
  for (char c : report) problems += c == '\n';
  if (!report.empty() && !Write(ctx, report)) return WriteFailed();
  // The status repeats the first problem: say it only when nothing was listed.
  if (!s.ok() && problems == 0) return FromStatus(s, "verify");
  return CommandResult::Error("verify: " + std::to_string(problems) +
                              (problems == 1 ? " problem found" : " problems found"));
}

CommandResult CmdHelp(ShellContext* ctx, const std::vector<Arg>& args) {
  if (args.size() < 2) {
    PrintHelp(ctx->out);
    return CommandResult::Ok();
  }
  const CommandSpec* spec = FindCommand(args[1].value);
  if (spec == nullptr) {
    return CommandResult::Usage("help: unknown command " + FormatBytes(args[1].value) +
                                DidYouMean(args[1].value));
  }
  std::string text = std::string("usage: ") + spec->usage + "\n";
  if (spec->summary != nullptr) text += std::string(spec->summary) + "\n";
  if (spec->details != nullptr) text += spec->details;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return WriteLine(ctx, text) ? CommandResult::Ok() : WriteFailed();
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
      {"put", "put KEY VALUE", "store VALUE under KEY; prints OK", 2, 2, true, CmdPut, nullptr,
       "VALUE - reads the value from standard input (one-shot mode only);\n"
       "VALUE @FILE reads it from FILE. Quote a value that starts with @ or is -\n"
       "(\"@x\"); in one-shot mode, where arguments are literal, pipe it in with -.\n"},
      {"get", "get KEY [--format F]", "print the value of KEY, or (nil)", 1, 1, true, CmdGet,
       "--format F", "A stored value (nil) prints quoted: \"(nil)\".\n"},
      {"exists", "exists KEY", "print 1 if KEY is there, else 0 (one-shot exit status 0 / 1)", 1,
       1, true, CmdExists},
      {"del", "del KEY", "delete KEY; prints 1 if it was there, 0 if not", 1, 1, true, CmdDel},
      {"delrange", "delrange START END", "delete every key in START <= key < END; prints the count",
       2, 2, true, CmdDelRange},
      {"mget", "mget KEY... [--format F]", "one line per KEY: its value or (nil)", 1, -1, true,
       CmdMget, "--format F"},
      {"scan", "scan [START [END]] [--prefix P] [--limit N] [--reverse] [--format F]",
       "print KEY<TAB>VALUE for START <= key < END", 0, 2, true, CmdScan,
       "--prefix P --limit N --reverse --format F",
       "Options and keys may come in any order; quote a key that starts with --\n"
       "or put -- before it. --format tsv|csv|json|text (see README).\n"},
      {"count", "count [START [END]] [--prefix P] [--limit N] [--estimate]",
       "count the keys in START <= key < END (or starting with P)", 0, 2, true, CmdCount,
       "--prefix P --limit N --estimate",
       "--estimate prints the ringdb.estimate-num-keys property instead of\n"
       "walking the keys (fast, approximate).\n"},
      {"stats", "stats", "print the engine's statistics", 0, 0, true, CmdStats},
      {"policy", "policy [NAME]", "show the eviction policy and each one's simulated miss ratio, or switch to NAME", 0, 1, true, CmdPolicy},
      {"mrc", "mrc", "print the predicted miss ratio at 1/8x to 8x the pool size", 0, 0, true, CmdMrc},
      {"pool", "pool [SIZE]", "show the buffer pool's size, or resize it online to SIZE (e.g. 32MiB)",
       0, 1, true, CmdPool},
      {"checkpoint", "checkpoint", "write dirty pages and trim the log; prints OK", 0, 0, true, CmdCheckpoint},
      {"resume", "resume", "accept writes again after a write error (a full disk); prints OK", 0, 0,
       true, CmdResume},
      {"load", "load FILE|- [--keep-going] [--format F]",
       "load KEY<TAB>VALUE lines (dump's format), all or nothing; prints OK N", 1, 1, true,
       CmdLoad, "--keep-going --format F",
       "By default the whole file is one atomic write: a bad line or a failed\n"
       "write loads nothing. --keep-going commits every 1000 pairs and stops at\n"
       "the first bad line, keeping what was loaded before it. - is standard input.\n"},
      {"dump", "dump [FILE|-] [--format F]",
       "write every pair as KEY<TAB>VALUE (to FILE: prints OK N)", 0, 1, true, CmdDump,
       "--format F"},
      {"salvage", "salvage DB point-in-time|skip [FILE]",
       "open DB past log damage (repairing it) and dump what is readable", 2, 3, false, CmdSalvage},
      {"verify", "verify", "check checksums and tree order; prints OK or the problems", 0, 0, true, CmdVerify},
      {"compact", "compact", "pack the leaves, move pages down, shrink the data file", 0, 0,
       true, CmdCompact},
      {"backup", "backup DIR", "copy the open database into the new directory DIR while it is in use",
       1, 1, true, CmdBackup},
      {"help", "help [COMMAND]", "list the commands, or describe one", 0, 1, false, CmdHelp},
      {"quit", "quit", "leave the shell (also: exit)", 0, 0, false, CmdQuit},
      {"exit", "exit", nullptr, 0, 0, false, CmdQuit},  // Alias, not listed.
  };
  return kCommands;
}

const CommandSpec* FindCommand(std::string_view name) {
  const std::string lower = cli::AsciiLower(name);
  for (const CommandSpec& spec : Commands()) {
    if (lower == spec.name) return &spec;
  }
  return nullptr;
}

CommandResult CheckUsage(const std::vector<Arg>& args) {
  const CommandSpec* spec = FindCommand(args[0].value);
  if (spec == nullptr) {
    return CommandResult::Usage("unknown command " + FormatBytes(args[0].value) +
                                DidYouMean(args[0].value));
  }
  std::vector<Arg> positional;
  std::map<std::string, std::string> opts;
  std::string error;
  if (!SplitOptions(*spec, args, &positional, &opts, &error)) {
    return CommandResult::Usage(error);
  }
  auto format = opts.find("--format");
  if (format != opts.end() && format->second != "text" && format->second != "tsv" &&
      format->second != "csv" && format->second != "json") {
    return CommandResult::Usage(std::string(spec->name) + ": unknown --format " +
                                FormatBytes(format->second) + " (text, tsv, csv or json)");
  }
  const int n = static_cast<int>(positional.size()) - 1;
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
  std::vector<Arg> positional;
  std::string error;
  (void)SplitOptions(*spec, args, &positional, &ctx->opts, &error);  // Checked above.
  positional[0].value = spec->name;
  CommandResult r = spec->run(ctx, positional);
  ctx->opts.clear();
  return r;
}

bool HasOpt(const ShellContext* ctx, const std::string& name) {
  return ctx->opts.count(name) != 0;
}

std::string Opt(const ShellContext* ctx, const std::string& name, const std::string& fallback) {
  auto it = ctx->opts.find(name);
  return it == ctx->opts.end() ? fallback : it->second;
}

void PrintHelp(FILE* out) {
  // A usage longer than the column goes on a line of its own.
  constexpr size_t kMaxWidth = 36;
  size_t width = 0;
  for (const CommandSpec& spec : Commands()) {
    const size_t len = std::strlen(spec.usage);
    if (spec.summary != nullptr && len <= kMaxWidth) width = std::max(width, len);
  }
  for (const CommandSpec& spec : Commands()) {
    if (spec.summary == nullptr) continue;
    if (std::strlen(spec.usage) > width) {
      std::fprintf(out, "  %s\n  %-*s  %s\n", spec.usage, static_cast<int>(width), "",
                   spec.summary);
    } else {
      std::fprintf(out, "  %-*s  %s\n", static_cast<int>(width), spec.usage, spec.summary);
    }
  }
  std::fputs(
      "Arguments are separated by spaces. Quote one with \"...\" to include\n"
      "spaces or any byte: \\\\ \\\" \\n \\t \\r \\0 \\xHH. Output uses the same form.\n"
      "Command names are case-insensitive; help COMMAND describes one.\n",
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
