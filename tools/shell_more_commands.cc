// exists and delrange, and reading a value from standard input or a file
// (put KEY - / put KEY @FILE).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shell_commands.h"

namespace ringdb::shell {

namespace {

// Reads all of `fd` into *out, refusing more than the engine's value limit.
bool ReadAll(int fd, const std::string& what, std::string* out, std::string* error) {
  out->clear();
  char chunk[64 * 1024];
  while (true) {
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = "reading " + what + ": " + std::strerror(errno);
      return false;
    }
    out->append(chunk, n);
    if (out->size() > kMaxValueSize) {
      *error = what + " holds more than the largest value (" +
               std::to_string(kMaxValueSize) + " bytes)";
      return false;
    }
  }
}

}  // namespace

bool ReadValueSource(const ShellContext* ctx, const std::string& source, std::string* value,
                     std::string* error) {
  if (source == "-") {
    if (!ctx->stdin_free) {
      *error = "VALUE - (standard input) works only in one-shot mode (ringdb DB put KEY - < FILE); "
               "use @FILE here, or quote \"-\" for the value -";
      return false;
    }
    return ReadAll(STDIN_FILENO, "standard input", value, error);
  }
  const std::string path = source.substr(1);
  const std::string shown = FormatBytes(path);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + shown + ": " + std::strerror(errno) +
             " (quote a value that starts with @)";
    return false;
  }
  struct stat st;
  bool ok;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    *error = shown + " is a directory";
    ok = false;
  } else {
    ok = ReadAll(fd, shown, value, error);
  }
  close(fd);
  return ok;
}

// exists KEY: prints 1 or 0; a missing key is kMissing, so a one-shot
// `exists` exits 1 (like test(1)), while batch mode goes on.
CommandResult CmdExists(ShellContext* ctx, const std::vector<Arg>& args) {
  std::string value;
  Status s = ctx->db->Get(ReadOptions(), args[1].value, &value);
  if (!s.ok() && !s.IsNotFound()) {
    return CommandResult::Error("exists " + FormatBytes(args[1].value) + ": " + s.ToString());
  }
  if (!WriteLine(ctx, s.ok() ? "1" : "0")) {
    return CommandResult::Error(std::string("writing output: ") + std::strerror(errno));
  }
  return s.ok() ? CommandResult::Ok() : CommandResult::Missing();
}

// delrange START END: DB::DeleteRange; prints the number of keys deleted.
CommandResult CmdDelRange(ShellContext* ctx, const std::vector<Arg>& args) {
  uint64_t deleted = 0;
  Status s = ctx->db->DeleteRange(ctx->write_options, args[1].value, args[2].value, &deleted);
  if (!s.ok()) {
    return CommandResult::Error("delrange: " + s.ToString() + " (" + std::to_string(deleted) +
                                " keys deleted before it)");
  }
  if (!WriteLine(ctx, std::to_string(deleted))) {
    return CommandResult::Error(std::string("writing output: ") + std::strerror(errno));
  }
  return CommandResult::Ok();
}

}  // namespace ringdb::shell
