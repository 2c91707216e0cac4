// MakeBackend: the tests' one way to get an I/O backend by name, the names
// the parameterized suites use. Thread-safety: may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "io/io_backend.h"

namespace ringdb::test {

// "io_uring", "pread", "buffered", or "fault(<inner>)" (a FaultBackend over
// the inner one). Returns nullptr when io_uring is unavailable on this
// machine, setting *why (when not null) to the reason, so the test can
// GTEST_SKIP with it. Aborts on an unknown name.
std::unique_ptr<io::IoBackend> MakeBackend(const std::string& name, std::string* why = nullptr);

}  // namespace ringdb::test
