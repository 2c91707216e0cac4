// TmpfsMount: a size-limited tmpfs for the tests that fill a file system
// (full-disk behaviour). Mounting needs root; where it is not permitted,
// Create says why and the test skips. Thread-safety: a value owned by one
// fixture; path() may be read from any thread.
#pragma once

#include <memory>
#include <string>

namespace ringdb::test {

class TmpfsMount {
 public:
  // Mounts a tmpfs of `size` (as mount -o size=, e.g. "24m") on a fresh
  // directory /tmp/ringdb_<label>.XXXXXX. On failure returns null and sets
  // *why (for GTEST_SKIP); nothing is left behind.
  static std::unique_ptr<TmpfsMount> Create(const std::string& label, const std::string& size,
                                            std::string* why);
  // Unmounts (lazily when still busy) and removes the directory.
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& path() const { return path_; }
  // Changes the size in place (mount -o remount,size=); false when refused.
  bool Resize(const std::string& size);

 private:
  explicit TmpfsMount(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace ringdb::test
