// On-page formats of the B+tree: the meta page, inner and leaf nodes, and
// overflow pages. Internal to engine/ (the B+tree files only).
//
// Every B+tree page starts, after the buffer pool's 24-byte PageHeader, with
// a u16 page type. All integers are little-endian and unaligned (read and
// written with memcpy). Frozen format: changing it needs a new
// kMetaFormatVersion (version 1 had 2-byte slots holding only the cell
// offset; version 2 added the key length and key head to each slot and the
// node's prefix length; version 3 stores the node prefix once and only key
// suffixes in the cells, with a 5-byte leaf cell header; version 4 stores
// a leaf cell with a 2-byte header, its key length coming from the slot;
// version 5 has 6-byte slots, their key head 2 bytes instead of 4; a tree
// of another version is refused at open).
//
// Meta page (at kPageHeaderSize):
//    0 u16 type = kPageTypeMeta
//    2 u16 format version = kMetaFormatVersion
//    4 u32 page size the tree was formatted with
//    8 u64 format tag = kMetaFormatTag ("ringbtre")
//   16 u64 root page id
//   24 u32 height (1 = the root is a leaf)
//   28 u32 reserved (0)
//
// Node (inner or leaf) page: a slotted page.
//    0 u16 type = kPageTypeLeaf | kPageTypeInner
//    2 u16 level (0 for leaves, parent = child + 1)
//    4 u16 slot count n
//    6 u16 prefix_len p: every key in the node begins with the same p bytes,
//          stored once at [page_size - p, page_size); the cells hold only
//          the key bytes after them. p <= MaxPrefixLen(page_size), 0 in an
//          empty node. Any p no longer than the keys' common prefix is
//          valid: deletes leave it as it is; rebuilds (splits, merges,
//          compaction by a prefix change) make it the longest.
//    8 u32 cell_start: cells occupy [cell_start, page_size - p)
//   12 u32 frag: bytes of dead cells inside [cell_start, page_size - p)
//   16 u64 link0: leaf: previous leaf id; inner: leftmost child id
//   24 u64 link1: leaf: next leaf id;     inner: unused (invalid id)
//   32 slot[n], kSlotSize = 6 bytes each, sorted by the cells' keys:
//        0 u16 cell offset
//        2 u16 full key length (of the whole key, prefix included, also when
//              it overflows)
//        4 u16 key head: key bytes [p, p + 2) read as a big-endian number,
//              zero bytes standing in past the key's end (KeyHead())
// Free space lies between the end of the slot array and cell_start; the
// prefix bytes lie at the page end, after the cells.
//
// Why the prefix is stored rather than derived: LeanStore derives it from
// the node's fence keys, but ringdb nodes carry no fences (an inner node
// knows its range only through its parent). Storing the p bytes once costs
// p bytes per node, keeps a node self-describing (a reader, Verify and the
// read check need nothing from the parent), and a search reads them with
// one memcmp before looking at the slots. The page end is chosen over the
// area after the header so that the slot array never moves: a prefix
// change always rewrites every cell anyway (RebuildNode).
//
// Search compares the search key's head with the slot heads as integers:
// heads are ordered like the keys (a < b implies head(a) <= head(b)), so a
// differing head decides. On equal heads, when either key ends within the
// head (length <= p + 2) the shorter key is a prefix of the longer and the
// lengths decide; only otherwise is the cell read. The search key is first
// compared with the node's prefix (the p bytes at the page end): a key
// below it lands at 0, above it at n, and only a key that shares it is
// searched among the slots.
//
// Leaf cell, stored in a node:
//    u16 value length and flags: bits 0-13 the inline value length v (0
//        when the value overflows; an inline value is part of a cell, so
//        it never exceeds MaxCellSize < 16 KiB), bit 14 the key overflows,
//        bit 15 the value overflows
//    [key overflow:   u32 full key length, u64 key blob id]
//    [value overflow: u64 value length,    u64 value blob id]
//    k key bytes: the key after the node prefix. k is not stored: it is
//        the slot's full key length - p, or KeyPrefixLen(page_size) - p for
//        an overflowed key (whose inline part is always KeyPrefixLen bytes)
//    v value bytes
// A whole leaf cell (outside a node, below) has the 5-byte header of
// format 3 instead, holding k:
//    u8  flags (kCellKeyOverflow, kCellValueOverflow)
//    u16 inline key length k
//    u16 inline value length v
//    then the same fields and bytes, the key whole.
// Storing a whole cell with prefix p takes kLeafHeaderSaving + p bytes
// fewer than the whole cell (StoredCellSize). Per entry, the slot and the
// stored header take 8 bytes (format 4 took 10, format 3 13). For 16-byte
// keys sharing a 13- or 14-byte node prefix and 100-byte values an entry
// takes 110-111 bytes, so a full 4 KiB leaf holds 36 of them (format 4:
// 35, which left a packed tree about 2% larger than RocksDB's files).
// Why a 2-byte head: after the node prefix, the next two key bytes mostly
// differ between a node's keys (the prefix already took what they share),
// so most comparisons are still decided by the slot; a tie costs one cell
// read. Two more head bytes per entry would cost a 36th entry per leaf.
// Inner cell (keys in child >= this key; keys below the first cell's key
// are in link0):
//    u8  flags (kCellKeyOverflow)
//    u16 inline key length k
//    u64 child id
//    [key overflow: u32 full key length, u64 key blob id]
//    k key bytes
// In a node the k key bytes are the key's bytes after the node prefix (a
// key equal to the prefix has k = 0). Outside a node (a cell being moved
// between nodes, built by EncodeLeafCell/EncodeInnerCell or NodeView::
// FullCell) a cell holds the whole inline key, and a leaf cell the 5-byte
// header: InsertCell and RebuildNode strip the prefix (and shorten a leaf
// cell's header) as they store a cell.
// A whole (unstripped) cell never exceeds MaxCellSize(page_size) = usable/4
// - 8 bytes, so every node holds at least 4 cells. Keys longer than
// MaxInlineKey keep a KeyPrefixLen-byte inline part (prefix + stored bytes)
// and the full key in a blob; its head must come from the stored bytes, so
// a node holding it has p <= KeyPrefixLen - 4 = MaxPrefixLen. Values spill
// to a blob when the whole cell would not fit.
//
// Blob (overflow) = a chain of index pages, each listing data pages, so a
// reader fetches many data pages with one FetchMany.
// Index page:
//    0 u16 type = kPageTypeOverflowIndex
//    2 u16 reserved
//    4 u32 count of data page ids in this index page
//    8 u64 next index page id (invalid at the end)
//   16 u64 total blob length (informational)
//   24 u64 data page ids[count]
// Data page:
//    0 u16 type = kPageTypeOverflowData
//    2 u16 reserved
//    4 u32 payload length
//    8 payload
// Every data page but the last is full (DataPageCapacity bytes).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "bufferpool/page.h"

namespace ringdb::btree {

static_assert(std::endian::native == std::endian::little,
              "the B+tree format is little-endian; add byte swaps for this host");

inline constexpr uint16_t kPageTypeMeta = 0xB100;
inline constexpr uint16_t kPageTypeLeaf = 0xB101;
inline constexpr uint16_t kPageTypeInner = 0xB102;
inline constexpr uint16_t kPageTypeOverflowIndex = 0xB103;
inline constexpr uint16_t kPageTypeOverflowData = 0xB104;

inline constexpr uint16_t kMetaFormatVersion = 5;
inline constexpr uint64_t kMetaFormatTag = 0x65727462676e6972ull;  // "ringbtre"
inline constexpr uint32_t kMaxHeight = 32;

// Meta field offsets (absolute, within the page).
inline constexpr uint32_t kMetaOff = kPageHeaderSize;
inline constexpr uint32_t kMetaTypeOff = kMetaOff + 0;
inline constexpr uint32_t kMetaVersionOff = kMetaOff + 2;
inline constexpr uint32_t kMetaPageSizeOff = kMetaOff + 4;
inline constexpr uint32_t kMetaTagOff = kMetaOff + 8;
inline constexpr uint32_t kMetaRootOff = kMetaOff + 16;
inline constexpr uint32_t kMetaHeightOff = kMetaOff + 24;

// Node header field offsets (absolute).
inline constexpr uint32_t kNodeOff = kPageHeaderSize;
inline constexpr uint32_t kNodeTypeOff = kNodeOff + 0;
inline constexpr uint32_t kNodeLevelOff = kNodeOff + 2;
inline constexpr uint32_t kNodeCountOff = kNodeOff + 4;
inline constexpr uint32_t kNodePrefixLenOff = kNodeOff + 6;
inline constexpr uint32_t kNodeCellStartOff = kNodeOff + 8;
inline constexpr uint32_t kNodeFragOff = kNodeOff + 12;
inline constexpr uint32_t kNodeLink0Off = kNodeOff + 16;
inline constexpr uint32_t kNodeLink1Off = kNodeOff + 24;
inline constexpr uint32_t kSlotArrayOff = kNodeOff + 32;
inline constexpr uint32_t kSlotSize = 6;
// Field offsets within a slot.
inline constexpr uint32_t kSlotCellOff = 0;
inline constexpr uint32_t kSlotKeyLenOff = 2;
inline constexpr uint32_t kSlotHeadOff = 4;
inline constexpr uint32_t kKeyHeadSize = 2;

inline constexpr uint8_t kCellKeyOverflow = 1;
inline constexpr uint8_t kCellValueOverflow = 2;
// Header of a whole leaf cell (outside a node).
inline constexpr uint32_t kLeafCellHeader = 5;
// Header of a leaf cell stored in a node, and the bytes it saves.
inline constexpr uint32_t kStoredLeafCellHeader = 2;
inline constexpr uint32_t kLeafHeaderSaving = kLeafCellHeader - kStoredLeafCellHeader;
inline constexpr uint16_t kStoredValueLenMask = 0x3FFF;
inline constexpr uint16_t kStoredKeyOverflowBit = 0x4000;
inline constexpr uint16_t kStoredValueOverflowBit = 0x8000;
inline constexpr uint32_t kInnerCellHeader = 11;
inline constexpr uint32_t kKeyOverflowFields = 12;
inline constexpr uint32_t kValueOverflowFields = 16;
// Bytes of a leaf cell's overflow fields, between its header (whole or
// stored) and its key bytes.
inline constexpr uint32_t LeafOverflowFields(bool key_overflow, bool value_overflow) {
  return (key_overflow ? kKeyOverflowFields : 0) + (value_overflow ? kValueOverflowFields : 0);
}

// Overflow page offsets (absolute).
inline constexpr uint32_t kOvfTypeOff = kPageHeaderSize;
inline constexpr uint32_t kOvfCountOff = kPageHeaderSize + 4;  // index: count; data: length
inline constexpr uint32_t kOvfNextOff = kPageHeaderSize + 8;
inline constexpr uint32_t kOvfTotalOff = kPageHeaderSize + 16;
inline constexpr uint32_t kOvfIdsOff = kPageHeaderSize + 24;
inline constexpr uint32_t kOvfDataOff = kPageHeaderSize + 8;

// Bytes available to cells and slots in a node.
inline constexpr uint32_t NodeCapacity(uint32_t page_size) {
  return page_size - kSlotArrayOff;
}
// Largest cell (excluding its slot).
inline constexpr uint32_t MaxCellSize(uint32_t page_size) {
  return NodeCapacity(page_size) / 4 - kSlotSize;
}
// A stored leaf cell keeps the inline value length in 14 bits.
static_assert(MaxCellSize(kMaxPageSize) <= kStoredValueLenMask);
// Longest key stored wholly inline (leaf cell with an overflowed value).
inline constexpr uint32_t MaxInlineKey(uint32_t page_size) {
  return MaxCellSize(page_size) - kLeafCellHeader - kValueOverflowFields;
}
// Inline prefix length of an overflowed key.
inline constexpr uint32_t KeyPrefixLen(uint32_t page_size) {
  return MaxInlineKey(page_size) - kKeyOverflowFields;
}
// Longest node prefix: the head bytes of an overflowed key must lie in its
// inline part.
inline constexpr uint32_t MaxPrefixLen(uint32_t page_size) {
  return KeyPrefixLen(page_size) - kKeyHeadSize;
}
inline constexpr uint32_t DataPageCapacity(uint32_t page_size) {
  return page_size - kOvfDataOff;
}
inline constexpr uint32_t IndexPageCapacity(uint32_t page_size) {
  return (page_size - kOvfIdsOff) / 8;
}

template <typename T>
inline T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// The head of `key` after a prefix of p bytes: bytes [p, p + 2) as a
// big-endian number, zero where the key has ended. Require: p <= key.size()
// or the caller accepts a zero head (keys shorter than the prefix never
// reach a head comparison).
using KeyHeadT = uint16_t;
static_assert(sizeof(KeyHeadT) == kKeyHeadSize);
inline KeyHeadT KeyHead(std::string_view key, uint32_t p) {
  if (key.size() >= p + size_t{kKeyHeadSize}) {
    return __builtin_bswap16(Load<KeyHeadT>(key.data() + p));
  }
  KeyHeadT h = 0;
  for (uint32_t i = 0; i < kKeyHeadSize; ++i) {
    const uint8_t b = p + i < key.size() ? static_cast<uint8_t>(key[p + i]) : 0;
    h = static_cast<KeyHeadT>((h << 8) | b);
  }
  return h;
}

}  // namespace ringdb::btree
