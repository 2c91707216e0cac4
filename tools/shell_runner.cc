// One-shot and batch modes (see shell_runner.h).
#include "shell_runner.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringdb::shell {

namespace {

void PrintError(FILE* err, const std::string& where, const std::string& msg) {
  std::fprintf(err, "error: %s%s\n", where.c_str(), msg.c_str());
  std::fflush(err);
}

}  // namespace

int RunOneShot(ShellContext* ctx, const std::vector<std::string>& words,
               FILE* err) {
  std::vector<Arg> args;
  for (const std::string& w : words) args.push_back(Arg{w, false});
  CommandResult r = RunCommand(ctx, args);
  std::fflush(ctx->out);
  if (std::ferror(ctx->out) && !r.failed()) {
    r = CommandResult::Error("writing output failed");
  }
  switch (r.kind) {
    case CommandResult::Kind::kOk:
    case CommandResult::Kind::kExit:
      return kExitOk;
    case CommandResult::Kind::kMissing:
      return kExitFailed;
    case CommandResult::Kind::kError:
      PrintError(err, "", r.message);
      return kExitFailed;
    case CommandResult::Kind::kUsage:
      PrintError(err, "", r.message);
      return kExitUsage;
  }
  return kExitFailed;
}

CommandResult RunLine(ShellContext* ctx, std::string_view line,
                      const std::string& where, FILE* err) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos || line[first] == '#') {
    return CommandResult::Ok();
  }
  std::vector<Arg> args;
  std::string error;
  CommandResult r;
  if (!ParseLine(line, &args, &error)) {
    r = CommandResult::Usage(error);
  } else {
    r = RunCommand(ctx, args);
  }
  if (r.failed()) PrintError(err, where, r.message);
  return r;
}

int RunBatch(ShellContext* ctx, int fd, bool bail, bool flush_each, FILE* err) {
  LineReader reader(fd);
  std::string line;
  std::string read_error;
  uint64_t line_no = 0;
  bool any_failed = false;
  while (reader.Next(&line, [ctx] { std::fflush(ctx->out); }, &read_error)) {
    ++line_no;
    CommandResult r =
        RunLine(ctx, line, "line " + std::to_string(line_no) + ": ", err);
    if (flush_each) std::fflush(ctx->out);
    if (r.kind == CommandResult::Kind::kExit) break;
    if (r.failed()) {
      any_failed = true;
      if (bail) break;
    }
    if (std::ferror(ctx->out)) {
      PrintError(err, "", std::string("writing output: ") + std::strerror(errno));
      any_failed = true;
      break;
    }
  }
  if (!read_error.empty()) {
    PrintError(err, "", read_error);
    any_failed = true;
  }
  std::fflush(ctx->out);
  return any_failed ? kExitFailed : kExitOk;
}

bool LineReader::Fill(std::string* error) {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[64 * 1024];
  while (true) {
    const ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n > 0) {
      buf_.append(chunk, n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return true;
    }
    if (errno == EINTR) continue;
    *error = std::string("reading standard input: ") + std::strerror(errno);
    return false;
  }
}

}  // namespace ringdb::shell
