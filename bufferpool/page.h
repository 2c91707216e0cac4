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
#include <compare>
#include <functional>
#include <iosfwd>

namespace ringdb {

struct PageId {
  uint64_t value = kInvalidValue;
  static constexpr uint64_t kInvalidValue = ~0ull;
  bool valid() const { return value != kInvalidValue; }
  friend bool operator==(PageId a, PageId b) { return a.value == b.value; }
  friend bool operator!=(PageId a, PageId b) { return a.value != b.value; }
  friend bool operator<(PageId a, PageId b) { return a.value < b.value; }
};

// Log sequence number: the byte position just past a log record, 0 before
// the first one. A strong type, like PageId, so an LSN is never mixed up
// with a page id, a length or a file offset; `value` is the raw number for
// the on-disk formats and arithmetic on log positions.
struct Lsn {
  uint64_t value = 0;
  constexpr Lsn() = default;
  constexpr explicit Lsn(uint64_t v) : value(v) {}
  friend constexpr bool operator==(Lsn a, Lsn b) = default;
  friend constexpr auto operator<=>(Lsn a, Lsn b) = default;
  // Log positions move by byte counts, and two of them are a byte distance
  // apart (Require: no wrap-around; a >= b for a distance).
  friend constexpr Lsn operator+(Lsn a, uint64_t bytes) { return Lsn(a.value + bytes); }
  constexpr Lsn& operator+=(uint64_t bytes) {
    value += bytes;
    return *this;
  }
  friend constexpr Lsn operator-(Lsn a, uint64_t bytes) { return Lsn(a.value - bytes); }
  friend constexpr uint64_t operator-(Lsn a, Lsn b) { return a.value - b.value; }
};
// Prints the number (test failure messages, log lines).
std::ostream& operator<<(std::ostream& os, Lsn lsn);

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
