// TempDir. See temp_dir.h.
#include "tests/util/temp_dir.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "util/check.h"

namespace ringdb::test {

TempDir::TempDir(const std::string& label, const std::string& parent) {
  std::string tmpl = parent + "/ringdb_" + label + ".XXXXXX";
  RINGDB_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;  // best effort: a test may have removed it already
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::MemoryParent(const char* env_override) {
  const char* env = env_override != nullptr ? std::getenv(env_override) : nullptr;
  if (env != nullptr && *env != 0) return env;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return "/tmp";
}

}  // namespace ringdb::test
