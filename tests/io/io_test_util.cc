// Helpers for the io/ tests.
#include "io_test_util.h"

#include <ftw.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "util/check.h"
#include "io/fault_backend.h"

namespace ringdb::io::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/ringdb_io_test.XXXXXX";
  RINGDB_CHECK(::mkdtemp(tmpl) != nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  ::nftw(
      path_.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) {
        return ::remove(p);
      },
      16, FTW_DEPTH | FTW_PHYS);
}

AlignedBuffer::AlignedBuffer(size_t len) : len_(len) {
  void* p = nullptr;
  RINGDB_CHECK(::posix_memalign(&p, kDirectIoAlignment, len) == 0);
  data_ = static_cast<char*>(p);
  std::memset(data_, 0, len);
}

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

void FillPattern(char* buf, size_t len, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v = rng();
    std::memcpy(buf + i, &v, 8);
  }
  for (; i < len; ++i) buf[i] = static_cast<char>(rng());
}

std::unique_ptr<IoBackend> MakeBackend(const std::string& name,
                                       std::string* why) {
  const std::string prefix = "fault(";
  if (name.rfind(prefix, 0) == 0 && name.back() == ')') {
    auto inner =
        MakeBackend(name.substr(prefix.size(),
                                name.size() - prefix.size() - 1), why);
    if (inner == nullptr) return nullptr;
    return std::make_unique<FaultBackend>(std::move(inner));
  }
  if (name == "io_uring") {
    Result<std::unique_ptr<IoBackend>> r = NewUringBackend(64);
    if (!r.ok()) {
      if (why != nullptr) *why = r.status().ToString();
      return nullptr;
    }
    return std::move(r).value();
  }
  if (name == "pread") return NewPreadBackend();
  if (name == "buffered") return NewBufferedBackend();
  RINGDB_CHECK(false && "unknown backend name");
  return nullptr;
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
