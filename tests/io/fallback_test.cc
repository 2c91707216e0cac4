// Where io_uring or buffer registration is forbidden, the io layer falls
// back and keeps working. Each case runs in a fork()ed child because it
// changes process-wide state (a seccomp filter, the uid, rlimits); the
// child reports through its exit code.
#include <gtest/gtest.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "io/io_backend.h"
#include "io_test_util.h"

namespace ringdb::io {
namespace fallback_test {

using testing::RunInChild;
using testing::TempDir;

constexpr int kChildOk = 0;
constexpr int kChildSkip = 77;
constexpr int kChildFail = 1;

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kAuditArch = 0;
#endif

int Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "child: %s %s\n", what, detail.c_str());
  return kChildFail;
}

int Skip(const char* why) {
  std::fprintf(stderr, "child: skip: %s\n", why);
  return kChildSkip;
}

// Writes and reads back two blocks from `buf` (at least 4 blocks long)
// through `backend`; returns a child exit code.
int RoundTrip(IoBackend& backend, const std::string& path, char* buf) {
  Result<FileId> f = backend.Open(path, OpenMode::kCreateReadWrite);
  if (!f.ok()) return Fail("open", f.status().ToString());
  for (size_t i = 0; i < 2 * kDirectIoAlignment; ++i) {
    buf[i] = static_cast<char>(i * 7 + 3);
  }
  Status s = backend.Write(*f, kDirectIoAlignment, buf, 2 * kDirectIoAlignment);
  if (!s.ok()) return Fail("write", s.ToString());
  char* back = buf + 2 * kDirectIoAlignment;
  s = backend.Read(*f, kDirectIoAlignment, back, 2 * kDirectIoAlignment);
  if (!s.ok()) return Fail("read", s.ToString());
  if (std::memcmp(buf, back, 2 * kDirectIoAlignment) != 0) {
    return Fail("data read back differs");
  }
  s = backend.Sync(*f);
  if (!s.ok()) return Fail("sync", s.ToString());
  s = backend.Close(*f);
  if (!s.ok()) return Fail("close", s.ToString());
  return kChildOk;
}

int SeccompChild(const std::string& dir) {
  if (kAuditArch == 0) return Skip("no seccomp filter for this architecture");
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Skip("prctl(PR_SET_NO_NEW_PRIVS) failed");
  }
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    return errno == EINVAL ? Skip("seccomp filters unavailable")
                           : Fail("prctl(PR_SET_SECCOMP)", std::strerror(errno));
  }
  Result<BackendChoice> choice = NewIoBackend(IoBackendKind::kIoUring, 32);
  if (!choice.ok()) return Fail("NewIoBackend", choice.status().ToString());
  if (choice->backend->Name() != "pread") {
    return Fail("expected the pread backend, got", choice->backend->Name());
  }
  const std::string& why = choice->fallback_reason;
  if (why.find("io_uring_queue_init") == std::string::npos ||
      why.find(std::strerror(ENOSYS)) == std::string::npos ||
      why.find("pread") == std::string::npos) {
    return Fail("unexpected fallback_reason:", why);
  }
  std::fprintf(stderr, "child: fallback_reason: %s\n", why.c_str());
  testing::AlignedBuffer buf(4 * kDirectIoAlignment);
  return RoundTrip(*choice->backend, dir + "/seccomp", buf.data());
}

int MemlockChild(const std::string& dir) {
  constexpr rlim_t kLimit = 64 << 10;
  struct rlimit rl = {kLimit, kLimit};
  if (::setrlimit(RLIMIT_MEMLOCK, &rl) != 0) return Skip("setrlimit failed");
  if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 ||
      ::setuid(65534) != 0) {
    return Skip("cannot drop to uid/gid 65534 (not root?)");
  }
  Result<std::unique_ptr<IoBackend>> backend = NewUringBackend(32);
  if (!backend.ok()) return Skip("io_uring unavailable to an unprivileged user");
  constexpr size_t kRegion = 16 << 20;
  void* region = ::mmap(nullptr, kRegion, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) return Fail("mmap", std::strerror(errno));
  Status reg = (*backend)->RegisterBuffer(region, kRegion);
  if (reg.ok()) return Fail("RegisterBuffer of 16 MiB succeeded under a 64 KiB RLIMIT_MEMLOCK");
  if (reg.message().find("RLIMIT_MEMLOCK") == std::string::npos) {
    return Fail("RegisterBuffer reason does not mention RLIMIT_MEMLOCK:",
                reg.ToString());
  }
  std::fprintf(stderr, "child: RegisterBuffer: %s\n", reg.ToString().c_str());
  char* buf = static_cast<char*>(region) + (1 << 20);
  int rc = RoundTrip(**backend, dir + "/memlock", buf);
  if (rc != kChildOk) return rc;
  if ((*backend)->stats().fixed_ops != 0) return Fail("fixed ops were used");
  return kChildOk;
}

void ExpectChildOk(int rc) {
  if (rc == kChildSkip) GTEST_SKIP() << "the child skipped (see its stderr)";
  EXPECT_EQ(rc, kChildOk) << "child failed (see its stderr)";
}

TEST(FallbackTest, SeccompBlockedIoUringFallsBackToPread) {
  TempDir dir;
  ExpectChildOk(RunInChild(SeccompChild, dir.path()));
}

TEST(FallbackTest, LowMemlockLimitKeepsUnregisteredBuffersWorking) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to uid 65534";
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  ExpectChildOk(RunInChild(MemlockChild, dir.path()));
}

}  // namespace fallback_test
}  // namespace ringdb::io
