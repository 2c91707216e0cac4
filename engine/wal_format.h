// The write-ahead log's on-disk format, version 2. Shared by LogWriter and
// LogReader (engine/wal.h); nothing else should depend on it.
//
// The log is a sequence of segment files in the database directory, named
// "wal-<segment number as 16 lowercase hex digits>.log". A segment begins at
// a start LSN, and
//
//   LSN of byte k of the segment = start_lsn + k.
//
// The file is written through the page cache (not O_DIRECT): no block
// structure, no padding. The writer appends with write(2), or copies into
// a shared mapping of blocks it reserved ahead (fallocate, which extends
// the file with zeros; LogWriterOptions::map_bytes) in address order, so a
// writer killed mid-write leaves a prefix of its bytes either way. A closed
// segment is cut to its last record, so it ends at the end of the file; the
// segment being written may go on in zeros (its reserve).
//
//   segment := segment_header fragment*
//   segment_header (kSegmentHeaderSize = 24 bytes, at offset 0):
//     magic     : fixed64  kSegmentMagic
//     version   : fixed32  kFormatVersion
//     start_lsn : fixed64  LSN of byte 0 of the segment
//     checksum  : fixed32  low 32 bits of XXH3-64 over bytes [0, 20)
//
// A logical record (one WriteBatch) is stored as one kFull fragment, or as
// a kFirst fragment, any number of kMiddle ones and a kLast one, back to
// back (as LevelDB's log does). Each fragment's payload is at most
// kMaxFragmentPayload bytes, so a record of any size can be logged.
// Records never cross segments. The LSN of a record is the position just
// past its last fragment.
//
//   fragment := header payload
//   header (kHeaderSize = 26 bytes, not aligned):
//     checksum : fixed32  low 32 bits of XXH3-64 over header bytes [4, 26)
//                         followed by the payload
//     length   : fixed32  payload bytes, <= kMaxFragmentPayload
//     lsn      : fixed64  LSN of the fragment's first byte (its position)
//     durable  : fixed64  LSN up to which the log was durable (fdatasync'd)
//                         when the fragment was appended
//     type     : uint8    the record type, chosen by the caller; 0 is never
//                         written; all fragments of a record carry it
//     fragment : uint8    kFull, kFirst, kMiddle or kLast
//   payload := uint8[length]
//
// Integers are little-endian.
//
// A fragment is valid when its lsn field equals its position (which
// rejects zeros and bytes from anywhere else), its type is not 0, its
// fragment kind is known, its length is at most kMaxFragmentPayload, it
// fits in the file and its checksum matches; a record is valid when its
// fragments are valid and in order.
//
// Where the log ends, and torn tails versus damage: a crash of the process
// loses nothing that was written (the bytes are in the kernel); a crash of
// the machine can lose or tear any part written after the last fdatasync:
// the end of the file is cut, or pages of it were never written back and
// read as zeros. The reader stops at the first invalid record. The caller
// (recovery) then looks past it for a later valid record (a fragment header
// whose lsn field names its own position is a strong signature) and reads
// the durable fields of the records from there on:
//   - nothing valid follows: a torn tail, the normal end of a log cut by a
//     crash;
//   - a later record says the damaged bytes had all been made durable
//     before it was written (its durable field reaches the next valid
//     record), or the damaged bytes hold no all-zero, aligned kSectorSize
//     sector (so no page was lost): damage to the log, reported as
//     corruption;
//   - otherwise (the damage lies past what was durable and looks like lost
//     pages): a machine crash that wrote back later pages before earlier
//     ones; treated as a torn tail.
// (LogDamage::TornTail in engine/wal.h is this rule.) Zeros from where a
// record should begin to the end of the last segment (LogDamage::
// zero_to_end) are the reserve of a mapped writer that was not closed:
// recovery reads them as the end of the log in every mode, as RocksDB's
// reader does the zeros of its mapped, preallocated log. A machine crash
// that lost pages up to the end looks the same; those bytes were not
// synced (a sync writes them), so no durable record is behind the zeros.
//
// Format history: version 1 (no segment header, 17-byte headers, no
// fragments, written with O_DIRECT in padded 4 KiB blocks) is not read by
// this version; a non-empty version-1 segment is refused with NotSupported.
//
// Frozen: changing any constant or field needs a new kFormatVersion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "bufferpool/page.h"

namespace ringdb::wal {

inline constexpr uint64_t kSegmentMagic = 0x32474f4c42445252ull;  // "RRDBLOG2"
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kSegmentMagicOffset = 0;
inline constexpr size_t kSegmentVersionOffset = 8;
inline constexpr size_t kSegmentStartLsnOffset = 12;
inline constexpr size_t kSegmentChecksumOffset = 20;
inline constexpr size_t kSegmentHeaderSize = 24;

inline constexpr size_t kChecksumOffset = 0;
inline constexpr size_t kLengthOffset = 4;
inline constexpr size_t kLsnOffset = 8;
inline constexpr size_t kDurableOffset = 16;
inline constexpr size_t kTypeOffset = 24;
inline constexpr size_t kFragmentOffset = 25;
inline constexpr size_t kHeaderSize = 26;

// Largest fragment payload. Larger records are split.
inline constexpr uint32_t kMaxFragmentPayload = 1u << 20;

// Type 0 is reserved so that a zeroed header can never be a record.
inline constexpr uint8_t kInvalidRecordType = 0;

// Fragment kinds (0 is never written).
inline constexpr uint8_t kFullFragment = 1;
inline constexpr uint8_t kFirstFragment = 2;
inline constexpr uint8_t kMiddleFragment = 3;
inline constexpr uint8_t kLastFragment = 4;

// The torn-tail test looks for all-zero sectors of this size.
inline constexpr size_t kSectorSize = 512;

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

// The checksum stored in a fragment header: `header` points at kHeaderSize
// bytes whose fields after the checksum are filled in.
uint32_t RecordChecksum(const char* header, std::string_view payload);
// The checksum of a segment header's first kSegmentChecksumOffset bytes.
uint32_t SegmentHeaderChecksum(const char* header);

// Fills `header` (kHeaderSize bytes) for a fragment at `lsn`.
inline void EncodeHeader(char* header, uint8_t type, uint8_t fragment,
                         Lsn lsn, Lsn durable,
                         std::string_view payload) {
  EncodeFixed32(header + kLengthOffset, static_cast<uint32_t>(payload.size()));
  EncodeFixed64(header + kLsnOffset, lsn.value);
  EncodeFixed64(header + kDurableOffset, durable.value);
  header[kTypeOffset] = static_cast<char>(type);
  header[kFragmentOffset] = static_cast<char>(fragment);
  EncodeFixed32(header + kChecksumOffset, RecordChecksum(header, payload));
}

// Fills `header` (kSegmentHeaderSize bytes) for a segment at `start_lsn`.
inline void EncodeSegmentHeader(char* header, Lsn start_lsn) {
  EncodeFixed64(header + kSegmentMagicOffset, kSegmentMagic);
  EncodeFixed32(header + kSegmentVersionOffset, kFormatVersion);
  EncodeFixed64(header + kSegmentStartLsnOffset, start_lsn.value);
  EncodeFixed32(header + kSegmentChecksumOffset, SegmentHeaderChecksum(header));
}

}  // namespace ringdb::wal
