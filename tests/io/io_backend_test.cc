// The helpers and the factory in io_backend.h, and the O_DIRECT refusal.
#include "io/io_backend.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "io_test_util.h"

namespace ringdb::io {
namespace io_backend_test {

TEST(IoHelpersTest, IsAligned) {
  alignas(4096) static char block[8192];
  EXPECT_TRUE(IsAligned(block, kDirectIoAlignment));
  EXPECT_FALSE(IsAligned(block + 512, kDirectIoAlignment));
  EXPECT_TRUE(IsAligned(block + 512, 512));
  EXPECT_TRUE(IsAligned(uint64_t{8192}, kDirectIoAlignment));
  EXPECT_TRUE(IsAligned(uint64_t{0}, kDirectIoAlignment));
  EXPECT_FALSE(IsAligned(uint64_t{4095}, kDirectIoAlignment));
}

TEST(IoHelpersTest, ErrnoStatusNamesPathOffsetAndReason) {
  Status eio = ErrnoStatus(EIO, "read", "/data/db.pages", 12288);
  EXPECT_TRUE(eio.IsIOError());
  EXPECT_FALSE(eio.IsNoSpace());
  EXPECT_NE(eio.message().find("/data/db.pages"), std::string::npos);
  EXPECT_NE(eio.message().find("read at offset 12288"), std::string::npos);
  EXPECT_NE(eio.message().find("Input/output error"), std::string::npos);
  Status full = ErrnoStatus(ENOSPC, "write", "/data/db.log", 0);
  EXPECT_TRUE(full.IsNoSpace());
  EXPECT_TRUE(full.IsIOError());
}

TEST(NewIoBackendTest, ReturnsTheRequestedKind) {
  Result<BackendChoice> pread = NewIoBackend(IoBackendKind::kPread);
  ASSERT_TRUE(pread.ok());
  EXPECT_EQ(pread->backend->Name(), "pread");
  EXPECT_TRUE(pread->backend->direct());
  EXPECT_TRUE(pread->fallback_reason.empty());

  Result<BackendChoice> buffered = NewIoBackend(IoBackendKind::kBuffered);
  ASSERT_TRUE(buffered.ok());
  EXPECT_EQ(buffered->backend->Name(), "buffered");
  EXPECT_FALSE(buffered->backend->direct());

  Result<BackendChoice> uring = NewIoBackend(IoBackendKind::kIoUring, 32);
  ASSERT_TRUE(uring.ok());
  if (uring->fallback_reason.empty()) {
    EXPECT_EQ(uring->backend->Name(), "io_uring");
  } else {
    // This machine has no io_uring: the fallback must be the pread backend.
    EXPECT_EQ(uring->backend->Name(), "pread");
    EXPECT_NE(uring->fallback_reason.find("io_uring_queue_init"),
              std::string::npos);
  }
}

TEST(NewIoBackendTest, RejectsBadQueueDepth) {
  EXPECT_TRUE(NewUringBackend(0).status().IsInvalidArgument());
  Result<BackendChoice> choice = NewIoBackend(IoBackendKind::kIoUring, 0);
  ASSERT_FALSE(choice.ok());
  EXPECT_TRUE(choice.status().IsInvalidArgument());
}

TEST(DirectIoTest, FilesystemRefusingODirectNamesPathAndOption) {
  // procfs files cannot be opened with O_DIRECT.
  const std::string path = "/proc/version";
  std::unique_ptr<IoBackend> backend = NewPreadBackend();
  Result<FileId> f = backend->Open(path, OpenMode::kReadOnly);
  if (f.ok()) GTEST_SKIP() << path << " accepted O_DIRECT on this kernel";
  EXPECT_TRUE(f.status().IsInvalidArgument()) << f.status().ToString();
  EXPECT_NE(f.status().message().find(path), std::string::npos);
  EXPECT_NE(f.status().message().find("kBuffered"), std::string::npos);
  EXPECT_NE(f.status().message().find("io_backend"), std::string::npos);
  // The buffered backend opens it.
  std::unique_ptr<IoBackend> buffered = NewBufferedBackend();
  Result<FileId> g = buffered->Open(path, OpenMode::kReadOnly);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(buffered->Close(*g).ok());
}

}  // namespace io_backend_test
}  // namespace ringdb::io
