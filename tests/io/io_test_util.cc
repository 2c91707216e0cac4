// Helpers for the io/ tests.
#include "io_test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "util/check.h"

namespace ringdb::io::testing {

void FillPattern(char* buf, size_t len, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v = rng();
    std::memcpy(buf + i, &v, 8);
  }
  for (; i < len; ++i) buf[i] = static_cast<char>(rng());
}

int RunInChild(int (*body)(const std::string& dir), const std::string& dir) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  RINGDB_CHECK(pid >= 0);
  if (pid == 0) ::_exit(body(dir));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    RINGDB_CHECK(errno == EINTR);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace ringdb::io::testing
