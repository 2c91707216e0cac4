// TempDir: the one temporary-directory helper of the tests. A fresh
// directory under /tmp (a real file system, where O_DIRECT works; not
// tmpfs) or another parent, removed with everything in it on destruction.
// Thread-safety: a value type; path() may be read from any thread.
#pragma once

#include <string>

namespace ringdb::test {

class TempDir {
 public:
  // `label` becomes part of the name (<parent>/ringdb_<label>.XXXXXX), so
  // a leftover after a crash says which test made it. Require: `parent` is
  // a writable directory.
  explicit TempDir(const std::string& label = "test", const std::string& parent = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The parent for tests that reopen a database many times and are about
  // threads or recovery rather than the disk: /dev/shm (tmpfs, where
  // O_DIRECT works since Linux 6.6) when it is a writable directory, else
  // /tmp. The environment variable `env_override`, when given and set to
  // a non-empty value, names the parent instead.
  static std::string MemoryParent(const char* env_override = nullptr);

  // path() + "/" + name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ringdb::test
