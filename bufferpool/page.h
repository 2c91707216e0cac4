// Page layout shared by the buffer pool and the layers above, and the strong
// id types.
//
// Every page on disk starts with a PageHeader written by the buffer pool at
// write-back: an XXH3-64 checksum of the rest of the page, the page's own id
// (so a page written to the wrong place is caught) and the LSN of the last
// log record that changed it. The layer above owns the bytes after the
// header. Frozen format: changing it needs a new format version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace ringdb {

struct PageId {
  uint64_t value = kInvalidValue;
  static constexpr uint64_t kInvalidValue = ~0ull;
  bool valid() const { return value != kInvalidValue; }
  friend bool operator==(PageId a, PageId b) { return a.value == b.value; }
  friend bool operator!=(PageId a, PageId b) { return a.value != b.value; }
  friend bool operator<(PageId a, PageId b) { return a.value < b.value; }
};

struct FrameId {
  uint32_t value = ~0u;
  friend bool operator==(FrameId a, FrameId b) { return a.value == b.value; }
};

// Log sequence number: the byte position just past a log record.
using Lsn = uint64_t;

struct PageHeader {
  uint64_t checksum;  // XXH3-64 of bytes [8, page_size)
  uint64_t page_id;
  uint64_t lsn;
};
static_assert(sizeof(PageHeader) == 24);

inline constexpr size_t kPageHeaderSize = sizeof(PageHeader);
inline constexpr uint32_t kMinPageSize = 4096;
inline constexpr uint32_t kMaxPageSize = 65536;

inline bool ValidPageSize(uint32_t s) {
  return s >= kMinPageSize && s <= kMaxPageSize && (s & (s - 1)) == 0;
}

// Computes the checksum of a page image (the header's checksum field is not
// covered).
uint64_t PageChecksum(const char* page, uint32_t page_size);

}  // namespace ringdb

template <>
struct std::hash<ringdb::PageId> {
  size_t operator()(ringdb::PageId p) const noexcept {
    return std::hash<uint64_t>()(p.value);
  }
};
