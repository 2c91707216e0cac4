// ParseSize: the one size parser of ringdb's command-line programs (the
// shell's --pool, the bench's --cache_size and --rocksdb_write_buffer_size),
// so that "64MiB" means the same everywhere; and AsciiLower, which the
// programs use to match names and units case-insensitively.
//
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringdb::cli {

// Parses a size: plain bytes ("4096"), or a number followed by K/KiB, M/MiB,
// G/GiB, T/TiB (powers of 1024) or KB/MB/GB/TB (powers of 1000), or B; the
// unit is case-insensitive and may follow one space. Stores the bytes in
// *bytes and returns true; returns false (leaving *bytes alone) on anything
// else, on zero and on overflow of 64 bits.
bool ParseSize(std::string_view text, uint64_t* bytes);

// `text` with A-Z turned into a-z; other bytes, UTF-8 included, unchanged.
std::string AsciiLower(std::string_view text);

}  // namespace ringdb::cli
