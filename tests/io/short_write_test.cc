// Real short writes, made by the kernel rather than by the fault backend: a
// file size limit (RLIMIT_FSIZE) cuts a write at the limit, so the
// backend's short-transfer loop runs for real. It must write what fits,
// count the retry, try the rest, and report the EFBIG that follows as an
// IOError naming the file, never as success. Each case runs in a fork()ed
// child, because the limit and SIGXFSZ's disposition are per process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "io/io_backend.h"
#include "io_test_util.h"

namespace ringdb::io {
namespace short_write_test {

using testing::AlignedBuffer;
using testing::FillPattern;
using testing::MakeBackend;
using testing::RunInChild;
using testing::TempDir;

constexpr int kChildOk = 0;
constexpr int kChildSkip = 77;

// Which backend the child uses (set before the fork).
std::string g_backend;

int Fail(const std::string& what) {
  std::fprintf(stderr, "child (%s): %s\n", g_backend.c_str(), what.c_str());
  return 1;
}

// A 16 KiB write at offset 0 with the file size limited to 8 KiB: the
// kernel writes 8 KiB (a short write), the retry at 8 KiB gets EFBIG.
int ShortWriteChild(const std::string& dir) {
  std::string why;
  std::unique_ptr<IoBackend> backend = MakeBackend(g_backend, &why);
  if (backend == nullptr) {
    std::fprintf(stderr, "child: skip: %s\n", why.c_str());
    return kChildSkip;
  }
  constexpr uint32_t kLimit = 8192, kLen = 16384;
  const std::string path = dir + "/limited";
  Result<FileId> f = backend->Open(path, OpenMode::kCreateReadWrite);
  if (!f.ok()) return Fail("open: " + f.status().ToString());
  signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of death.
  struct rlimit lim = {kLimit, kLimit};
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0) return Fail("setrlimit");
  AlignedBuffer buf(kLen);
  FillPattern(buf.data(), kLen, 7);
  const IoStats before = backend->stats();
  Status s = backend->Write(*f, 0, buf.data(), kLen);
  const IoStats after = backend->stats();
  if (s.ok()) return Fail("a write cut short by the file size limit returned OK");
  if (!s.IsIOError()) return Fail("not an IOError: " + s.ToString());
  if (s.ToString().find(path) == std::string::npos) return Fail("no path in: " + s.ToString());
  if (s.ToString().find("large") == std::string::npos) {
    return Fail("EFBIG not named: " + s.ToString());
  }
  if (after.retries <= before.retries) return Fail("the short write was not retried");
  // What fit was written.
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || st.st_size != kLimit) {
    return Fail("file size " + std::to_string(st.st_size) + ", expected " +
                std::to_string(kLimit));
  }
  lim = {RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0) {
    // Raising a hard limit needs privilege; lower limits are fine to keep.
    return kChildOk;
  }
  AlignedBuffer back(kLimit);
  Status r = backend->Read(*f, 0, back.data(), kLimit);
  if (!r.ok()) return Fail("read back: " + r.ToString());
  if (std::memcmp(back.data(), buf.data(), kLimit) != 0) return Fail("first 8 KiB differ");
  return kChildOk;
}

class ShortWriteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ShortWriteTest, FileSizeLimitCutsAWriteAndTheErrorSurfaces) {
  g_backend = GetParam();
  TempDir dir;
  const int code = RunInChild(ShortWriteChild, dir.path());
  if (code == kChildSkip) GTEST_SKIP() << GetParam() << " unavailable (see the child's line)";
  EXPECT_EQ(code, kChildOk) << "see the child's line above";
}

INSTANTIATE_TEST_SUITE_P(Backends, ShortWriteTest,
                         ::testing::Values("pread", "io_uring", "buffered"),
                         [](const auto& info) {
                           return info.param == "io_uring" ? std::string("IoUring")
                                                           : info.param;
                         });

}  // namespace short_write_test
}  // namespace ringdb::io
