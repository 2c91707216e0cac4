// Tests for prefix truncation in the node layout (formats v3 to v5,
// engine/btree_format.h): a node stores its keys' common prefix once at the
// page end and the cells hold only suffixes (and, from v4, leaf cells hold
// no key length: the slot does; v5 slots are 6 bytes). Inserts that shorten the
// prefix, inserts that no longer fit once it is shortened, splits and
// merges that recompute it, empty nodes, keys equal to the prefix,
// overflowed and binary keys, and damage the whole-node check must catch.
// The tree-level tests are in btree_prefix_tree_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "btree_test_node.h"
#include "engine/btree_format.h"
#include "engine/btree_node.h"

namespace ringdb::test {
namespace btree_prefix_test {

using btree::KeyRef;
using btree::NodeView;

constexpr uint32_t kPage = 4096;

std::string WholeCell(const std::string& key, bool leaf, std::string_view value = "v") {
  return TestCell(key, leaf, kPage, value);
}

// A node whose content and search are checked against its keys.
class PrefixNode : public TestNode {
 public:
  explicit PrefixNode(bool leaf = true) : TestNode(leaf, kPage) {}

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
      // FullCell puts the prefix back: the whole cell's key and size.
      std::string full;
      ASSERT_TRUE(v.FullCell(i, &full).ok());
      EXPECT_EQ(full.size(), Cell(key).size()) << "slot " << i;
      KeyRef whole;
      if (leaf_) {
        btree::LeafCell c;
        ASSERT_TRUE(btree::ParseLeafCell(full, PageId{3}, &c).ok());
        whole = c.key;
      } else {
        btree::InnerCell c;
        ASSERT_TRUE(btree::ParseInnerCell(full, PageId{3}, &c).ok());
        whole = c.key;
      }
      EXPECT_EQ(whole.inline_key, want) << "slot " << i;
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
  // Each stored leaf cell also holds a shorter header than the whole cell
  // (format 4: the key length lives in the slot only).
  EXPECT_EQ(node.view().Used(),
            whole - 39 * node.view().prefix_len() - 40 * btree::kLeafHeaderSaving);
}

// The density format 5 is for: a 4 KiB leaf holds 36 entries of a 16-byte
// decimal key (ringdb_bench's keys) and a 100-byte value, whether the run
// of keys shares 14 bytes (within one hundred) or 13 (across one); format
// 4's 8-byte slots held 35.
TEST(BTreePrefixTest, AFullLeafHoldsThirtySixBenchEntries) {
  const std::string value(100, 'x');
  for (int first : {1234500, 1234590}) {
    PrefixNode node;
    int n = 0;
    auto key = [](int i) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%016d", i);
      return std::string(buf);
    };
    while (node.Insert(key(first + n), value)) ++n;
    ASSERT_TRUE(node.view().ValidateCells().ok());
    EXPECT_EQ(node.view().prefix_len(), first == 1234500 ? 14u : 13u);
    EXPECT_EQ(n, 36) << "first key " << first << ", free " << node.view().FreeTotal();
  }
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
  btree::RebuildNode(left.mutable_page(), kPage, std::span(views).first(split));
  btree::RebuildNode(right.mutable_page(), kPage, std::span(views).subspan(split));
  EXPECT_EQ(left.view().prefix_len(), std::string("alpha/region-one/0000").size());
  EXPECT_EQ(right.view().prefix_len(), std::string("beta/region-two/0000").size());
  EXPECT_EQ(left.view().Used(), btree::PackedSize(std::span(views).first(split), true, kPage));
  EXPECT_EQ(right.view().Used(), btree::PackedSize(std::span(views).subspan(split), true, kPage));
  PrefixNode merged;
  btree::RebuildNode(merged.mutable_page(), kPage, views);
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
  btree::RebuildNode(il.mutable_page(), kPage, std::span(iviews).first(m));
  btree::RebuildNode(ir.mutable_page(), kPage, std::span(iviews).subspan(m + 1));
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

// PackedPrefix (Compact's leaf packing) gives the largest left side within
// the budget whose right side fits a page, counting each side's prefix:
// checked against trying every split, for keys that share a long stem
// (where the prefix makes a side pack smaller than its whole cells).
TEST(BTreePrefixTest, PackedPrefixIsTheLargestLeftSideWithinTheBudget) {
  const std::string stem(300, 's');
  std::vector<std::string> cells;
  for (int i = 0; i < 80; ++i) {
    std::string key = i < 40 ? Padded(stem, i) : Padded("t", i);
    cells.push_back(WholeCell(key, true, std::string(20 + i % 37, 'v')));
  }
  std::vector<std::string_view> views = btree::CellViews(cells);
  const uint32_t cap = btree::NodeCapacity(kPage);
  ASSERT_GT(btree::PackedSize(views, true, kPage), cap);
  for (uint64_t budget : {uint64_t{cap}, uint64_t{cap} * 9 / 10, uint64_t{cap} / 2, uint64_t{64}}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    size_t want = 0;
    for (size_t s = 1; s < views.size(); ++s) {
      if (btree::PackedSize(std::span(views).first(s), true, kPage) <= budget &&
          btree::PackedSize(std::span(views).subspan(s), true, kPage) <= cap) {
        want = s;
      }
    }
    EXPECT_EQ(btree::PackedPrefix(views, budget, kPage), want);
  }
  // Nothing fits a budget smaller than the first cell.
  EXPECT_EQ(btree::PackedPrefix(views, 8, kPage), 0u);
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
      // Format v4: a leaf cell's key length is its slot's key length less
      // the prefix.
      {"a slot's key length one longer",
       [](char* p, const NodeView&) {
         char* len = p + btree::kSlotArrayOff + btree::kSlotSize * 4 + btree::kSlotKeyLenOff;
         btree::Store<uint16_t>(len, static_cast<uint16_t>(btree::Load<uint16_t>(len) + 1));
       }},
      {"a slot's key length shorter than the prefix",
       [](char* p, const NodeView& v) {
         btree::Store<uint16_t>(
             p + btree::kSlotArrayOff + btree::kSlotSize * 4 + btree::kSlotKeyLenOff,
             static_cast<uint16_t>(v.prefix_len() - 1));
       }},
      {"a cell's value length",
       [&](char* p, const NodeView& v) { p[cell_off(v, 4)] ^= 1; }},
      {"a cell's key-overflow bit",
       [&](char* p, const NodeView& v) { p[cell_off(v, 4) + 1] ^= 0x40; }},
      {"a cell's value-overflow bit",
       [&](char* p, const NodeView& v) { p[cell_off(v, 4) + 1] ^= 0x80; }},
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
    d.apply(node.mutable_page(), node.view());
    Status s = node.view().ValidateCells();
    EXPECT_TRUE(s.IsCorruption()) << d.what << ": " << s.ToString();
    EXPECT_TRUE(btree::VerifyNodePage(PageId{3}, node.mutable_page(), kPage).IsCorruption())
        << d.what;
  }
}

}  // namespace btree_prefix_test
}  // namespace ringdb::test
