// Superblock: the root of a ringdb data file, written at every checkpoint.
//
// Two copies live at the start of the file, in physical slots 0 and 1 (one
// page each). Checkpoint n writes slot n % 2 and fdatasyncs, so a torn
// superblock write leaves the other copy, which names the previous
// checkpoint, intact. Open picks the valid copy with the higher sequence.
//
// Layout of the first 4096 bytes of a slot (little-endian, frozen; change
// kFormatVersion to change it):
//   0  u64 magic "RINGDB\0\1"      8  u64 checksum XXH3-64 of [16, 4096)
//   16 u32 format version          20 u32 page size
//   24 u64 checkpoint sequence     32 u64 checkpoint LSN (log replay start)
//   40 u64 log segment to replay   48 u64 B+tree meta page id
//   56 u64 logical page ids used   64 u64 physical slots in the file
//   72 u64 first slot of the map   80 u64 map pages (contiguous slots)
//   88 u64 user keys (approx.)     96.. zero
// Thread-safety: plain functions and a value type.
#pragma once

#include <cstdint>
#include <string>

#include "bufferpool/page.h"
#include "io/io_backend.h"
#include "util/result.h"

namespace ringdb {

inline constexpr uint64_t kSuperblockMagic = 0x0100'4244'474e'4952ull;  // "RINGDB\0\1"
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kSuperblockSize = 4096;

struct Superblock {
  uint32_t version = kFormatVersion;
  uint32_t page_size = 4096;
  uint64_t seq = 0;
  Lsn ckpt_lsn;
  uint64_t log_segment = 0;
  uint64_t btree_meta = 0;
  uint64_t logical_pages = 0;
  uint64_t slot_count = 0;
  uint64_t map_start = 0;
  uint64_t map_pages = 0;
  uint64_t key_count = 0;
};

// Encodes `sb` into a 4096-byte aligned buffer.
void EncodeSuperblock(const Superblock& sb, char* buf);

// Reads both copies and returns the newest valid one. A file whose first
// bytes are not ringdb's is InvalidArgument ("not a ringdb database"); a
// newer format is NotSupported; two bad copies are Corruption.
Result<Superblock> ReadSuperblock(io::IoBackend* io, io::FileId file);

// Writes `sb` into slot sb.seq % 2 and fdatasyncs.
Status WriteSuperblock(io::IoBackend* io, io::FileId file, const Superblock& sb);

}  // namespace ringdb
