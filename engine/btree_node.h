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

#include "bufferpool/page.h"
#include "engine/btree_format.h"
#include "util/result.h"
#include "ringdb/status.h"

namespace ringdb::btree {

// A key as stored in a cell: the inline bytes and, when the key overflows,
// where the full key is.
struct KeyRef {
  std::string_view inline_key;
  bool overflow = false;
  uint32_t full_len = 0;
  PageId blob;
  size_t full_size() const { return overflow ? full_len : inline_key.size(); }
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
  uint32_t SlotHead(int i) const {
    return Load<uint32_t>(p_ + kSlotArrayOff + kSlotSize * i + kSlotHeadOff);
  }
  uint32_t SlotKeyLen(int i) const {
    return Load<uint16_t>(p_ + kSlotArrayOff + kSlotSize * i + kSlotKeyLenOff);
  }

  // The node prefix: the first prefix_len() bytes of cell 0's key (empty
  // when prefix_len() is 0). Corruption when cell 0 is damaged or shorter.
  Status Prefix(std::string_view* prefix) const;
  // The key of cell i (leaf or inner, by the node type).
  Status KeyAt(int i, KeyRef* key) const;
  // The raw bytes of cell i (validated to lie inside the cell area).
  Status RawCell(int i, std::string_view* cell) const;
  Status LeafCellAt(int i, LeafCell* cell) const;
  Status InnerCellAt(int i, InnerCell* cell) const;
  // The exact bytes of cell i (leaf or inner, by the node type).
  Status CellBytes(int i, std::string_view* cell) const;
  // Child i in [0, count()]: 0 is link0, i > 0 is cell i-1's child.
  Status ChildAt(int i, PageId* child) const;

  // Parses raw cell bytes as a cell of this node's kind: its key and its
  // encoded size.
  Status ParseCellKey(std::string_view raw, KeyRef* key, uint32_t* size) const;

  Status Corrupt(std::string_view what) const;

 private:
  const char* p_;
  uint32_t page_size_;
  PageId id_;
};

// Binary search of `key` among the node's keys by their slot heads (format
// and reasoning in btree_format.h): sets *idx to the first slot whose key
// is >= key (> key with `upper`) and *found when a slot's key equals key.
// `tie(i, &cmp)` returns Status and sets cmp <0 / 0 / >0 as key compares
// with slot i's key; it is called only when the heads are equal and both
// keys go on past the head (it may read an overflowed key).
//
// The head comparisons hold only for a key that shares the node prefix.
// That is checked after the search, on the cell the caller reads next (the
// match, or the separator left of the chosen child), so it costs no extra
// cache line; a key outside the prefix lands at 0 or count().
// Require: v.Validate() passed.
template <typename TieCompare>
Status SearchSlots(const NodeView& v, std::string_view key, bool upper, TieCompare&& tie,
                   int* idx, bool* found) {
  // Clamped so that a torn image (an optimistic reader's) never sends the
  // search outside the page.
  const int n = std::min(v.count(), v.SlotLimit());
  const uint32_t p = v.prefix_len();
  const uint32_t head = KeyHead(key, p);
  const size_t short_len = size_t{p} + kKeyHeadSize;
  *found = false;
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    uint32_t h = v.SlotHead(mid);
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
  if (p == 0 || n == 0) return Status::OK();
  KeyRef k;
  RINGDB_RETURN_IF_ERROR(v.KeyAt(*found && !upper ? lo : (lo > 0 ? lo - 1 : 0), &k));
  if (k.inline_key.size() < p) return v.Corrupt("key shorter than the node prefix");
  size_t m = std::min<size_t>(key.size(), p);
  int c = m == 0 ? 0 : std::memcmp(key.data(), k.inline_key.data(), m);
  if (c == 0 && key.size() >= p) return Status::OK();
  *found = false;  // outside the node's prefix: below or above every key
  *idx = c < 0 || (c == 0 && key.size() < p) ? 0 : n;
  return Status::OK();
}

// The whole-node check for a page image just read from disk, meant for a
// buffer-pool read hook (after the checksum, before any reader sees the
// frame): ValidateCells() for leaf and inner pages, OK for any other page
// type (meta and overflow pages are checked where they are read).
Status VerifyNodePage(PageId id, const char* page, uint32_t page_size);

// Parses one cell from raw bytes (used on cells not yet in a page).
Status ParseLeafCell(std::string_view raw, PageId page, LeafCell* cell);
Status ParseInnerCell(std::string_view raw, PageId page, InnerCell* cell);

// Encodes cells into *out (replacing its contents).
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

// The mutators keep the slot heads and the prefix length right: they
// require a node that passed ValidateCells() and cells of the node's kind
// in key order (a broken requirement aborts).
//
// Inserts `cell` as slot i. Require: FreeTotal() >= cell.size() + kSlotSize.
// Compacts the page when the contiguous gap is too small; shortens the
// prefix (rewriting every head) when the new key does not share it.
void InsertCell(char* page, uint32_t page_size, int i, std::string_view cell);
// Removes slot i (its bytes become fragmentation). The prefix stays.
void RemoveCell(char* page, uint32_t page_size, int i);
// Rewrites the node with exactly `cells` (which may point into the page
// itself), keeping type, level and links; the prefix becomes the cells'
// longest common prefix (capped at MaxPrefixLen).
void RebuildNode(char* page, uint32_t page_size, std::span<const std::string_view> cells);

// The split index s that balances bytes (cells and slots) between
// [0, s) and [s, n) -- or [s + 1, n) with skip_middle, where cell s moves
// up -- keeping both sides within `cap`. Require: at least 2 cells (3 with
// skip_middle). Returns 0 when no split fits (cells over MaxCellSize).
size_t BalancedSplit(std::span<const std::string_view> cells, uint32_t cap, bool skip_middle);

// The shortest key s with left < s <= right (a prefix of right).
// Require: left < right.
std::string_view ShortestSeparator(std::string_view left, std::string_view right);

}  // namespace ringdb::btree
