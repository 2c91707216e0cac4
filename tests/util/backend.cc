// MakeBackend. See backend.h.
#include "tests/util/backend.h"

#include "io/fault_backend.h"
#include "util/check.h"

namespace ringdb::test {

std::unique_ptr<io::IoBackend> MakeBackend(const std::string& name, std::string* why) {
  const std::string prefix = "fault(";
  if (name.rfind(prefix, 0) == 0 && name.back() == ')') {
    auto inner = MakeBackend(name.substr(prefix.size(), name.size() - prefix.size() - 1), why);
    if (inner == nullptr) return nullptr;
    return std::make_unique<io::FaultBackend>(std::move(inner));
  }
  if (name == "io_uring") {
    Result<std::unique_ptr<io::IoBackend>> r = io::NewUringBackend(64);
    if (!r.ok()) {
      if (why != nullptr) *why = "io_uring unavailable: " + r.status().ToString();
      return nullptr;
    }
    return std::move(r).value();
  }
  if (name == "pread") return io::NewPreadBackend();
  if (name == "buffered") return io::NewBufferedBackend();
  RINGDB_CHECK(false && "unknown backend name");
  return nullptr;
}

}  // namespace ringdb::test
