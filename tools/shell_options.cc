// Command-line parsing for the ringdb shell (see shell_options.h).
//
// Flags are parsed with getopt_long from libc: the shell has a handful of
// global flags followed by a subcommand whose own arguments must be left
// alone, which getopt_long's "+" mode (stop at the first non-option) does
// exactly; none of the flag libraries packaged for Debian fits that shape
// better.
#include "shell_options.h"

#include <getopt.h>

#include <cstdint>

#include "parse_size.h"

namespace ringdb::shell {

namespace {

enum LongOnly {
  kOptPool = 1000,
  kOptPolicy,
  kOptSync,
  kOptCreate,
  kOptNoCreate,
  kOptReadOnly,
  kOptBail,
  kOptHelp,
  kOptVersion,
  kOptTimer,
  kOptFormat,
  kOptRowCache,
};

// Parses the options in argv[1..] up to the first non-option with
// getopt_long. Returns kRun (stopped at *next), kHelp, kVersion or
// kUsageError (*error).
ParseOutcome ParseFlags(int argc, char* const* argv, ShellOptions* options, int* next,
                        std::string* error) {
  static const option kLongOptions[] = {
      {"pool", required_argument, nullptr, kOptPool},
      {"policy", required_argument, nullptr, kOptPolicy},
      {"row-cache", required_argument, nullptr, kOptRowCache},
      {"sync", no_argument, nullptr, kOptSync},
      {"create", no_argument, nullptr, kOptCreate},
      {"no-create", no_argument, nullptr, kOptNoCreate},
      {"readonly", no_argument, nullptr, kOptReadOnly},
      {"read-only", no_argument, nullptr, kOptReadOnly},
      {"bail", no_argument, nullptr, kOptBail},
      {"timer", no_argument, nullptr, kOptTimer},
      {"format", required_argument, nullptr, kOptFormat},
      {"help", no_argument, nullptr, kOptHelp},
      {"version", no_argument, nullptr, kOptVersion},
      {nullptr, 0, nullptr, 0},
  };
  optind = 0;  // Full re-initialization (glibc), so we may parse again.
  opterr = 0;  // We word the errors ourselves.
  bool help = false;
  bool version = false;
  while (true) {
    const int c = getopt_long(argc, argv, "+:h", kLongOptions, nullptr);
    if (c == -1) break;
    switch (c) {
      case kOptPool:
        if (uint64_t bytes = 0; cli::ParseSize(optarg, &bytes)) {
          options->pool_bytes = static_cast<size_t>(bytes);
        } else {
          *error = std::string("bad --pool size '") + optarg +
                   "' (examples: 64MiB, 1GiB, 512KiB, 1048576)";
          return ParseOutcome::kUsageError;
        }
        break;
      case kOptRowCache:
        // ParseSize refuses 0 (a size of nothing); here 0 means none.
        if (uint64_t bytes = 0; std::string_view(optarg) == "auto") {
          options->row_cache_bytes = Options::kAutoRowCacheBytes;
        } else if (std::string_view(optarg) == "0") {
          options->row_cache_bytes = 0;
        } else if (cli::ParseSize(optarg, &bytes)) {
          options->row_cache_bytes = bytes;
        } else {
          *error = std::string("bad --row-cache size '") + optarg +
                   "' (examples: 16MiB, 0 for none, auto)";
          return ParseOutcome::kUsageError;
        }
        break;
      case kOptPolicy:
        options->policy = optarg;
        if (options->policy.empty()) {
          *error = "--policy needs a name";
          return ParseOutcome::kUsageError;
        }
        break;
      case kOptFormat:
        options->format = cli::AsciiLower(optarg);
        if (options->format != "text" && options->format != "tsv" &&
            options->format != "csv" && options->format != "json") {
          *error = std::string("unknown --format '") + optarg + "' (text, tsv, csv or json)";
          return ParseOutcome::kUsageError;
        }
        break;
      case kOptSync: options->sync = true; break;
      case kOptCreate: options->create = true; break;
      case kOptNoCreate: options->create = false; break;
      case kOptReadOnly: options->read_only = true; break;
      case kOptBail: options->bail = true; break;
      case kOptTimer: options->timer = true; break;
      case 'h':
      case kOptHelp: help = true; break;
      case kOptVersion: version = true; break;
      case ':':
        *error = std::string("option ") + argv[optind - 1] + " needs a value";
        return ParseOutcome::kUsageError;
      default: {
        // getopt_long leaves the offending word at optind - 1.
        const std::string word = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        if (word.rfind("--", 0) == 0 && word.find('=') != std::string::npos &&
            optopt != 0) {
          *error = "option " + word.substr(0, word.find('=')) + " takes no value";
        } else if (word.rfind("--", 0) != 0 && optopt > 0 && optopt < 256) {
          *error = std::string("unknown option -") + static_cast<char>(optopt);
        } else {
          *error = "unknown option " + word;
        }
        return ParseOutcome::kUsageError;
      }
    }
  }
  *next = optind;
  if (help) return ParseOutcome::kHelp;
  if (version) return ParseOutcome::kVersion;
  return ParseOutcome::kRun;
}

}  // namespace

ParseOutcome ParseShellArgs(int argc, char* const* argv,
                            const std::function<bool(std::string_view)>& is_command,
                            const std::function<bool(const std::string&)>& path_exists,
                            ShellOptions* options, std::string* error) {
  int i = 0;
  ParseOutcome outcome = ParseFlags(argc, argv, options, &i, error);
  if (outcome != ParseOutcome::kRun) return outcome;
  if (i < argc) {
    const std::string first = argv[i];
    if (!(is_command(first) && !path_exists(first))) {
      options->path = first;
      ++i;
      // Options right after PATH, before the command: parse them as if
      // they came first (argv[i - 1], PATH, stands in for the program name).
      if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        int consumed = 0;
        outcome = ParseFlags(argc - (i - 1), argv + (i - 1), options, &consumed, error);
        if (outcome != ParseOutcome::kRun) return outcome;
        i += consumed - 1;
      }
    }
  }
  if (options->path.empty()) {
    *error = "empty database path";
    return ParseOutcome::kUsageError;
  }
  for (; i < argc; ++i) options->command.push_back(argv[i]);
  if (options->read_only) options->create = false;
  return ParseOutcome::kRun;
}

std::string UsageText() {
  return R"(usage: ringdb [OPTIONS] [PATH] [COMMAND [ARGS...]]

Opens the ringdb database in directory PATH (default ./ringdb.db) and runs
COMMAND once, or, without one, reads commands from the terminal (with line
editing and history) or one per line from standard input.

Options (before PATH, or between PATH and COMMAND):
  --pool SIZE     buffer pool size, e.g. 64MiB, 1GiB, 512KiB or bytes
  --policy NAME   eviction policy: lru, clock, midpoint, sieve, s3fifo
  --row-cache SIZE  a cache of hot key-value pairs for get, on top of the
                  pool; 0: none; auto (the default): up to three quarters
                  of the pool's budget while skewed gets of data larger
                  than the pool gain from it
  --sync          make every write durable before printing its result
  --create        create the database when missing (the default)
  --no-create     fail when the database does not exist
  --readonly      open read-only (implies --no-create); while another process
                  has the database open for writing, read its last checkpoint
  --bail          with commands from standard input: stop at the first failure
  --format F      output of get, mget, scan, dump (and input of load):
                  text (default), tsv, csv or json
  --timer         print each command's time on standard error
  -h, --help      print this help and exit
  --version       print the version and exit

If the first argument is a command name and no file of that name exists, it
is taken as the command and PATH is ./ringdb.db ("ringdb get k").

Exit status: 0 on success, 1 when a command failed (one-shot: also a get of a
missing key), 2 on bad usage.

Commands (type help in the shell):
)";
}

}  // namespace ringdb::shell
