// Slotted-page access for B+tree nodes (format in btree_format.h): bounds-
// checked reading of untrusted page images, cell encoding, and in-place
// edits (insert, remove, rebuild).
//
// Thread-safety: NodeView reads a page image; the caller holds at least a
// shared latch on it for as long as the view and the string_views it hands
// out are used. The mutators require an exclusive latch. The rebuild helpers
// use a thread-local scratch page.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bufferpool/page.h"
#include "engine/btree_format.h"
#include "util/result.h"
#include "ringdb/status.h"

namespace ringdb::btree {

// A key as stored in a cell: the node prefix, the inline bytes stored after
// it and, when the key overflows, where the full key is. A cell parsed
// outside a node (a whole cell) has an empty prefix.
struct KeyRef {
  std::string_view prefix;
  std::string_view inline_key;
  bool overflow = false;
  uint32_t full_len = 0;  // of the whole key; meaningful when it overflows
  PageId blob;
  size_t inline_size() const { return prefix.size() + inline_key.size(); }
  size_t full_size() const { return overflow ? full_len : inline_size(); }
  // Sets *out to prefix + inline bytes: the whole key unless it overflows.
  void InlineTo(std::string* out) const {
    out->assign(prefix);
    out->append(inline_key);
  }
};

struct LeafCell {
  KeyRef key;
  bool value_overflow = false;
  std::string_view inline_value;
  uint64_t value_len = 0;  // full length
  PageId value_blob;
  uint32_t size = 0;  // encoded bytes
};

struct InnerCell {
  KeyRef key;
  PageId child;
  uint32_t size = 0;
};

// Read-only view of a node page. Validate() must succeed before the other
// accessors are used; it is what makes the slot accessors (SlotHead,
// SlotKeyLen) safe. Cell accessors check every offset and length, so a
// damaged cell gives Corruption, never a read outside the page.
class NodeView {
 public:
  NodeView(const char* page, uint32_t page_size, PageId id)
      : p_(page), page_size_(page_size), id_(id) {}

  // Constant time, on the header's cache line: node type, slot count,
  // prefix length, cell_start and frag bounds. What a reader relies on.
  Status Validate() const;
  // Validate() plus every slot and cell: each cell parses inside the cell
  // area, the cells exactly account for it (no overlap), and each slot's
  // key length and head and the node prefix agree with the cell's key.
  // Writers call it before editing a node; Verify calls it on every node.
  Status ValidateCells() const;

  uint16_t type() const { return Load<uint16_t>(p_ + kNodeTypeOff); }
  bool is_leaf() const { return type() == kPageTypeLeaf; }
  uint16_t level() const { return Load<uint16_t>(p_ + kNodeLevelOff); }
  int count() const { return Load<uint16_t>(p_ + kNodeCountOff); }
  // The most slots a page of this size can hold: a bound on count() that
  // holds even for a page image read without a latch (torn), where the
  // count read now may differ from the one Validate() checked.
  int SlotLimit() const { return static_cast<int>((page_size_ - kSlotArrayOff) / kSlotSize); }
  // Every key in the node begins with the same prefix_len() bytes.
  uint32_t prefix_len() const { return Load<uint16_t>(p_ + kNodePrefixLenOff); }
  // The prefix bytes at the page end. Clamped to MaxPrefixLen, so that even
  // a torn image never yields bytes outside the page.
  std::string_view prefix() const {
    uint32_t n = std::min(prefix_len(), MaxPrefixLen(page_size_));
    return std::string_view(p_ + page_size_ - n, n);
  }
  // Cells lie in [cell_start(), CellAreaEnd()).
  uint32_t CellAreaEnd() const { return page_size_ - static_cast<uint32_t>(prefix().size()); }
  uint32_t cell_start() const { return Load<uint32_t>(p_ + kNodeCellStartOff); }
  uint32_t frag() const { return Load<uint32_t>(p_ + kNodeFragOff); }
  PageId link0() const { return PageId{Load<uint64_t>(p_ + kNodeLink0Off)}; }
  PageId link1() const { return PageId{Load<uint64_t>(p_ + kNodeLink1Off)}; }
  PageId id() const { return id_; }
  uint32_t page_size() const { return page_size_; }
  const char* data() const { return p_; }

  uint32_t FreeContiguous() const {
    return cell_start() - (kSlotArrayOff + kSlotSize * count());
  }
  uint32_t FreeTotal() const { return FreeContiguous() + frag(); }
  uint32_t Capacity() const { return NodeCapacity(page_size_); }
  uint32_t Used() const { return Capacity() - FreeTotal(); }

  // Slot fields of entry i. Require: Validate() passed, 0 <= i < count().
  KeyHeadT SlotHead(int i) const {
    return Load<KeyHeadT>(p_ + kSlotArrayOff + kSlotSize * i + kSlotHeadOff);
  }
  uint32_t SlotKeyLen(int i) const {
    return Load<uint16_t>(p_ + kSlotArrayOff + kSlotSize * i + kSlotKeyLenOff);
  }

  // The key of cell i (leaf or inner, by the node type), its prefix set to
  // the node prefix.
  Status KeyAt(int i, KeyRef* key) const;
  // The search's tie-breaker (SearchSlots), fast path: sets *suffix to the
  // key bytes cell i stores after the node prefix when its key is wholly
  // inline, without parsing the rest of the cell. False when the key
  // overflows or the offsets do not fit in the cell area (a torn or damaged
  // image): the caller then takes KeyAt, which checks everything.
  bool InlineSuffix(int i, std::string_view* suffix) const;
  // The stored bytes of cell i from its offset to the end of the cell area
  // (validated to lie inside it); the cell's key bytes are a suffix.
  Status RawCell(int i, std::string_view* cell) const;
  Status LeafCellAt(int i, LeafCell* cell) const;
  Status InnerCellAt(int i, InnerCell* cell) const;
  // Cell i as a whole cell (the node prefix put back into its key), in
  // *out: what InsertCell and RebuildNode take, in this node or another.
  Status FullCell(int i, std::string* out) const;
  // Child i in [0, count()]: 0 is link0, i > 0 is cell i-1's child.
  Status ChildAt(int i, PageId* child) const;

  // Parses cell i's raw bytes (RawCell) as a stored cell of this node's
  // kind: its key (prefix left empty) and its stored size.
  Status ParseCellKey(int i, std::string_view raw, KeyRef* key, uint32_t* size) const;

  Status Corrupt(std::string_view what) const;

 private:
  const char* p_;
  uint32_t page_size_;
  PageId id_;
};

// Binary search of `key` among the node's keys by their slot heads (format
// and reasoning in btree_format.h): sets *idx to the first slot whose key
// is >= key (> key with `upper`) and *found when a slot's key equals key.
// The key is first compared with the node prefix: one below it lands at 0,
// one above it at count(). `tie(i, &cmp)` returns Status and sets cmp
// <0 / 0 / >0 as key compares with slot i's key; it is called only for a
// key that shares the node prefix, when the heads are equal and both keys
// go on past the head (it may read an overflowed key).
// Require: v.Validate() passed.
template <typename TieCompare>
Status SearchSlots(const NodeView& v, std::string_view key, bool upper, TieCompare&& tie,
                   int* idx, bool* found) {
  // Clamped so that a torn image (an optimistic reader's) never sends the
  // search outside the page.
  const int n = std::min(v.count(), v.SlotLimit());
  const std::string_view prefix = v.prefix();
  const uint32_t p = static_cast<uint32_t>(prefix.size());
  *found = false;
  if (p > 0 && n > 0) {
    size_t m = std::min<size_t>(key.size(), p);
    int c = m == 0 ? 0 : std::memcmp(key.data(), prefix.data(), m);
    if (c < 0 || (c == 0 && key.size() < p)) {
      *idx = 0;
      return Status::OK();
    }
    if (c > 0) {
      *idx = n;
      return Status::OK();
    }
  }
  const KeyHeadT head = KeyHead(key, p);
  const size_t short_len = size_t{p} + kKeyHeadSize;
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    KeyHeadT h = v.SlotHead(mid);
    int cmp;
    if (head != h) {
      cmp = head < h ? -1 : 1;
    } else {
      size_t stored = v.SlotKeyLen(mid);
      if (std::min(key.size(), stored) <= short_len) {
        cmp = key.size() < stored ? -1 : (key.size() > stored ? 1 : 0);
      } else {
        RINGDB_RETURN_IF_ERROR(tie(mid, &cmp));
      }
    }
    if (cmp == 0) *found = true;
    if (cmp > 0 || (upper && cmp == 0)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *idx = lo;
  return Status::OK();
}

// The whole-node check for a page image just read from disk, meant for a
// buffer-pool read hook (after the checksum, before any reader sees the
// frame): ValidateCells() for leaf and inner pages, OK for any other page
// type (meta and overflow pages are checked where they are read).
Status VerifyNodePage(PageId id, const char* page, uint32_t page_size);

// Parses one whole cell from raw bytes (cells not in a page: EncodeLeafCell,
// FullCell).
Status ParseLeafCell(std::string_view raw, PageId page, LeafCell* cell);
// Parses a leaf cell stored in a node with prefix length p, from its raw
// bytes (RawCell) and its slot's full key length.
Status ParseStoredLeafCell(std::string_view raw, PageId page, uint32_t slot_key_len, uint32_t p,
                           uint32_t page_size, LeafCell* cell);
Status ParseInnerCell(std::string_view raw, PageId page, InnerCell* cell);

// Encodes whole cells into *out (replacing its contents): the key's prefix
// and inline bytes become the cell's key bytes.
void EncodeLeafCell(const KeyRef& key, bool value_overflow, std::string_view inline_value,
                    uint64_t value_len, PageId value_blob, std::string* out);
void EncodeInnerCell(const KeyRef& key, PageId child, std::string* out);
// Returns a copy of inner cell `raw` with its child replaced.
void InnerCellWithChild(std::string_view raw, PageId child, std::string* out);

// Formats an empty node.
void InitNode(char* page, uint32_t page_size, uint16_t type, uint16_t level, PageId link0,
              PageId link1);
void SetLink0(char* page, PageId id);
void SetLink1(char* page, PageId id);

// The mutators keep the slot heads, the prefix and the stored suffixes
// right: they require a node that passed ValidateCells() and whole cells
// (EncodeLeafCell, FullCell) of the node's kind in key order (a broken
// requirement aborts).
//
// Whether whole `cell` fits in the node, after removing slot `replacing`
// when it is >= 0 (its bytes and slot count as free): counts the cell
// without the prefix and, when the key does not share the prefix, the
// longer suffixes of the other cells.
bool InsertFits(const NodeView& v, std::string_view cell, int replacing = -1);
// Free bytes that guarantee any insert of a cell of at most MaxCellSize
// fits, whatever prefix it breaks (a writer's "safe node" test).
uint32_t WorstInsertNeed(const NodeView& v);
// Inserts `cell` as slot i. Require: InsertFits(v, cell). Compacts the page
// when the contiguous gap is too small; when the key does not share the
// node prefix, rebuilds the node with the shorter prefix.
void InsertCell(char* page, uint32_t page_size, int i, std::string_view cell);
// Removes slot i (its bytes become fragmentation). The prefix stays (0
// once the node is empty).
void RemoveCell(char* page, uint32_t page_size, int i);
// Rewrites the node with exactly `cells` (whole cells, not in the page),
// keeping type, level and links; the prefix becomes the cells' longest
// common prefix (capped at MaxPrefixLen and by overflowed keys' heads).
// Require: PackedSize(cells) <= NodeCapacity(page_size).
void RebuildNode(char* page, uint32_t page_size, std::span<const std::string_view> cells);
// Appends node v's cells to *out as whole cells, in order; with at >= 0,
// `cell` goes in at index at (replacing slot at when `replace`). Require:
// v passed ValidateCells().
void AppendWholeCells(const NodeView& v, std::vector<std::string>* out, int at = -1,
                      std::string_view cell = {}, bool replace = false);
// Views of owned cells, for RebuildNode and BalancedSplit.
std::vector<std::string_view> CellViews(const std::vector<std::string>& owned);
// Bytes (slots, stored cells, prefix) that RebuildNode would use for
// `cells`, whole cells of the given kind in key order.
uint64_t PackedSize(std::span<const std::string_view> cells, bool leaf, uint32_t page_size);

// The split index s that balances packed bytes (PackedSize: each side with
// its own prefix) between [0, s) and [s, n) for leaf cells, or [0, s) and
// [s + 1, n) for inner cells (cell s moves up), keeping both sides within
// NodeCapacity(page_size). Require: whole cells of the given kind in key
// order, at least 2 (3 for inner cells). Returns 0 when no split fits.
size_t BalancedSplit(std::span<const std::string_view> cells, bool leaf, uint32_t page_size);

// The largest s such that leaf cells [0, s) pack into at most `budget`
// bytes (PackedSize) and [s, n) into at most NodeCapacity(page_size), so
// the left page is as full as `budget` allows (DBImpl::Compact packs
// leaves with it). Require: whole leaf cells in key order whose
// PackedSize exceeds `budget`. Returns 0 when no s fits both sides.
size_t PackedPrefix(std::span<const std::string_view> cells, uint64_t budget,
                    uint32_t page_size);

// The shortest key s with left < s <= right (a prefix of right).
// Require: left < right.
std::string_view ShortestSeparator(std::string_view left, std::string_view right);

}  // namespace ringdb::btree
