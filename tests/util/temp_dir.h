// TempDir: the one temporary-directory helper of the tests. A fresh
// directory under /tmp (a real file system, where O_DIRECT works; not
// tmpfs), removed with everything in it on destruction.
// Thread-safety: a value type; path() may be read from any thread.
#pragma once

#include <string>

namespace ringdb::test {

class TempDir {
 public:
  // `label` becomes part of the name (/tmp/ringdb_<label>.XXXXXX), so a
  // leftover after a crash says which test made it.
  explicit TempDir(const std::string& label = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ringdb::test
