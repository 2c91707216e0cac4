// The write-ahead log's on-disk format. Shared by LogWriter and LogReader
// (engine/wal.h); nothing else should depend on it.
//
// The log is a sequence of segment files in the database directory, named
// "wal-<segment number as 16 lowercase hex digits>.log". A segment begins at
// a start LSN that is not stored in the file (the caller knows it: from the
// checkpoint, or from where the previous segment ended), and
//
//   LSN of byte k of the segment = start_lsn + k.
//
// A segment is a plain sequence of records, with no block structure: a
// record may cross any 4 KiB boundary, but never the end of a segment. The
// LSN of a record is the position just past its last byte.
//
//   record := header payload
//   header := checksum : fixed32   low 32 bits of XXH3-64 over bytes [4, 17)
//                                  of the header followed by the payload
//             length   : fixed32   payload bytes, <= kMaxPayloadSize
//             lsn      : fixed64   LSN of the record's first byte (the
//                                  position of this header)
//             type     : uint8     chosen by the caller; 0 is never written
//   payload := uint8[length]
//
// Integers are little-endian. The header is kHeaderSize = 17 bytes and is
// not aligned.
//
// Where the log ends: the writer uses O_DIRECT, so the file grows in whole
// 4 KiB blocks and the bytes after the last record of the last block are
// zeros; a crash can also leave a torn block or, after the file was
// preallocated or reused, stale bytes. The reader therefore accepts a record
// only if its lsn field equals its position (which rejects zeros and stale
// records from another position or another life of the file), its type is
// not 0, its length is at most kMaxPayloadSize, it fits in the file, and
// its checksum matches. The first record that fails any of these ends the
// log. Because the checksum covers the length, a length that is impossible
// cannot be verified (the bytes it would cover are not there); it is
// treated like any other torn tail. The reader reports which check ended
// the log; the caller decides whether that is acceptable (recovery accepts
// it: a record is acknowledged as durable only after its sync, and a sync
// covers every earlier byte, so nothing after the first bad record was ever
// acknowledged).
//
// The partial last block is rewritten by every log write (O_DIRECT writes
// whole blocks). The rewritten block repeats the earlier bytes unchanged, so
// a write torn at any granularity leaves each earlier byte either old or new,
// both equal: records already synced stay intact.
//
// Frozen: changing any constant or field needs a new log format version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringdb::wal {

inline constexpr size_t kChecksumOffset = 0;
inline constexpr size_t kLengthOffset = 4;
inline constexpr size_t kLsnOffset = 8;
inline constexpr size_t kTypeOffset = 16;
inline constexpr size_t kHeaderSize = 17;

// Largest payload: a WriteBatch holding one 64 MiB value plus its key and
// batch framing.
inline constexpr uint32_t kMaxPayloadSize = (64u << 20) + (1u << 20);

// Type 0 is reserved so that a zeroed header can never be a record.
inline constexpr uint8_t kInvalidRecordType = 0;

// Segment file names: kSegmentPrefix + 16 hex digits + kSegmentSuffix.
inline constexpr std::string_view kSegmentPrefix = "wal-";
inline constexpr std::string_view kSegmentSuffix = ".log";
inline constexpr size_t kSegmentHexDigits = 16;

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// The checksum stored in a header: `header` points at kHeaderSize bytes
// whose length, lsn and type fields are filled in.
uint32_t RecordChecksum(const char* header, std::string_view payload);

// Fills `header` (kHeaderSize bytes) for a record at `lsn` with `payload`.
inline void EncodeHeader(char* header, uint8_t type, uint64_t lsn,
                         std::string_view payload) {
  EncodeFixed32(header + kLengthOffset, static_cast<uint32_t>(payload.size()));
  EncodeFixed64(header + kLsnOffset, lsn);
  header[kTypeOffset] = static_cast<char>(type);
  EncodeFixed32(header + kChecksumOffset, RecordChecksum(header, payload));
}

}  // namespace ringdb::wal
