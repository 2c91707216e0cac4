// Tests for prefix truncation (format v3, engine/btree_format.h): a node
// stores its keys' common prefix once at the page end and the cells hold
// only suffixes. Node layout: inserts that shorten the prefix, inserts that
// no longer fit once it is shortened, splits and merges that recompute it,
// empty nodes, keys equal to the prefix, overflowed and binary keys, and
// damage the whole-node check must catch. Tree level: sequential loads
// end with long prefixes, a prefix-breaking insert splits a full leaf, and
// a randomized model test against std::map on keys built to share long
// prefixes and to break them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "btree_test_util.h"
#include "ringdb/db.h"
#include "engine/btree.h"
#include "engine/btree_format.h"
#include "engine/btree_node.h"

namespace ringdb::test {
namespace {

using btree::KeyRef;
using btree::NodeView;

constexpr uint32_t kPage = 4096;

// A whole cell for `key` (a leaf cell with `value`, or an inner cell),
// overflowing the key past MaxInlineKey as the tree does.
std::string WholeCell(const std::string& key, bool leaf, std::string_view value = "v") {
  KeyRef ref;
  ref.inline_key = key;
  ref.full_len = static_cast<uint32_t>(key.size());
  if (key.size() > btree::MaxInlineKey(kPage)) {
    ref.overflow = true;
    ref.inline_key = std::string_view(key).substr(0, btree::KeyPrefixLen(kPage));
    ref.blob = PageId{99};
  }
  std::string cell;
  if (leaf) {
    btree::EncodeLeafCell(ref, false, value, value.size(), PageId{}, &cell);
  } else {
    btree::EncodeInnerCell(ref, PageId{100}, &cell);
  }
  return cell;
}

// One node page and its keys in order.
class PrefixNode {
 public:
  explicit PrefixNode(bool leaf = true) : page_(kPage, '\0'), leaf_(leaf) {
    btree::InitNode(page_.data(), kPage, leaf ? btree::kPageTypeLeaf : btree::kPageTypeInner,
                    leaf ? 0 : 1, leaf ? PageId{} : PageId{7}, PageId{});
  }
  NodeView view() const { return NodeView(page_.data(), kPage, PageId{3}); }
  char* page() { return page_.data(); }
  const std::vector<std::string>& keys() const { return keys_; }

  // Inserts at the sorted place when InsertFits says so.
  bool Insert(const std::string& key, std::string_view value = "v") {
    auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
    std::string cell = WholeCell(key, leaf_, value);
    if (!btree::InsertFits(view(), cell)) return false;
    btree::InsertCell(page_.data(), kPage, static_cast<int>(it - keys_.begin()), cell);
    keys_.insert(it, key);
    return true;
  }
  void Remove(size_t i) {
    btree::RemoveCell(page_.data(), kPage, static_cast<int>(i));
    keys_.erase(keys_.begin() + static_cast<long>(i));
  }
  void Rebuild(const std::vector<std::string>& sorted) {
    std::vector<std::string> cells;
    for (const std::string& k : sorted) cells.push_back(WholeCell(k, leaf_));
    btree::RebuildNode(page_.data(), kPage, btree::CellViews(cells));
    keys_ = sorted;
  }

  // The node is valid, its prefix is shared by every key, and each cell's
  // prefix + stored bytes give back the key (its inline part when it
  // overflows); FullCell gives back the whole cell.
  void ExpectContent() const {
    NodeView v = view();
    Status s = v.ValidateCells();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(v.count(), static_cast<int>(keys_.size()));
    if (keys_.empty()) {
      EXPECT_EQ(v.prefix_len(), 0u);
    }
    for (int i = 0; i < v.count(); ++i) {
      const std::string& key = keys_[static_cast<size_t>(i)];
      KeyRef k;
      ASSERT_TRUE(v.KeyAt(i, &k).ok());
      std::string inline_part;
      k.InlineTo(&inline_part);
      std::string want = k.overflow ? key.substr(0, btree::KeyPrefixLen(kPage)) : key;
      EXPECT_EQ(inline_part, want) << "slot " << i;
      EXPECT_EQ(k.full_size(), key.size());
      EXPECT_EQ(k.prefix.size(), v.prefix_len());
      EXPECT_EQ(key.compare(0, v.prefix_len(), std::string(v.prefix())), 0);
      std::string full;
      ASSERT_TRUE(v.FullCell(i, &full).ok());
      EXPECT_EQ(full, WholeCell(key, leaf_)) << "slot " << i;
    }
  }

  // SearchSlots with a tie-breaker on the model keys, against lower_bound.
  void ExpectSearch(const std::string& key) const {
    auto tie = [&](int i, int* cmp) {
      int c = key.compare(keys_[static_cast<size_t>(i)]);
      *cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      return Status::OK();
    };
    int idx;
    bool found;
    ASSERT_TRUE(btree::SearchSlots(view(), key, false, tie, &idx, &found).ok());
    auto lb = std::lower_bound(keys_.begin(), keys_.end(), key);
    EXPECT_EQ(idx, lb - keys_.begin()) << key;
    EXPECT_EQ(found, lb != keys_.end() && *lb == key) << key;
  }

 private:
  std::string page_;
  bool leaf_;
  std::vector<std::string> keys_;
};

std::string Padded(const std::string& stem, int n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06d", n);
  return stem + buf;
}

TEST(BTreePrefixTest, CellsHoldOnlySuffixes) {
  const std::string stem = "customer:0000000000:";
  PrefixNode node;
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(node.Insert(Padded(stem, i)));
  node.ExpectContent();
  // "customer:0000000000:0000" is shared; the prefix is stored once.
  EXPECT_EQ(node.view().prefix_len(), stem.size() + 4);
  uint64_t whole = 0;
  for (const std::string& k : node.keys()) whole += WholeCell(k, true).size() + btree::kSlotSize;
  EXPECT_EQ(node.view().Used(), whole - 39 * node.view().prefix_len());
}

TEST(BTreePrefixTest, InsertThatBreaksThePrefixRewritesTheCells) {
  for (bool leaf : {true, false}) {
    PrefixNode node(leaf);
    for (int i = 10; i < 30; ++i) ASSERT_TRUE(node.Insert(Padded("same-stem/", i)));
    EXPECT_EQ(node.view().prefix_len(), 14u);  // "same-stem/0000"
    // Below, inside and above the prefix's range.
    ASSERT_TRUE(node.Insert("same-stem/0"));          // shares 11 bytes
    node.ExpectContent();
    EXPECT_EQ(node.view().prefix_len(), 11u);
    ASSERT_TRUE(node.Insert("same-stem/000015x"));    // shares it: the prefix stays
    EXPECT_EQ(node.view().prefix_len(), 11u);
    ASSERT_TRUE(node.Insert("samf"));                 // shares 3
    node.ExpectContent();
    EXPECT_EQ(node.view().prefix_len(), 3u);
    ASSERT_TRUE(node.Insert(std::string("\x00", 1))); // shares nothing
    node.ExpectContent();
    EXPECT_EQ(node.view().prefix_len(), 0u);
    for (const std::string& k : node.keys()) node.ExpectSearch(k);
    for (const std::string& k : {std::string("same"), std::string("same-stem/00001"),
                                 std::string("zzz"), std::string("")}) {
      node.ExpectSearch(k);
    }
  }
}

TEST(BTreePrefixTest, ShortenedPrefixThatNoLongerFitsIsRefused) {
  // Keys sharing 300 bytes with one-byte values: the node holds many more
  // than it could without the prefix.
  const std::string stem(300, 'p');
  PrefixNode node;
  int n = 0;
  while (node.view().FreeTotal() > 100 && node.Insert(Padded(stem, n))) ++n;
  ASSERT_GT(n, 100);
  node.ExpectContent();
  // A small key that breaks the prefix: its own cell fits the free bytes,
  // but every other cell would grow by the prefix.
  std::string breaker = "a";
  std::string cell = WholeCell(breaker, true);
  ASSERT_GE(node.view().FreeTotal(), cell.size() + btree::kSlotSize);
  EXPECT_FALSE(btree::InsertFits(node.view(), cell));
  // Replacing a key in place never changes the prefix: it still fits.
  EXPECT_TRUE(btree::InsertFits(node.view(), WholeCell(node.keys()[5], true), 5));
}

TEST(BTreePrefixTest, SplitAndMergeRecomputeThePrefixes) {
  // Two families of keys: a split between them gives each side its long
  // prefix back; a merge of the two sides shortens it again.
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back(Padded("alpha/region-one/", i));
  for (int i = 0; i < 30; ++i) keys.push_back(Padded("beta/region-two/", i));
  std::vector<std::string> cells;
  for (const std::string& k : keys) cells.push_back(WholeCell(k, true, std::string(20, 'v')));
  std::vector<std::string_view> views = btree::CellViews(cells);
  size_t split = btree::BalancedSplit(views, true, kPage);
  ASSERT_EQ(split, 30u);  // equal sizes: the middle, between the families
  PrefixNode left, right;
  btree::RebuildNode(left.page(), kPage, std::span(views).first(split));
  btree::RebuildNode(right.page(), kPage, std::span(views).subspan(split));
  EXPECT_EQ(left.view().prefix_len(), std::string("alpha/region-one/0000").size());
  EXPECT_EQ(right.view().prefix_len(), std::string("beta/region-two/0000").size());
  EXPECT_EQ(left.view().Used(), btree::PackedSize(std::span(views).first(split), true, kPage));
  EXPECT_EQ(right.view().Used(), btree::PackedSize(std::span(views).subspan(split), true, kPage));
  PrefixNode merged;
  btree::RebuildNode(merged.page(), kPage, views);
  EXPECT_EQ(merged.view().prefix_len(), 0u);
  EXPECT_EQ(merged.view().Used(), btree::PackedSize(views, true, kPage));
  EXPECT_TRUE(merged.view().ValidateCells().ok());

  // Inner cells: the middle one moves up, each side gets its own prefix.
  std::vector<std::string> inner;
  for (const std::string& k : keys) inner.push_back(WholeCell(k, false));
  std::vector<std::string_view> iviews = btree::CellViews(inner);
  size_t m = btree::BalancedSplit(iviews, false, kPage);
  ASSERT_GT(m, 0u);
  PrefixNode il(false), ir(false);
  btree::RebuildNode(il.page(), kPage, std::span(iviews).first(m));
  btree::RebuildNode(ir.page(), kPage, std::span(iviews).subspan(m + 1));
  EXPECT_TRUE(il.view().ValidateCells().ok());
  EXPECT_TRUE(ir.view().ValidateCells().ok());
  EXPECT_EQ(il.view().count() + ir.view().count() + 1, 60);
}

TEST(BTreePrefixTest, SplitExistsWhenTheWholeCellsWouldNotFitTwoPages) {
  // Cells whose whole size is far more than two pages, but that pack into
  // two because they share 500 bytes: the split must count each side's
  // prefix to find it.
  const std::string stem(500, 's');
  std::vector<std::string> cells;
  for (int i = 0; i < 120; ++i) cells.push_back(WholeCell(Padded(stem, i), true));
  std::vector<std::string_view> views = btree::CellViews(cells);
  uint64_t whole = 0;
  for (std::string_view c : views) whole += c.size() + btree::kSlotSize;
  ASSERT_GT(whole, 2u * btree::NodeCapacity(kPage));
  size_t split = btree::BalancedSplit(views, true, kPage);
  ASSERT_GT(split, 0u);
  EXPECT_LE(btree::PackedSize(std::span(views).first(split), true, kPage),
            btree::NodeCapacity(kPage));
}

TEST(BTreePrefixTest, EmptyNodeAndKeysEqualToThePrefix) {
  PrefixNode node;
  node.ExpectContent();
  EXPECT_TRUE(node.view().ValidateCells().ok());
  node.ExpectSearch("anything");
  // The first key is all prefix (its suffix is empty).
  ASSERT_TRUE(node.Insert("abc"));
  EXPECT_EQ(node.view().prefix_len(), 3u);
  node.ExpectContent();
  ASSERT_TRUE(node.Insert("abcd"));
  ASSERT_TRUE(node.Insert("abce"));
  ASSERT_TRUE(node.Insert(""));  // the empty key breaks every prefix
  EXPECT_EQ(node.view().prefix_len(), 0u);
  node.Remove(0);
  node.Rebuild(node.keys());  // the rebuild finds "abc" again
  EXPECT_EQ(node.view().prefix_len(), 3u);
  node.ExpectContent();
  for (const char* k : {"ab", "abc", "abc\x01", "abcd", "abcde", "abce", "abd", ""}) {
    node.ExpectSearch(k);
  }
  // Removing every key leaves an empty node without a prefix.
  while (!node.keys().empty()) node.Remove(node.keys().size() - 1);
  node.ExpectContent();
  EXPECT_EQ(node.view().FreeTotal(), node.view().Capacity());
}

TEST(BTreePrefixTest, OverflowedKeysKeepTheirHeadInTheStoredBytes) {
  for (bool leaf : {true, false}) {
    const std::string stem(900, 'o');
    std::vector<std::string> keys;
    for (int i = 0; i < 3; ++i) {
      std::string k = stem + std::string(btree::MaxInlineKey(kPage), 'x');
      // They differ past the inline part.
      k[btree::KeyPrefixLen(kPage) + 5] = static_cast<char>('a' + i);
      keys.push_back(k);
    }
    keys.push_back(stem + "short");
    std::sort(keys.begin(), keys.end());
    PrefixNode node(leaf);
    node.Rebuild(keys);
    node.ExpectContent();
    // The prefix stops where the heads of the overflowed keys must begin.
    EXPECT_EQ(node.view().prefix_len(), 900u);
    PrefixNode all_long(leaf);
    for (const std::string& k : keys) {
      if (k.size() > btree::MaxInlineKey(kPage)) {
        ASSERT_TRUE(all_long.Insert(k));
      }
    }
    all_long.ExpectContent();
    EXPECT_EQ(all_long.view().prefix_len(), btree::MaxPrefixLen(kPage));
    // A short key breaks the prefix of the overflowed ones.
    ASSERT_TRUE(all_long.Insert(stem.substr(0, 100)));
    all_long.ExpectContent();
    EXPECT_EQ(all_long.view().prefix_len(), 100u);
  }
}

TEST(BTreePrefixTest, BinaryKeysWithZeroAndFFBytes) {
  std::mt19937_64 rng(5);
  const std::string alphabet("\x00\xff\x01\xfe", 4);
  for (bool leaf : {true, false}) {
    PrefixNode node(leaf);
    const std::string stem("\xff\x00\xff\x00\xff", 5);
    for (int i = 0; i < 200; ++i) {
      std::string k = stem;
      for (int j = static_cast<int>(rng() % 6); j > 0; --j) k.push_back(alphabet[rng() % 4]);
      if (std::binary_search(node.keys().begin(), node.keys().end(), k)) continue;
      if (!node.Insert(k)) break;
    }
    EXPECT_GE(node.view().prefix_len(), 5u);
    node.ExpectContent();
    for (int i = 0; i < 500; ++i) {
      std::string k = stem.substr(0, rng() % 6);
      for (int j = static_cast<int>(rng() % 6); j > 0; --j) k.push_back(alphabet[rng() % 4]);
      node.ExpectSearch(k);
    }
    ASSERT_TRUE(node.Insert(std::string("\xff\x00\x00", 3)));
    EXPECT_EQ(node.view().prefix_len(), 2u);
    node.ExpectContent();
  }
}

TEST(BTreePrefixTest, ValidateCellsCatchesDamageToTheNewFields) {
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back(Padded("damage/", i));
  struct Damage {
    const char* what;
    std::function<void(char*, const NodeView&)> apply;
  };
  auto cell_off = [](const NodeView& v, int i) {
    return btree::Load<uint16_t>(v.data() + btree::kSlotArrayOff + btree::kSlotSize * i);
  };
  std::vector<Damage> damages = {
      {"prefix length one longer",
       [](char* p, const NodeView& v) {
         btree::Store<uint16_t>(p + btree::kNodePrefixLenOff,
                                static_cast<uint16_t>(v.prefix_len() + 1));
       }},
      {"prefix length one shorter",
       [](char* p, const NodeView& v) {
         btree::Store<uint16_t>(p + btree::kNodePrefixLenOff,
                                static_cast<uint16_t>(v.prefix_len() - 1));
       }},
      {"a cell's stored key length",
       [&](char* p, const NodeView& v) { p[cell_off(v, 4) + 1] ^= 1; }},
      {"a cell's value length",
       [&](char* p, const NodeView& v) { p[cell_off(v, 4) + 3] ^= 1; }},
      {"two slots swapped (keys out of order)",
       [](char* p, const NodeView&) {
         char tmp[btree::kSlotSize];
         char* a = p + btree::kSlotArrayOff + btree::kSlotSize * 2;
         char* b = a + btree::kSlotSize;
         std::memcpy(tmp, a, sizeof(tmp));
         std::memcpy(a, b, sizeof(tmp));
         std::memcpy(b, tmp, sizeof(tmp));
         // Keep the heads with their slots' keys so that only the order is wrong.
       }},
      {"an empty node with a prefix",
       [](char* p, const NodeView&) { btree::Store<uint16_t>(p + btree::kNodeCountOff, 0); }},
  };
  for (const Damage& d : damages) {
    PrefixNode node;
    node.Rebuild(keys);
    node.ExpectContent();
    d.apply(node.page(), node.view());
    Status s = node.view().ValidateCells();
    EXPECT_TRUE(s.IsCorruption()) << d.what << ": " << s.ToString();
    EXPECT_TRUE(btree::VerifyNodePage(PageId{3}, node.page(), kPage).IsCorruption()) << d.what;
  }
}

// Tree level ------------------------------------------------------------

TEST(BTreePrefixTest, TreeOfFormatVersion2IsRefusedAtOpen) {
  Harness h(kPage, 64);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h.tree->Put("key", "value", h.lsn++).ok());
  h.tree.reset();
  {
    auto g = h.env.pool()->Fetch(h.meta, LatchMode::kExclusive);
    ASSERT_TRUE(g.ok());
    btree::Store<uint16_t>(g->mutable_data() + btree::kMetaVersionOff, 2);
    g->MarkDirty(h.lsn++);
  }
  auto t = BTree::Open(h.env.pool(), h.env.alloc(), h.meta);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsCorruption()) << t.status().ToString();
  EXPECT_NE(t.status().ToString().find("format version 2"), std::string::npos)
      << t.status().ToString();
}

// The prefix length of every leaf of the tree.
std::vector<uint32_t> LeafPrefixes(Harness* h) {
  std::vector<uint32_t> out;
  Status s = h->tree->ForEachPage([&](PageId id) {
    auto g = h->env.pool()->Fetch(id, LatchMode::kShared);
    if (!g.ok()) return g.status();
    NodeView v(g->data(), h->env.page_size(), id);
    if (v.type() == btree::kPageTypeLeaf) out.push_back(v.prefix_len());
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(BTreePrefixTest, SequentialLoadLeavesLongPrefixes) {
  Harness h(kPage, 256);
  ASSERT_TRUE(h.ok());
  // The bench's shape: 16-byte zero-padded numbers ("key" + 13 digits)
  // and 100-byte values, about 30 to a leaf.
  const std::string value(100, 'v');
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(h.tree->Put(NumKey(i), value, h.lsn++).ok());
  std::vector<uint32_t> prefixes = LeafPrefixes(&h);
  ASSERT_GT(prefixes.size(), 500u);
  // A leaf of 35 keys shares "key" and the zeros above the ten-thousands
  // (11 bytes) and, unless it straddles a thousands boundary, the
  // thousands digit (13) and mostly the hundreds digit too (14).
  size_t p13 = 0, p14 = 0;
  for (uint32_t p : prefixes) {
    EXPECT_GE(p, 11u);
    p13 += p >= 13;
    p14 += p >= 14;
  }
  EXPECT_GE(p13 * 100, prefixes.size() * 90);
  EXPECT_GE(p14 * 100, prefixes.size() * 50);
  std::string report;
  Status s = h.tree->Verify(&report);
  EXPECT_TRUE(s.ok()) << s.ToString() << report;
}

TEST(BTreePrefixTest, PrefixBreakingInsertSplitsAFullLeaf) {
  Harness h(kPage, 256);
  ASSERT_TRUE(h.ok());
  // One leaf full of keys that share 400 bytes (tiny suffixes).
  const std::string stem(400, 'm');
  std::map<std::string, std::string> model;
  int n = 0;
  while (h.tree->Height() == 1) {
    std::string k = Padded(stem, n++);
    ASSERT_TRUE(h.tree->Put(k, "v", h.lsn++).ok());
    model[k] = "v";
  }
  // Keys below and above the stem: each breaks the prefix of the leaf it
  // lands in, which cannot hold its keys whole.
  for (const std::string& k : {std::string("a"), std::string("z"), stem.substr(0, 399),
                               stem + "~", std::string("")}) {
    ASSERT_TRUE(h.tree->Put(k, "edge", h.lsn++).ok()) << k.substr(0, 10);
    model[k] = "edge";
  }
  std::string report;
  Status s = h.tree->Verify(&report);
  ASSERT_TRUE(s.ok()) << s.ToString() << report;
  auto it = h.tree->NewIterator();
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(m, model.end());
}

TEST(BTreePrefixTest, SeparatorThatBreaksAnInnerPrefixSplitsItsNode) {
  // A root whose separators share 300 bytes holds them in little room.
  // Appends past the stem promote a separator starting with "z", which
  // shortens the root's prefix to nothing: every separator grows by 300
  // bytes and the root must split although it had far more free bytes
  // than one cell needs. (A writer that judged the root safe by the size
  // of one cell released the meta page and aborted, unable to grow the
  // tree: the WorstInsertNeed rule.)
  Harness h(kPage, 256);
  ASSERT_TRUE(h.ok());
  const std::string stem(300, 'm');
  std::map<std::string, std::string> model;
  int n = 0;
  auto root_count = [&] {
    PageId root;
    EXPECT_TRUE(h.tree->ForEachPage([&](PageId id) {
      if (!root.valid() && id != h.meta) root = id;
      return Status::OK();
    }).ok());
    auto g = h.env.pool()->Fetch(root, LatchMode::kShared);
    EXPECT_TRUE(g.ok());
    return g.ok() ? NodeView(g->data(), kPage, root).count() : 0;
  };
  while (h.tree->Height() < 2 || root_count() < 20) {
    std::string k = Padded(stem, n++);
    ASSERT_TRUE(h.tree->Put(k, "v", h.lsn++).ok());
    model[k] = "v";
  }
  ASSERT_EQ(h.tree->Height(), 2u);
  // Appends past the stem until the last leaf splits.
  for (int i = 0; i < 1000 && h.tree->Height() == 2; ++i) {
    std::string k = Padded("z", i);
    ASSERT_TRUE(h.tree->Put(k, "v", h.lsn++).ok());
    model[k] = "v";
  }
  EXPECT_EQ(h.tree->Height(), 3u);
  std::string report;
  Status s = h.tree->Verify(&report);
  ASSERT_TRUE(s.ok()) << s.ToString() << report;
  auto it = h.tree->NewIterator();
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it->key(), m->first);
  }
  EXPECT_EQ(m, model.end());
}

// Keys built to share long prefixes and to break them: families of long
// stems with numeric or binary tails, keys equal to a stem or a stem's
// prefix, keys of 0x00 and 0xFF bytes, and now and then an overflowed key.
class PrefixModelTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(PrefixModelTest, RandomOpsMatchStdMap) {
  const uint32_t page = GetParam();
  Harness h(page, 512);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(page);
  const std::vector<std::string> stems = {
      std::string(120, 'a'), "user:000000000000", std::string("\x00\x00\x00\x00\x00\x00", 6),
      std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8), "u", "user:00000000001"};
  auto random_key = [&] {
    const std::string& stem = stems[rng() % stems.size()];
    std::string k = stem.substr(0, stem.size() - rng() % 3);
    switch (rng() % 5) {
      case 0: break;  // the stem (or nearly)
      case 1: k += std::to_string(rng() % 2000); break;
      case 2:
        for (int j = static_cast<int>(rng() % 4); j > 0; --j) {
          k.push_back("\x00\xff\x01"[rng() % 3]);
        }
        break;
      case 3: k = Padded(k, static_cast<int>(rng() % 5000)); break;
      default:
        if (rng() % 8 == 0) {
          // Overflowed where the page size allows it under the key limit.
          size_t len = std::min<size_t>(btree::MaxInlineKey(page) + rng() % 100, kMaxKeySize - 200);
          k += std::string(len, 'q');
        }
        k += std::to_string(rng() % 50);
    }
    return k;
  };
  std::map<std::string, std::string> model;
  for (int op = 0; op < 12000; ++op) {
    uint64_t what = rng() % 10;
    std::string k = random_key();
    if (what < 6) {
      std::string v = MakeValue(rng, rng() % 4 == 0 ? rng() % 600 : rng() % 40);
      Status s = h.tree->Put(k, v, h.lsn++);
      ASSERT_TRUE(s.ok()) << s.ToString() << " key size " << k.size();
      model[k] = v;
    } else if (what < 9) {
      bool existed = false;
      ASSERT_TRUE(h.tree->Delete(k, h.lsn++, &existed).ok());
      EXPECT_EQ(existed, model.erase(k) == 1);
    } else {
      std::string v;
      Status s = h.tree->Get(k, &v);
      auto m = model.find(k);
      ASSERT_EQ(s.ok(), m != model.end()) << s.ToString();
      if (s.ok()) {
        ASSERT_EQ(v, m->second);
      }
      auto it = h.tree->NewIterator();
      it->Seek(k);
      auto lb = model.lower_bound(k);
      ASSERT_EQ(it->Valid(), lb != model.end());
      if (lb != model.end()) {
        ASSERT_EQ(it->key(), lb->first);
      }
    }
    if (op % 3000 == 2999) {
      std::string report;
      Status s = h.tree->Verify(&report);
      ASSERT_TRUE(s.ok()) << s.ToString() << report.substr(0, 2000);
      if (op == 5999) h.Reopen();
    }
  }
  auto it = h.tree->NewIterator();
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(m, model.end());
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
    ASSERT_NE(r, model.rend());
    ASSERT_EQ(it->key(), r->first);
  }
  EXPECT_EQ(r, model.rend());
}

INSTANTIATE_TEST_SUITE_P(BTreePrefixPageSizes, PrefixModelTest, ::testing::Values(4096u, 16384u));

}  // namespace
}  // namespace ringdb::test
