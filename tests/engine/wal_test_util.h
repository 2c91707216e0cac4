// Helpers for the write-ahead log tests: deterministic payloads and reading a whole segment back.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/wal.h"
#include "io/io_backend.h"
#include "tests/util/backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb::wal::testing {

// The shared scaffolding (tests/util): backends by name ("io_uring",
// "pread"; nullptr and *why when the machine lacks one, and the test skips)
// and the temporary directory.
using ::ringdb::test::MakeBackend;
using ScratchDir = ::ringdb::test::TempDir;

// Deterministic bytes for record `seed` of `size` bytes.
inline std::string MakePayload(uint64_t seed, size_t size) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; i += 8) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (size_t j = 0; j < 8 && i + j < size; ++j) {
      out[i + j] = static_cast<char>(z >> (8 * j));
    }
  }
  return out;
}

struct ReadRecord {
  std::string payload;
  uint8_t type = 0;
  Lsn end_lsn;
};

struct ReadResult {
  Status status;
  std::vector<ReadRecord> records;
  Lsn end_of_valid_log;
  LogTail tail = LogTail::kNotReached;
};

// Reads every record of segment `path` starting at `start_lsn`.
inline ReadResult ReadAll(io::IoBackend* io, const std::string& path,
                          Lsn start_lsn,
                          size_t chunk = LogReader::kDefaultChunkBytes) {
  ReadResult out;
  Result<std::unique_ptr<LogReader>> reader =
      LogReader::Open(io, path, start_lsn, chunk);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  while (true) {
    ReadRecord r;
    bool eof = false;
    out.status = (*reader)->Next(&r.payload, &r.type, &r.end_lsn, &eof);
    if (!out.status.ok() || eof) break;
    out.records.push_back(std::move(r));
  }
  out.end_of_valid_log = (*reader)->end_of_valid_log();
  out.tail = (*reader)->tail();
  return out;
}

}  // namespace ringdb::wal::testing
