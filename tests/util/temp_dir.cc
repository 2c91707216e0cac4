// TempDir. See temp_dir.h.
#include "tests/util/temp_dir.h"

#include <stdlib.h>

#include <filesystem>

#include "util/check.h"

namespace ringdb::test {

TempDir::TempDir(const std::string& label) {
  std::string tmpl = "/tmp/ringdb_" + label + ".XXXXXX";
  RINGDB_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;  // best effort: a test may have removed it already
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ringdb::test
