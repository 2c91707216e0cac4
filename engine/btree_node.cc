// Slotted-page access for B+tree nodes.
#include "engine/btree_node.h"

#include <algorithm>
#include <string>
#include <vector>

#include "util/check.h"
#include "util/result.h"
#include "ringdb/db.h"

namespace ringdb::btree {

// Slots store the full key length in 16 bits.
static_assert(kMaxKeySize <= 0xFFFF);

namespace {

char* Scratch(uint32_t page_size) {
  thread_local std::vector<char> scratch;
  if (scratch.size() < page_size) scratch.resize(page_size);
  return scratch.data();
}

Status CorruptCell(PageId page, std::string_view what) {
  return Status::Corruption("btree page " + std::to_string(page.value) + ": " +
                            std::string(what));
}

}  // namespace

Status NodeView::Corrupt(std::string_view what) const { return CorruptCell(id_, what); }

Status NodeView::Validate() const {
  uint16_t t = type();
  if (t != kPageTypeLeaf && t != kPageTypeInner) return Corrupt("not a tree node (bad type)");
  if ((t == kPageTypeLeaf) != (level() == 0)) return Corrupt("level does not match node type");
  uint64_t slots_end = kSlotArrayOff + uint64_t{kSlotSize} * count();
  uint32_t cs = cell_start();
  if (prefix_len() > MaxPrefixLen(page_size_)) return Corrupt("bad prefix length");
  if (count() == 0 && prefix_len() != 0) return Corrupt("empty node with a prefix");
  const uint32_t end = CellAreaEnd();
  if (slots_end > cs || cs > end) return Corrupt("bad slot count or cell_start");
  if (frag() > end - cs) return Corrupt("bad fragmentation count");
  if (t == kPageTypeInner && !link0().valid()) return Corrupt("inner node without leftmost child");
  return Status::OK();
}

namespace {

// Whether stored key b may follow stored key a in a node (both after the
// same prefix): strictly greater where the inline bytes decide. Inline
// bytes that agree up to an overflowed key's end leave the order to the
// blobs, which only a full comparison (Verify) reads.
bool InlineOrderOk(const KeyRef& a, const KeyRef& b) {
  size_t m = std::min(a.inline_key.size(), b.inline_key.size());
  int c = m == 0 ? 0 : std::memcmp(a.inline_key.data(), b.inline_key.data(), m);
  if (c != 0) return c < 0;
  // b's whole key is a prefix of a's: b <= a.
  return b.overflow || b.inline_key.size() > a.inline_key.size();
}

}  // namespace

Status NodeView::ValidateCells() const {
  RINGDB_RETURN_IF_ERROR(Validate());
  const uint32_t p = prefix_len();
  uint64_t total = 0;
  KeyRef prev;
  for (int i = 0; i < count(); ++i) {
    std::string_view raw;
    RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
    KeyRef key;
    uint32_t size;
    RINGDB_RETURN_IF_ERROR(ParseCellKey(i, raw, &key, &size));
    if (size > MaxCellSize(page_size_)) return Corrupt("cell larger than the maximum");
    total += size;
    uint64_t inline_full = uint64_t{p} + key.inline_key.size();
    if (key.overflow) {
      if (key.full_len <= inline_full) return Corrupt("overflowed key not longer than inline");
      if (key.inline_key.size() < kKeyHeadSize) return Corrupt("overflowed key shorter than a head");
    }
    // A leaf cell's inline key length comes from its slot (format v4), so
    // this checks inner cells and overflowed keys.
    uint64_t full = key.overflow ? key.full_len : inline_full;
    if (full != SlotKeyLen(i)) return Corrupt("slot key length does not match its cell");
    if (KeyHead(key.inline_key, 0) != SlotHead(i)) return Corrupt("slot head does not match key");
    if (i > 0 && !InlineOrderOk(prev, key)) return Corrupt("keys out of order");
    prev = key;
  }
  if (total + frag() != CellAreaEnd() - cell_start()) return Corrupt("cells overlap or leak space");
  return Status::OK();
}

Status VerifyNodePage(PageId id, const char* page, uint32_t page_size) {
  uint16_t type = Load<uint16_t>(page + kNodeTypeOff);
  if (type != kPageTypeLeaf && type != kPageTypeInner) return Status::OK();
  return NodeView(page, page_size, id).ValidateCells();
}

Status NodeView::RawCell(int i, std::string_view* cell) const {
  if (i < 0 || i >= count() || i >= SlotLimit()) return Corrupt("slot index out of range");
  uint32_t off = Load<uint16_t>(p_ + kSlotArrayOff + kSlotSize * i + kSlotCellOff);
  const uint32_t end = CellAreaEnd();
  if (off < cell_start() || off >= end) return Corrupt("slot offset out of bounds");
  // The exact size is known only after parsing; hand out the rest of the
  // cell area.
  *cell = std::string_view(p_ + off, end - off);
  return Status::OK();
}

Status NodeView::ParseCellKey(int i, std::string_view raw, KeyRef* key, uint32_t* size) const {
  if (is_leaf()) {
    LeafCell c;
    RINGDB_RETURN_IF_ERROR(
        ParseStoredLeafCell(raw, id_, SlotKeyLen(i), prefix_len(), page_size_, &c));
    *key = c.key;
    *size = c.size;
  } else {
    InnerCell c;
    RINGDB_RETURN_IF_ERROR(ParseInnerCell(raw, id_, &c));
    *key = c.key;
    *size = c.size;
  }
  return Status::OK();
}

bool NodeView::InlineSuffix(int i, std::string_view* suffix) const {
  if (i < 0 || i >= count() || i >= SlotLimit()) return false;
  const uint32_t off = Load<uint16_t>(p_ + kSlotArrayOff + kSlotSize * i + kSlotCellOff);
  const uint32_t end = CellAreaEnd();
  if (off < cell_start()) return false;
  uint64_t key_off;
  uint32_t k;
  if (is_leaf()) {
    if (uint64_t{off} + kStoredLeafCellHeader > end) return false;
    const uint16_t hv = Load<uint16_t>(p_ + off);
    // Each field read once: an optimistic reader's image may change under it.
    const uint32_t p = static_cast<uint32_t>(prefix().size());
    const uint32_t full = SlotKeyLen(i);
    if ((hv & kStoredKeyOverflowBit) || full < p) return false;
    key_off = uint64_t{off} + kStoredLeafCellHeader +
              LeafOverflowFields(false, hv & kStoredValueOverflowBit);
    k = full - p;
  } else {
    if (uint64_t{off} + kInnerCellHeader > end) return false;
    if (static_cast<uint8_t>(p_[off]) & kCellKeyOverflow) return false;
    key_off = uint64_t{off} + kInnerCellHeader;
    k = Load<uint16_t>(p_ + off + 1);
  }
  if (key_off + k > end) return false;
  *suffix = std::string_view(p_ + key_off, k);
  return true;
}

Status NodeView::KeyAt(int i, KeyRef* key) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  uint32_t size;
  RINGDB_RETURN_IF_ERROR(ParseCellKey(i, raw, key, &size));
  key->prefix = prefix();
  return Status::OK();
}

namespace {

// A stored leaf cell's header from a whole cell's flags and inline value
// length, and back (btree_format.h).
uint16_t StoredLeafHeader(uint8_t flags, uint16_t v) {
  RINGDB_CHECK(v <= kStoredValueLenMask);
  return static_cast<uint16_t>(v | ((flags & kCellKeyOverflow) ? kStoredKeyOverflowBit : 0) |
                               ((flags & kCellValueOverflow) ? kStoredValueOverflowBit : 0));
}
uint8_t WholeLeafFlags(uint16_t hv) {
  return static_cast<uint8_t>(((hv & kStoredKeyOverflowBit) ? kCellKeyOverflow : 0) |
                              ((hv & kStoredValueOverflowBit) ? kCellValueOverflow : 0));
}

// The rest of a leaf cell after its header (of `header` bytes, whole or
// stored), c's overflow flags set: the overflow fields, k key bytes and v
// value bytes, all inside raw. An overflowed key must be longer than
// `inline_len`, the inline bytes of its whole key.
Status ParseLeafFields(std::string_view raw, PageId page, uint32_t header, uint32_t k,
                       uint32_t v, uint32_t inline_len, LeafCell* c) {
  const uint64_t fields_end = header + LeafOverflowFields(c->key.overflow, c->value_overflow);
  const uint64_t need = fields_end + k + v;
  if (need > raw.size()) return CorruptCell(page, "leaf cell overruns the page");
  const char* q = raw.data() + header;
  if (c->key.overflow) {
    c->key.full_len = Load<uint32_t>(q);
    c->key.blob = PageId{Load<uint64_t>(q + 4)};
    q += kKeyOverflowFields;
    if (c->key.full_len <= inline_len || c->key.full_len > kMaxKeySize) {
      return CorruptCell(page, "bad overflowed key length");
    }
  } else {
    c->key.full_len = k;
    c->key.blob = PageId{};
  }
  if (c->value_overflow) {
    c->value_len = Load<uint64_t>(q);
    c->value_blob = PageId{Load<uint64_t>(q + 8)};
    if (v != 0 || c->value_len > kMaxValueSize) return CorruptCell(page, "bad overflowed value");
  } else {
    c->value_len = v;
    c->value_blob = PageId{};
  }
  c->key.prefix = {};
  c->key.inline_key = std::string_view(raw.data() + fields_end, k);
  c->inline_value = std::string_view(raw.data() + fields_end + k, v);
  c->size = static_cast<uint32_t>(need);
  return Status::OK();
}

}  // namespace

Status ParseLeafCell(std::string_view raw, PageId page, LeafCell* c) {
  if (raw.size() < kLeafCellHeader) return CorruptCell(page, "truncated leaf cell");
  const char* p = raw.data();
  uint8_t flags = static_cast<uint8_t>(p[0]);
  if (flags & ~(kCellKeyOverflow | kCellValueOverflow)) return CorruptCell(page, "bad cell flags");
  const uint32_t k = Load<uint16_t>(p + 1);
  c->key.overflow = flags & kCellKeyOverflow;
  c->value_overflow = flags & kCellValueOverflow;
  return ParseLeafFields(raw, page, kLeafCellHeader, k, Load<uint16_t>(p + 3), k, c);
}

Status ParseStoredLeafCell(std::string_view raw, PageId page, uint32_t slot_key_len, uint32_t p,
                           uint32_t page_size, LeafCell* c) {
  if (raw.size() < kStoredLeafCellHeader) return CorruptCell(page, "truncated leaf cell");
  const uint16_t hv = Load<uint16_t>(raw.data());
  const uint8_t flags = WholeLeafFlags(hv);
  c->key.overflow = flags & kCellKeyOverflow;
  c->value_overflow = flags & kCellValueOverflow;
  // A torn image (an optimistic reader's) may hold any p and slot length:
  // k comes out of range then, and the bounds refuse the cell.
  const uint32_t inline_len = c->key.overflow ? KeyPrefixLen(page_size) : slot_key_len;
  if (inline_len < p) return CorruptCell(page, "slot key length shorter than the node prefix");
  return ParseLeafFields(raw, page, kStoredLeafCellHeader, inline_len - p,
                         hv & kStoredValueLenMask, inline_len, c);
}

Status ParseInnerCell(std::string_view raw, PageId page, InnerCell* c) {
  if (raw.size() < kInnerCellHeader) return CorruptCell(page, "truncated inner cell");
  const char* p = raw.data();
  uint8_t flags = static_cast<uint8_t>(p[0]);
  if (flags & ~kCellKeyOverflow) return CorruptCell(page, "bad inner cell flags");
  uint32_t k = Load<uint16_t>(p + 1);
  c->child = PageId{Load<uint64_t>(p + 3)};
  c->key.overflow = flags & kCellKeyOverflow;
  uint64_t fields_end = kInnerCellHeader + (c->key.overflow ? kKeyOverflowFields : 0);
  uint64_t need = fields_end + k;
  if (need > raw.size()) return CorruptCell(page, "inner cell overruns the page");
  if (c->key.overflow) {
    c->key.full_len = Load<uint32_t>(p + kInnerCellHeader);
    c->key.blob = PageId{Load<uint64_t>(p + kInnerCellHeader + 4)};
    if (c->key.full_len <= k || c->key.full_len > kMaxKeySize) {
      return CorruptCell(page, "bad overflowed key length");
    }
  } else {
    c->key.full_len = k;
    c->key.blob = PageId{};
  }
  if (!c->child.valid()) return CorruptCell(page, "inner cell without child");
  c->key.prefix = {};
  c->key.inline_key = std::string_view(p + fields_end, k);
  c->size = static_cast<uint32_t>(need);
  return Status::OK();
}

Status NodeView::LeafCellAt(int i, LeafCell* cell) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  RINGDB_RETURN_IF_ERROR(
      ParseStoredLeafCell(raw, id_, SlotKeyLen(i), prefix_len(), page_size_, cell));
  cell->key.prefix = prefix();
  return Status::OK();
}

Status NodeView::InnerCellAt(int i, InnerCell* cell) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  RINGDB_RETURN_IF_ERROR(ParseInnerCell(raw, id_, cell));
  cell->key.prefix = prefix();
  return Status::OK();
}

Status NodeView::FullCell(int i, std::string* out) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  KeyRef key;
  uint32_t size;
  RINGDB_RETURN_IF_ERROR(ParseCellKey(i, raw, &key, &size));
  const std::string_view pre = prefix();
  const size_t fields_end = static_cast<size_t>(key.inline_key.data() - raw.data());
  const uint32_t k = static_cast<uint32_t>(key.inline_key.size() + pre.size());
  // The whole cell's header: a leaf cell's is longer than its stored one.
  size_t head = fields_end;
  out->resize(size + pre.size() + (is_leaf() ? kLeafHeaderSaving : 0));
  char* q = out->data();
  if (is_leaf()) {
    const uint16_t hv = Load<uint16_t>(raw.data());
    q[0] = static_cast<char>(WholeLeafFlags(hv));
    Store<uint16_t>(q + 1, static_cast<uint16_t>(k));
    Store<uint16_t>(q + 3, static_cast<uint16_t>(hv & kStoredValueLenMask));
    std::memcpy(q + kLeafCellHeader, raw.data() + kStoredLeafCellHeader,
                fields_end - kStoredLeafCellHeader);
    head = fields_end + kLeafHeaderSaving;
  } else {
    std::memcpy(q, raw.data(), fields_end);
    Store<uint16_t>(q + 1, static_cast<uint16_t>(k));
  }
  if (!pre.empty()) std::memcpy(q + head, pre.data(), pre.size());
  std::memcpy(q + head + pre.size(), raw.data() + fields_end, size - fields_end);
  return Status::OK();
}

Status NodeView::ChildAt(int i, PageId* child) const {
  if (i == 0) {
    *child = link0();
    return Status::OK();
  }
  InnerCell c;
  RINGDB_RETURN_IF_ERROR(InnerCellAt(i - 1, &c));
  *child = c.child;
  return Status::OK();
}

void EncodeLeafCell(const KeyRef& key, bool value_overflow, std::string_view inline_value,
                    uint64_t value_len, PageId value_blob, std::string* out) {
  uint32_t k = static_cast<uint32_t>(key.inline_size());
  uint32_t v = value_overflow ? 0 : static_cast<uint32_t>(inline_value.size());
  size_t size = kLeafCellHeader + LeafOverflowFields(key.overflow, value_overflow) + k + v;
  out->resize(size);
  char* p = out->data();
  p[0] = static_cast<char>((key.overflow ? kCellKeyOverflow : 0) |
                           (value_overflow ? kCellValueOverflow : 0));
  Store<uint16_t>(p + 1, static_cast<uint16_t>(k));
  Store<uint16_t>(p + 3, static_cast<uint16_t>(v));
  char* q = p + kLeafCellHeader;
  if (key.overflow) {
    Store<uint32_t>(q, key.full_len);
    Store<uint64_t>(q + 4, key.blob.value);
    q += kKeyOverflowFields;
  }
  if (value_overflow) {
    Store<uint64_t>(q, value_len);
    Store<uint64_t>(q + 8, value_blob.value);
    q += kValueOverflowFields;
  }
  if (!key.prefix.empty()) std::memcpy(q, key.prefix.data(), key.prefix.size());
  std::memcpy(q + key.prefix.size(), key.inline_key.data(), key.inline_key.size());
  if (v) std::memcpy(q + k, inline_value.data(), v);
}

void EncodeInnerCell(const KeyRef& key, PageId child, std::string* out) {
  uint32_t k = static_cast<uint32_t>(key.inline_size());
  size_t size = kInnerCellHeader + (key.overflow ? kKeyOverflowFields : 0) + k;
  out->resize(size);
  char* p = out->data();
  p[0] = static_cast<char>(key.overflow ? kCellKeyOverflow : 0);
  Store<uint16_t>(p + 1, static_cast<uint16_t>(k));
  Store<uint64_t>(p + 3, child.value);
  char* q = p + kInnerCellHeader;
  if (key.overflow) {
    Store<uint32_t>(q, key.full_len);
    Store<uint64_t>(q + 4, key.blob.value);
    q += kKeyOverflowFields;
  }
  if (!key.prefix.empty()) std::memcpy(q, key.prefix.data(), key.prefix.size());
  std::memcpy(q + key.prefix.size(), key.inline_key.data(), key.inline_key.size());
}

void InnerCellWithChild(std::string_view raw, PageId child, std::string* out) {
  out->assign(raw.data(), raw.size());
  Store<uint64_t>(out->data() + 3, child.value);
}

void InitNode(char* page, uint32_t page_size, uint16_t type, uint16_t level, PageId link0,
              PageId link1) {
  std::memset(page + kNodeOff, 0, kSlotArrayOff - kNodeOff);
  Store<uint16_t>(page + kNodeTypeOff, type);
  Store<uint16_t>(page + kNodeLevelOff, level);
  Store<uint16_t>(page + kNodeCountOff, 0);
  Store<uint16_t>(page + kNodePrefixLenOff, 0);
  Store<uint32_t>(page + kNodeCellStartOff, page_size);
  Store<uint32_t>(page + kNodeFragOff, 0);
  Store<uint64_t>(page + kNodeLink0Off, link0.value);
  Store<uint64_t>(page + kNodeLink1Off, link1.value);
}

void SetLink0(char* page, PageId id) { Store<uint64_t>(page + kNodeLink0Off, id.value); }
void SetLink1(char* page, PageId id) { Store<uint64_t>(page + kNodeLink1Off, id.value); }

namespace {

char* SlotAt(char* page, int i) { return page + kSlotArrayOff + kSlotSize * i; }

uint32_t CellOffset(const char* page, int i) {
  return Load<uint16_t>(page + kSlotArrayOff + kSlotSize * i + kSlotCellOff);
}

// Parses a whole cell of the given kind that the caller vouches for; it
// must be exactly one cell.
KeyRef WholeKey(bool leaf, std::string_view cell) {
  KeyRef key;
  uint32_t size;
  if (leaf) {
    LeafCell c;
    RINGDB_CHECK(ParseLeafCell(cell, PageId{}, &c).ok());
    key = c.key;
    size = c.size;
  } else {
    InnerCell c;
    RINGDB_CHECK(ParseInnerCell(cell, PageId{}, &c).ok());
    key = c.key;
    size = c.size;
  }
  RINGDB_CHECK(size == cell.size());
  return key;
}

// The longest prefix a node holding whole key `key` may have: the head of
// an overflowed key must come from its stored bytes.
uint32_t PrefixCap(const KeyRef& key, uint32_t page_size) {
  size_t cap = key.inline_key.size();
  if (key.overflow) cap = cap >= kKeyHeadSize ? cap - kKeyHeadSize : 0;
  return static_cast<uint32_t>(std::min<size_t>(cap, MaxPrefixLen(page_size)));
}

uint32_t CommonPrefix(std::string_view a, std::string_view b, uint32_t limit) {
  uint32_t n = static_cast<uint32_t>(std::min<size_t>({a.size(), b.size(), limit}));
  uint32_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// The prefix of a node holding whole keys first..last in order: their
// common prefix, which every key between them shares (a key between two
// keys that begin with P begins with P). A key between them that overflows
// has KeyPrefixLen inline bytes, so its cap is MaxPrefixLen, no tighter.
uint32_t RangePrefix(const KeyRef& first, const KeyRef& last, uint32_t page_size) {
  return CommonPrefix(first.inline_key, last.inline_key,
                      std::min(PrefixCap(first, page_size), PrefixCap(last, page_size)));
}

// Stores whole cell `cell` (whose key is `key`) at dst as a stored cell of
// a node with prefix length p: without the first p key bytes, and a leaf
// cell with its stored header (btree_format.h). Writes StoredCellSize
// bytes.
void StoreStripped(bool leaf, std::string_view cell, const KeyRef& key, uint32_t p,
                   uint32_t page_size, char* dst) {
  const size_t fields_end = static_cast<size_t>(key.inline_key.data() - cell.data());
  size_t head = fields_end;
  if (leaf) {
    // The key length goes: the slot holds it.
    RINGDB_CHECK(!key.overflow || key.inline_key.size() == KeyPrefixLen(page_size));
    Store<uint16_t>(dst, StoredLeafHeader(static_cast<uint8_t>(cell[0]),
                                          Load<uint16_t>(cell.data() + 3)));
    std::memcpy(dst + kStoredLeafCellHeader, cell.data() + kLeafCellHeader,
                fields_end - kLeafCellHeader);
    head = fields_end - kLeafHeaderSaving;
  } else {
    std::memcpy(dst, cell.data(), fields_end);
    Store<uint16_t>(dst + 1, static_cast<uint16_t>(key.inline_key.size() - p));
  }
  std::memcpy(dst + head, cell.data() + fields_end + p, cell.size() - fields_end - p);
}

// Slot i for whole key `key` stored at cell_off in a node with prefix p.
void WriteSlot(char* page, int i, uint32_t cell_off, const KeyRef& key, uint32_t p) {
  char* s = SlotAt(page, i);
  Store<uint16_t>(s + kSlotCellOff, static_cast<uint16_t>(cell_off));
  Store<uint16_t>(s + kSlotKeyLenOff, static_cast<uint16_t>(key.full_size()));
  Store<KeyHeadT>(s + kSlotHeadOff, KeyHead(key.inline_key, p));
}

// The stored size of cell i of a node that passed ValidateCells().
uint32_t CellSizeAt(const char* page, uint32_t page_size, int i) {
  NodeView v(page, page_size, PageId{});
  std::string_view raw;
  RINGDB_CHECK(v.RawCell(i, &raw).ok());
  KeyRef key;
  uint32_t size = 0;
  RINGDB_CHECK(v.ParseCellKey(i, raw, &key, &size).ok());
  return size;
}

// The bytes whole cell `cell` takes stored in a node with prefix length p.
uint64_t StoredCellSize(bool leaf, size_t whole_size, uint32_t p) {
  return whole_size - p - (leaf ? kLeafHeaderSaving : 0);
}

// Moves the cells together at the end of the cell area (the prefix stays).
void Compact(char* page, uint32_t page_size) {
  NodeView v(page, page_size, PageId{});
  const int n = v.count();
  const uint32_t end = v.CellAreaEnd();
  char* tmp = Scratch(page_size);
  uint32_t pos = end;
  for (int i = 0; i < n; ++i) {
    uint32_t size = CellSizeAt(page, page_size, i);
    uint32_t off = CellOffset(page, i);
    pos -= size;
    std::memcpy(tmp + pos, page + off, size);
    Store<uint16_t>(SlotAt(page, i) + kSlotCellOff, static_cast<uint16_t>(pos));
  }
  std::memcpy(page + pos, tmp + pos, end - pos);
  Store<uint32_t>(page + kNodeCellStartOff, pos);
  Store<uint32_t>(page + kNodeFragOff, 0);
}

// InsertCell when the new key breaks the node prefix: every cell, the new
// one at i, rebuilt with the shorter prefix.
void InsertRebuilding(char* page, uint32_t page_size, int i, std::string_view cell) {
  std::vector<std::string> owned;
  AppendWholeCells(NodeView(page, page_size, PageId{}), &owned, i, cell);
  RebuildNode(page, page_size, CellViews(owned));
}

}  // namespace

bool InsertFits(const NodeView& v, std::string_view cell, int replacing) {
  const KeyRef key = WholeKey(v.is_leaf(), cell);
  const int n = v.count() - (replacing >= 0 ? 1 : 0);
  if (n == 0) return cell.size() + kSlotSize <= v.Capacity();
  uint64_t free = v.FreeTotal();
  if (replacing >= 0) free += CellSizeAt(v.data(), v.page_size(), replacing) + kSlotSize;
  const uint32_t p = v.prefix_len();
  const uint32_t np = CommonPrefix(key.inline_key, v.prefix(),
                                   std::min(p, PrefixCap(key, v.page_size())));
  // The new cell without the prefix, and each other cell longer by the
  // bytes the prefix loses (the prefix itself shrinks by as many).
  uint64_t need =
      StoredCellSize(v.is_leaf(), cell.size(), np) + kSlotSize + uint64_t{p - np} * (n - 1);
  return need <= free;
}

uint32_t WorstInsertNeed(const NodeView& v) {
  uint32_t others = v.count() > 0 ? static_cast<uint32_t>(v.count() - 1) : 0;
  return MaxCellSize(v.page_size()) + kSlotSize + v.prefix_len() * others;
}

void InsertCell(char* page, uint32_t page_size, int i, std::string_view cell) {
  NodeView v(page, page_size, PageId{});
  const int n = v.count();
  RINGDB_CHECK(i >= 0 && i <= n);
  RINGDB_CHECK(InsertFits(v, cell));
  const KeyRef key = WholeKey(v.is_leaf(), cell);
  uint32_t p;
  if (n == 0) {
    // The node's first key: all of it (up to the cap) is the prefix.
    p = PrefixCap(key, page_size);
    if (p > 0) std::memcpy(page + page_size - p, key.inline_key.data(), p);
    Store<uint16_t>(page + kNodePrefixLenOff, static_cast<uint16_t>(p));
    Store<uint32_t>(page + kNodeCellStartOff, page_size - p);
    Store<uint32_t>(page + kNodeFragOff, 0);
  } else {
    p = v.prefix_len();
    if (CommonPrefix(key.inline_key, v.prefix(), std::min(p, PrefixCap(key, page_size))) < p) {
      InsertRebuilding(page, page_size, i, cell);
      return;
    }
  }
  const uint32_t size = static_cast<uint32_t>(StoredCellSize(v.is_leaf(), cell.size(), p));
  if (v.FreeContiguous() < size + kSlotSize) Compact(page, page_size);
  uint32_t cs = Load<uint32_t>(page + kNodeCellStartOff) - size;
  StoreStripped(v.is_leaf(), cell, key, p, page_size, page + cs);
  std::memmove(SlotAt(page, i + 1), SlotAt(page, i), kSlotSize * (n - i));
  WriteSlot(page, i, cs, key, p);
  Store<uint32_t>(page + kNodeCellStartOff, cs);
  Store<uint16_t>(page + kNodeCountOff, static_cast<uint16_t>(n + 1));
}

void RemoveCell(char* page, uint32_t page_size, int i) {
  NodeView v(page, page_size, PageId{});
  int n = v.count();
  RINGDB_CHECK(i >= 0 && i < n);
  uint32_t size = CellSizeAt(page, page_size, i);
  std::memmove(SlotAt(page, i), SlotAt(page, i + 1), kSlotSize * (n - i - 1));
  Store<uint16_t>(page + kNodeCountOff, static_cast<uint16_t>(n - 1));
  Store<uint32_t>(page + kNodeFragOff, v.frag() + size);
  if (n == 1) {
    Store<uint32_t>(page + kNodeCellStartOff, page_size);
    Store<uint32_t>(page + kNodeFragOff, 0);
    Store<uint16_t>(page + kNodePrefixLenOff, 0);
  }
}

void RebuildNode(char* page, uint32_t page_size, std::span<const std::string_view> cells) {
  const bool leaf = NodeView(page, page_size, PageId{}).is_leaf();
  const size_t n = cells.size();
  thread_local std::vector<KeyRef> keys;
  keys.clear();
  for (std::string_view c : cells) keys.push_back(WholeKey(leaf, c));
  const uint32_t p = n == 0 ? 0 : RangePrefix(keys.front(), keys.back(), page_size);
  const std::string_view prefix = n == 0 ? std::string_view() : keys[0].inline_key.substr(0, p);
  uint64_t need = kSlotArrayOff + uint64_t{kSlotSize} * n + p;
  for (size_t i = 0; i < n; ++i) {
    RINGDB_CHECK(keys[i].inline_key.substr(0, p) == prefix);  // cells in key order
    need += StoredCellSize(leaf, cells[i].size(), p);
  }
  RINGDB_CHECK(need <= page_size);
  char* tmp = Scratch(page_size);
  uint32_t pos = page_size - p;
  if (p > 0) std::memcpy(tmp + pos, prefix.data(), p);  // data() may be null when empty
  for (size_t i = 0; i < n; ++i) {
    pos -= static_cast<uint32_t>(StoredCellSize(leaf, cells[i].size(), p));
    StoreStripped(leaf, cells[i], keys[i], p, page_size, tmp + pos);
    WriteSlot(tmp, static_cast<int>(i), pos, keys[i], p);
  }
  std::memcpy(page + kSlotArrayOff, tmp + kSlotArrayOff, kSlotSize * n);
  std::memcpy(page + pos, tmp + pos, page_size - pos);
  Store<uint16_t>(page + kNodeCountOff, static_cast<uint16_t>(n));
  Store<uint16_t>(page + kNodePrefixLenOff, static_cast<uint16_t>(p));
  Store<uint32_t>(page + kNodeCellStartOff, pos);
  Store<uint32_t>(page + kNodeFragOff, 0);
}

void AppendWholeCells(const NodeView& v, std::vector<std::string>* out, int at,
                      std::string_view cell, bool replace) {
  const int n = v.count();
  out->reserve(out->size() + n + 1);
  for (int i = 0; i <= n; ++i) {
    if (i == at) out->emplace_back(cell);
    if (i == n || (i == at && replace)) continue;
    out->emplace_back();
    RINGDB_CHECK(v.FullCell(i, &out->back()).ok());  // ValidateCells passed
  }
}

std::vector<std::string_view> CellViews(const std::vector<std::string>& owned) {
  return std::vector<std::string_view>(owned.begin(), owned.end());
}

namespace {

// Packed sizes of runs of whole cells: PackedSize of [a, b) in O(key).
class PackedRuns {
 public:
  PackedRuns(std::span<const std::string_view> cells, bool leaf, uint32_t page_size)
      : page_size_(page_size), sums_(cells.size() + 1, 0) {
    keys_.reserve(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      keys_.push_back(WholeKey(leaf, cells[i]));
      sums_[i + 1] = sums_[i] + StoredCellSize(leaf, cells[i].size(), 0) + kSlotSize;
    }
  }
  uint64_t Size(size_t a, size_t b) const {
    if (a >= b) return 0;
    uint64_t p = RangePrefix(keys_[a], keys_[b - 1], page_size_);
    return sums_[b] - sums_[a] - p * (b - a) + p;
  }

 private:
  uint32_t page_size_;
  std::vector<KeyRef> keys_;
  std::vector<uint64_t> sums_;
};

}  // namespace

uint64_t PackedSize(std::span<const std::string_view> cells, bool leaf, uint32_t page_size) {
  return PackedRuns(cells, leaf, page_size).Size(0, cells.size());
}

size_t BalancedSplit(std::span<const std::string_view> cells, bool leaf, uint32_t page_size) {
  const uint32_t cap = NodeCapacity(page_size);
  const size_t skip = leaf ? 0 : 1;
  PackedRuns runs(cells, leaf, page_size);
  size_t best = 0;
  uint64_t best_max = ~0ull;
  for (size_t s = 1; s + skip < cells.size(); ++s) {
    uint64_t left = runs.Size(0, s);
    uint64_t right = runs.Size(s + skip, cells.size());
    uint64_t m = std::max(left, right);
    if (left <= cap && right <= cap && m < best_max) {
      best = s;
      best_max = m;
    }
  }
  return best;
}

size_t PackedPrefix(std::span<const std::string_view> cells, uint64_t budget,
                    uint32_t page_size) {
  const uint32_t cap = NodeCapacity(page_size);
  PackedRuns runs(cells, /*leaf=*/true, page_size);
  // Both sizes move one way with s (a longer run never packs smaller), so
  // the answer is the last s whose left side fits, if its right side does.
  size_t best = 0;
  for (size_t s = 1; s < cells.size() && runs.Size(0, s) <= budget; ++s) {
    if (runs.Size(s, cells.size()) <= cap) best = s;
  }
  return best;
}

std::string_view ShortestSeparator(std::string_view left, std::string_view right) {
  size_t n = std::min(left.size(), right.size());
  size_t lcp = 0;
  while (lcp < n && left[lcp] == right[lcp]) ++lcp;
  return right.substr(0, lcp + 1);
}

}  // namespace ringdb::btree
