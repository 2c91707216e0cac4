// load and dump: moving every pair in and out as KEY<TAB>VALUE lines.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "ringdb/write_batch.h"
#include "shell_commands.h"

namespace ringdb::shell {

namespace {

// A load commits this many operations (or bytes) per DB::Write.
constexpr uint32_t kLoadBatchOps = 1000;
constexpr size_t kLoadBatchBytes = 4 << 20;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// getline's buffer.
struct LineBuffer {
  char* data = nullptr;
  size_t capacity = 0;
  ~LineBuffer() { std::free(data); }
};

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Draws "load [#####.....]  42%  N pairs" on a terminal, at most ten times a
// second. total_bytes is 0 when the input's size is unknown.
class ProgressBar {
 public:
  ProgressBar(FILE* out, uint64_t total_bytes) : out_(out), total_(total_bytes) {}

  void Update(uint64_t bytes_done, uint64_t pairs, bool force = false) {
    if (out_ == nullptr) return;
    const double now = NowSeconds();
    if (!force && now - last_ < 0.1) return;
    last_ = now;
    if (total_ > 0) {
      constexpr int kWidth = 30;
      const double frac = std::min(1.0, static_cast<double>(bytes_done) / total_);
      const int filled = static_cast<int>(frac * kWidth);
      std::fprintf(out_, "\rload [%.*s%.*s] %3d%%  %llu pairs", filled,
                   "##############################", kWidth - filled,
                   "..............................", static_cast<int>(frac * 100),
                   static_cast<unsigned long long>(pairs));
    } else {
      std::fprintf(out_, "\rload  %llu pairs", static_cast<unsigned long long>(pairs));
    }
    std::fflush(out_);
    drawn_ = true;
  }

  void Clear() {
    if (out_ == nullptr || !drawn_) return;
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }

 private:
  FILE* out_;
  uint64_t total_;
  double last_ = 0;
  bool drawn_ = false;
};

}  // namespace

CommandResult CmdLoad(ShellContext* ctx, const std::vector<Arg>& args) {
  const std::string& path = args[1].value;
  const bool from_stdin = path == "-" && !args[1].quoted;
  const std::string shown = from_stdin ? "(standard input)" : FormatBytes(path);
  std::string format, error;
  if (!OutputFormat(ctx, &format, &error)) return CommandResult::Usage("load: " + error);
  const bool keep_going = HasOpt(ctx, "--keep-going");
  FilePtr owned;
  FILE* in = stdin;
  if (from_stdin) {
    if (!ctx->stdin_free) {
      return CommandResult::Error(
          "load -: standard input is where the commands come from here; load a file instead");
    }
  } else {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) return CommandResult::Error(Errno("load: cannot open " + shown));
    in = owned.get();
  }
  struct stat st;
  uint64_t total = 0;
  if (fstat(fileno(in), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return CommandResult::Error("load: " + shown + " is a directory");
    }
    if (S_ISREG(st.st_mode)) total = st.st_size;
  }

  ProgressBar progress(ctx->progress, total);
  WriteBatch batch;
  uint64_t loaded = 0;  // Pairs written to the DB.
  uint64_t bytes = 0;
  uint64_t line_no = 0;
  auto flush = [&]() -> Status {
    if (batch.Count() == 0) return Status::OK();
    Status s = ctx->db->Write(ctx->write_options, &batch);
    if (s.ok()) loaded += batch.Count();
    batch.Clear();
    return s;
  };
  // An error at line `at` (0: none) of the input.
  auto fail = [&](uint64_t at, const std::string& msg) {
    // --keep-going keeps every good pair before the bad line.
    if (keep_going && at > 0 && !flush().ok()) batch.Clear();
    progress.Clear();
    std::string where = "load " + shown;
    if (at > 0) where += " line " + std::to_string(at);
    const std::string outcome =
        keep_going ? std::to_string(loaded) + " pairs loaded before it"
                   : "nothing loaded; --keep-going keeps the pairs before a bad line";
    return CommandResult::Error(where + ": " + msg + " (" + outcome + ")");
  };

  LineBuffer buf;
  std::string key, value, record;
  ssize_t n;
  while ((n = getline(&buf.data, &buf.capacity, in)) >= 0) {
    ++line_no;
    const uint64_t record_line = line_no;
    bytes += n;
    record.assign(buf.data, n);
    if (format == "csv") {
      // A quoted field may hold newlines: read on while a quote is open.
      auto quotes = [](const std::string& r) { return std::count(r.begin(), r.end(), '"'); };
      while (quotes(record) % 2 == 1 && (n = getline(&buf.data, &buf.capacity, in)) >= 0) {
        ++line_no;
        bytes += n;
        record.append(buf.data, n);
      }
    }
    std::string_view line(record);
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!ParseRecord(format, line, &key, &value, &error)) return fail(record_line, error);
    if (key.size() > kMaxKeySize) {
      return fail(record_line, "key of " + std::to_string(key.size()) +
                                   " bytes is over the limit of " + std::to_string(kMaxKeySize));
    }
    if (value.size() > kMaxValueSize) {
      return fail(record_line, "value of " + std::to_string(value.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(kMaxValueSize));
    }
    batch.Put(key, value);
    if (keep_going &&
        (batch.Count() >= kLoadBatchOps || batch.ApproximateSize() >= kLoadBatchBytes)) {
      Status s = flush();
      if (!s.ok()) return fail(0, "writing the pairs up to line " + std::to_string(line_no) +
                                      ": " + s.ToString());
    }
    progress.Update(bytes, keep_going ? loaded : batch.Count());
    if (Interrupted(ctx)) return fail(line_no, "interrupted");
  }
  if (std::ferror(in)) return fail(line_no, Errno("reading"));
  Status s = flush();
  if (!s.ok()) return fail(0, "writing: " + s.ToString());
  progress.Update(bytes, loaded, /*force=*/true);
  progress.Clear();
  return WriteLine(ctx, "OK " + std::to_string(loaded))
             ? CommandResult::Ok()
             : CommandResult::Error(Errno("writing output"));
}

CommandResult CmdDump(ShellContext* ctx, const std::vector<Arg>& args) {
  const bool to_file = args.size() > 1 && !(args[1].value == "-" && !args[1].quoted);
  const std::string shown = to_file ? FormatBytes(args[1].value) : "";
  std::string format, error;
  if (!OutputFormat(ctx, &format, &error)) return CommandResult::Usage("dump: " + error);
  FilePtr file;
  if (to_file) {
    file.reset(std::fopen(args[1].value.c_str(), "wb"));
    if (!file) return CommandResult::Error(Errno("dump: cannot create " + shown));
  }
  FILE* out = to_file ? file.get() : ctx->out;
  const std::string where = to_file ? "dump: writing " + shown : "writing output";
  // A file is written in plain ASCII whatever the terminal's locale.
  ShellContext file_ctx = *ctx;
  if (to_file) file_ctx.utf8 = false;

  // One iterator is one snapshot (DB::NewIterator): the dump is a
  // consistent export of the database as of its start.
  std::unique_ptr<Iterator> it = ctx->db->NewIterator(ReadOptions());
  uint64_t pairs = 0;
  std::string line;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (Interrupted(ctx)) return CommandResult::Error("dump: interrupted");
    line = FormatPair(&file_ctx, it->key(), it->value());
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      return CommandResult::Error(Errno(where));
    }
    ++pairs;
  }
  if (!it->status().ok()) {
    return CommandResult::Error("dump: " + it->status().ToString());
  }
  if (!to_file) return CommandResult::Ok();
  // Make the file durable and see every write error (a full disk shows up
  // here at the latest).
  struct stat st;
  const bool regular = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
  if (std::fflush(out) != 0 || (regular && fsync(fileno(out)) != 0)) {
    return CommandResult::Error(Errno(where));
  }
  if (std::fclose(file.release()) != 0) return CommandResult::Error(Errno(where));
  return WriteLine(ctx, "OK " + std::to_string(pairs))
             ? CommandResult::Ok()
             : CommandResult::Error(Errno("writing output"));
}

}  // namespace ringdb::shell
