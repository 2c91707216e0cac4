// Helpers for the io/ tests: deterministic fill patterns and a forked
// child; the temporary directory, aligned buffer and backends come from
// tests/util. Thread-safety: none needed (value types).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/io_backend.h"
#include "tests/util/aligned_buffer.h"
#include "tests/util/backend.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace ringdb::io::testing {

// The shared scaffolding (tests/util), under the names these tests use.
using ::ringdb::test::AlignedBuffer;
using ::ringdb::test::MakeBackend;
using ::ringdb::test::TempDir;

// Fills `buf` with bytes derived from `seed` (distinct seeds differ almost
// everywhere).
void FillPattern(char* buf, size_t len, uint64_t seed);

// Runs `body` in a fork()ed child and returns its exit code (or 128 + the
// signal that killed it).
int RunInChild(int (*body)(const std::string& dir), const std::string& dir);

}  // namespace ringdb::io::testing
