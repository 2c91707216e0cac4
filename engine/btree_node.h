// Slotted-page access for B+tree nodes (format in btree_format.h): bounds-
// checked reading of untrusted page images, cell encoding, and in-place
// edits (insert, remove, rebuild).
//
// Thread-safety: NodeView reads a page image; the caller holds at least a
// shared latch on it for as long as the view and the string_views it hands
// out are used. The mutators require an exclusive latch. The rebuild helpers
// use a thread-local scratch page.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bufferpool/page.h"
#include "engine/btree_format.h"
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
// accessors are used; cell accessors check every offset and length.
class NodeView {
 public:
  NodeView(const char* page, uint32_t page_size, PageId id)
      : p_(page), page_size_(page_size), id_(id) {}

  // Checks the header: node type, slot count, cell_start and frag bounds.
  Status Validate() const;
  // Parses every cell and checks that the cells exactly account for the
  // cell area (no overlap). Writers call it before editing a node.
  Status ValidateCells() const;

  uint16_t type() const { return Load<uint16_t>(p_ + kNodeTypeOff); }
  bool is_leaf() const { return type() == kPageTypeLeaf; }
  uint16_t level() const { return Load<uint16_t>(p_ + kNodeLevelOff); }
  int count() const { return Load<uint16_t>(p_ + kNodeCountOff); }
  uint32_t cell_start() const { return Load<uint32_t>(p_ + kNodeCellStartOff); }
  uint32_t frag() const { return Load<uint32_t>(p_ + kNodeFragOff); }
  PageId link0() const { return PageId{Load<uint64_t>(p_ + kNodeLink0Off)}; }
  PageId link1() const { return PageId{Load<uint64_t>(p_ + kNodeLink1Off)}; }
  PageId id() const { return id_; }
  uint32_t page_size() const { return page_size_; }

  uint32_t FreeContiguous() const {
    return cell_start() - (kSlotArrayOff + kSlotSize * count());
  }
  uint32_t FreeTotal() const { return FreeContiguous() + frag(); }
  uint32_t Capacity() const { return NodeCapacity(page_size_); }
  uint32_t Used() const { return Capacity() - FreeTotal(); }

  // The raw bytes of cell i (validated to lie inside the cell area).
  Status RawCell(int i, std::string_view* cell) const;
  Status LeafCellAt(int i, LeafCell* cell) const;
  Status InnerCellAt(int i, InnerCell* cell) const;
  // The exact bytes of cell i (leaf or inner, by the node type).
  Status CellBytes(int i, std::string_view* cell) const;
  // Child i in [0, count()]: 0 is link0, i > 0 is cell i-1's child.
  Status ChildAt(int i, PageId* child) const;

  Status Corrupt(std::string_view what) const;

 private:
  const char* p_;
  uint32_t page_size_;
  PageId id_;
};

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

// Inserts `cell` as slot i. Require: FreeTotal() >= cell.size() + kSlotSize.
// Compacts the page when the contiguous gap is too small.
void InsertCell(char* page, uint32_t page_size, int i, std::string_view cell);
// Removes slot i (its bytes become fragmentation).
void RemoveCell(char* page, uint32_t page_size, int i);
// Rewrites the node with exactly `cells` (which may point into the page
// itself), keeping type, level and links.
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
