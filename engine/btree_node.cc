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
  if (slots_end > cs || cs > page_size_) return Corrupt("bad slot count or cell_start");
  if (frag() > page_size_ - cs) return Corrupt("bad fragmentation count");
  if (prefix_len() > MaxPrefixLen(page_size_)) return Corrupt("bad prefix length");
  if (t == kPageTypeInner && !link0().valid()) return Corrupt("inner node without leftmost child");
  return Status::OK();
}

Status NodeView::ValidateCells() const {
  RINGDB_RETURN_IF_ERROR(Validate());
  std::string_view prefix;
  if (count() > 0) RINGDB_RETURN_IF_ERROR(Prefix(&prefix));
  const uint32_t p = prefix_len();
  uint64_t total = 0;
  for (int i = 0; i < count(); ++i) {
    std::string_view raw;
    RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
    KeyRef key;
    uint32_t size;
    RINGDB_RETURN_IF_ERROR(ParseCellKey(raw, &key, &size));
    if (size > MaxCellSize(page_size_)) return Corrupt("cell larger than the maximum");
    total += size;
    if (key.full_size() != SlotKeyLen(i)) return Corrupt("slot key length does not match its cell");
    if (key.inline_key.substr(0, p) != prefix) return Corrupt("key does not share the node prefix");
    if (key.overflow && key.inline_key.size() < p + kKeyHeadSize) {
      return Corrupt("overflowed key too short for its head");
    }
    if (KeyHead(key.inline_key, p) != SlotHead(i)) return Corrupt("slot head does not match its key");
  }
  if (total + frag() != page_size_ - cell_start()) return Corrupt("cells overlap or leak space");
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
  if (off < cell_start() || off >= page_size_) return Corrupt("slot offset out of bounds");
  // The exact size is known only after parsing; hand out the rest of the page.
  *cell = std::string_view(p_ + off, page_size_ - off);
  return Status::OK();
}

Status NodeView::ParseCellKey(std::string_view raw, KeyRef* key, uint32_t* size) const {
  if (is_leaf()) {
    LeafCell c;
    RINGDB_RETURN_IF_ERROR(ParseLeafCell(raw, id_, &c));
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

Status NodeView::KeyAt(int i, KeyRef* key) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  uint32_t size;
  return ParseCellKey(raw, key, &size);
}

Status NodeView::Prefix(std::string_view* prefix) const {
  const uint32_t p = prefix_len();
  if (p == 0) {
    *prefix = {};
    return Status::OK();
  }
  KeyRef k;
  RINGDB_RETURN_IF_ERROR(KeyAt(0, &k));
  if (k.inline_key.size() < p) return Corrupt("first key shorter than the node prefix");
  *prefix = k.inline_key.substr(0, p);
  return Status::OK();
}

Status ParseLeafCell(std::string_view raw, PageId page, LeafCell* c) {
  if (raw.size() < kLeafCellHeader) return CorruptCell(page, "truncated leaf cell");
  const char* p = raw.data();
  uint8_t flags = static_cast<uint8_t>(p[0]);
  if (flags & ~(kCellKeyOverflow | kCellValueOverflow)) return CorruptCell(page, "bad cell flags");
  uint32_t k = Load<uint16_t>(p + 1);
  uint32_t v = Load<uint32_t>(p + 3);
  uint64_t need = kLeafCellHeader;
  c->key.overflow = flags & kCellKeyOverflow;
  c->value_overflow = flags & kCellValueOverflow;
  if (c->key.overflow) need += kKeyOverflowFields;
  if (c->value_overflow) need += kValueOverflowFields;
  uint64_t fields_end = need;
  need += uint64_t{k} + v;
  if (need > raw.size()) return CorruptCell(page, "leaf cell overruns the page");
  const char* q = p + kLeafCellHeader;
  if (c->key.overflow) {
    c->key.full_len = Load<uint32_t>(q);
    c->key.blob = PageId{Load<uint64_t>(q + 4)};
    q += kKeyOverflowFields;
    if (c->key.full_len <= k || c->key.full_len > kMaxKeySize) {
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
  c->key.inline_key = std::string_view(p + fields_end, k);
  c->inline_value = std::string_view(p + fields_end + k, v);
  c->size = static_cast<uint32_t>(need);
  return Status::OK();
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
  c->key.inline_key = std::string_view(p + fields_end, k);
  c->size = static_cast<uint32_t>(need);
  return Status::OK();
}

Status NodeView::LeafCellAt(int i, LeafCell* cell) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  return ParseLeafCell(raw, id_, cell);
}

Status NodeView::InnerCellAt(int i, InnerCell* cell) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  return ParseInnerCell(raw, id_, cell);
}

Status NodeView::CellBytes(int i, std::string_view* cell) const {
  std::string_view raw;
  RINGDB_RETURN_IF_ERROR(RawCell(i, &raw));
  KeyRef key;
  uint32_t size;
  RINGDB_RETURN_IF_ERROR(ParseCellKey(raw, &key, &size));
  *cell = raw.substr(0, size);
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
  uint32_t k = static_cast<uint32_t>(key.inline_key.size());
  uint32_t v = value_overflow ? 0 : static_cast<uint32_t>(inline_value.size());
  size_t size = kLeafCellHeader + (key.overflow ? kKeyOverflowFields : 0) +
                (value_overflow ? kValueOverflowFields : 0) + k + v;
  out->resize(size);
  char* p = out->data();
  p[0] = static_cast<char>((key.overflow ? kCellKeyOverflow : 0) |
                           (value_overflow ? kCellValueOverflow : 0));
  Store<uint16_t>(p + 1, static_cast<uint16_t>(k));
  Store<uint32_t>(p + 3, v);
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
  std::memcpy(q, key.inline_key.data(), k);
  if (v) std::memcpy(q + k, inline_value.data(), v);
}

void EncodeInnerCell(const KeyRef& key, PageId child, std::string* out) {
  uint32_t k = static_cast<uint32_t>(key.inline_key.size());
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
  std::memcpy(q, key.inline_key.data(), k);
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

void WriteSlot(char* page, int i, uint32_t cell_off, const KeyRef& key, uint32_t p) {
  char* s = SlotAt(page, i);
  Store<uint16_t>(s + kSlotCellOff, static_cast<uint16_t>(cell_off));
  Store<uint16_t>(s + kSlotKeyLenOff, static_cast<uint16_t>(key.full_size()));
  Store<uint32_t>(s + kSlotHeadOff, KeyHead(key.inline_key, p));
}

uint32_t CellOffset(const char* page, int i) {
  return Load<uint16_t>(page + kSlotArrayOff + kSlotSize * i + kSlotCellOff);
}

// Parses a cell the caller vouches for (the node passed ValidateCells()).
KeyRef TrustedKey(const NodeView& v, std::string_view raw, uint32_t* size) {
  KeyRef key;
  uint32_t sz = 0;
  RINGDB_CHECK(v.ParseCellKey(raw, &key, &sz).ok());
  if (size != nullptr) *size = sz;
  return key;
}

// The longest prefix a node holding `key` may have: the head of an
// overflowed key must come from its inline bytes.
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

// Sets the node prefix to p and recomputes every slot head.
void RewriteHeads(char* page, uint32_t page_size, uint32_t p) {
  Store<uint16_t>(page + kNodePrefixLenOff, static_cast<uint16_t>(p));
  NodeView v(page, page_size, PageId{});
  for (int i = 0; i < v.count(); ++i) {
    std::string_view raw;
    RINGDB_CHECK(v.RawCell(i, &raw).ok());
    KeyRef key = TrustedKey(v, raw, nullptr);
    Store<uint32_t>(SlotAt(page, i) + kSlotHeadOff, KeyHead(key.inline_key, p));
  }
}

uint32_t CellSizeAt(const char* page, uint32_t page_size, int i) {
  NodeView v(page, page_size, PageId{});
  std::string_view raw;
  RINGDB_CHECK(v.RawCell(i, &raw).ok());
  uint32_t size;
  TrustedKey(v, raw, &size);
  return size;
}

void Compact(char* page, uint32_t page_size) {
  NodeView v(page, page_size, PageId{});
  int n = v.count();
  char* tmp = Scratch(page_size);
  uint32_t pos = page_size;
  for (int i = 0; i < n; ++i) {
    uint32_t size = CellSizeAt(page, page_size, i);
    uint32_t off = CellOffset(page, i);
    pos -= size;
    std::memcpy(tmp + pos, page + off, size);
    Store<uint16_t>(SlotAt(page, i) + kSlotCellOff, static_cast<uint16_t>(pos));
  }
  std::memcpy(page + pos, tmp + pos, page_size - pos);
  Store<uint32_t>(page + kNodeCellStartOff, pos);
  Store<uint32_t>(page + kNodeFragOff, 0);
}

}  // namespace

void InsertCell(char* page, uint32_t page_size, int i, std::string_view cell) {
  NodeView v(page, page_size, PageId{});
  int n = v.count();
  RINGDB_CHECK(i >= 0 && i <= n);
  RINGDB_CHECK(v.FreeTotal() >= cell.size() + kSlotSize);
  KeyRef key = TrustedKey(v, cell, nullptr);
  uint32_t p = PrefixCap(key, page_size);
  if (n > 0) {
    std::string_view prefix;
    RINGDB_CHECK(v.Prefix(&prefix).ok());
    p = CommonPrefix(key.inline_key, prefix, p);
    if (p < v.prefix_len()) RewriteHeads(page, page_size, p);
  } else {
    Store<uint16_t>(page + kNodePrefixLenOff, static_cast<uint16_t>(p));
  }
  if (v.FreeContiguous() < cell.size() + kSlotSize) Compact(page, page_size);
  uint32_t cs = Load<uint32_t>(page + kNodeCellStartOff) - static_cast<uint32_t>(cell.size());
  std::memcpy(page + cs, cell.data(), cell.size());
  std::memmove(SlotAt(page, i + 1), SlotAt(page, i), kSlotSize * (n - i));
  WriteSlot(page, i, cs, key, v.prefix_len());
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
  NodeView v(page, page_size, PageId{});
  uint64_t need = kSlotArrayOff + kSlotSize * cells.size();
  for (std::string_view c : cells) need += c.size();
  RINGDB_CHECK(need <= page_size);
  // The keys are read before anything is written: cells may lie in `page`.
  thread_local std::vector<KeyRef> keys;
  keys.clear();
  for (std::string_view c : cells) keys.push_back(TrustedKey(v, c, nullptr));
  uint32_t p = 0;
  if (!keys.empty()) {
    p = PrefixCap(keys[0], page_size);
    for (const KeyRef& k : keys) {
      p = CommonPrefix(keys[0].inline_key, k.inline_key, std::min(p, PrefixCap(k, page_size)));
    }
  }
  char* tmp = Scratch(page_size);
  uint32_t pos = page_size;
  for (size_t i = 0; i < cells.size(); ++i) {
    pos -= static_cast<uint32_t>(cells[i].size());
    std::memcpy(tmp + pos, cells[i].data(), cells[i].size());
    WriteSlot(tmp, static_cast<int>(i), pos, keys[i], p);
  }
  std::memcpy(page + kSlotArrayOff, tmp + kSlotArrayOff, kSlotSize * cells.size());
  std::memcpy(page + pos, tmp + pos, page_size - pos);
  Store<uint16_t>(page + kNodeCountOff, static_cast<uint16_t>(cells.size()));
  Store<uint16_t>(page + kNodePrefixLenOff, static_cast<uint16_t>(p));
  Store<uint32_t>(page + kNodeCellStartOff, pos);
  Store<uint32_t>(page + kNodeFragOff, 0);
}

size_t BalancedSplit(std::span<const std::string_view> cells, uint32_t cap, bool skip_middle) {
  uint64_t total = 0;
  for (std::string_view c : cells) total += c.size() + kSlotSize;
  size_t best = 0;
  uint64_t best_max = ~0ull;
  uint64_t left = 0;
  for (size_t s = 1; s + (skip_middle ? 1 : 0) < cells.size(); ++s) {
    left += cells[s - 1].size() + kSlotSize;
    uint64_t right = total - left - (skip_middle ? cells[s].size() + kSlotSize : 0);
    uint64_t m = std::max(left, right);
    if (left <= cap && right <= cap && m < best_max) {
      best = s;
      best_max = m;
    }
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
