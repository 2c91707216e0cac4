// Helpers for the io/ tests: a temporary directory removed with its
// contents, 4096-aligned buffers, deterministic fill patterns, and the
// backends the suites run on. Thread-safety: none needed (value types).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/io_backend.h"

namespace ringdb::io::testing {

// A fresh directory under /tmp (where O_DIRECT works), removed with
// everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// `len` bytes aligned to kDirectIoAlignment, zeroed.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t len);
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  char* data() { return data_; }
  size_t size() const { return len_; }

 private:
  char* data_ = nullptr;
  size_t len_;
};

// Fills `buf` with bytes derived from `seed` (distinct seeds differ almost
// everywhere).
void FillPattern(char* buf, size_t len, uint64_t seed);

// A backend by name: "io_uring", "pread", "buffered", or "fault(<inner>)".
// Returns nullptr when io_uring is unavailable on this machine, setting
// *why when `why` is not null.
std::unique_ptr<IoBackend> MakeBackend(const std::string& name,
                                       std::string* why = nullptr);

// Runs `body` in a fork()ed child and returns its exit code (or 128 + the
// signal that killed it).
int RunInChild(int (*body)(const std::string& dir), const std::string& dir);

}  // namespace ringdb::io::testing

// Asserts/expects that a Status is OK, printing it when it is not.
#define RINGDB_ASSERT_OK(expr)                          \
  do {                                                  \
    const ::ringdb::Status _ringdb_s = (expr);          \
    ASSERT_TRUE(_ringdb_s.ok()) << _ringdb_s.ToString(); \
  } while (0)
#define RINGDB_EXPECT_OK(expr)                          \
  do {                                                  \
    const ::ringdb::Status _ringdb_s = (expr);          \
    EXPECT_TRUE(_ringdb_s.ok()) << _ringdb_s.ToString(); \
  } while (0)
