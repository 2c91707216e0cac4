// Tests for the slotted node format (engine/btree_node.*): the key head
// beside each slot, the node prefix, and the slot-only binary search
// (SearchSlots) against std::lower_bound / std::upper_bound on short,
// binary, prefix-sharing and overflowed keys; ValidateCells on damaged
// slot fields.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "btree_test_node.h"
#include "engine/btree_format.h"
#include "engine/btree_node.h"

namespace ringdb::test {
namespace btree_node_test {

using btree::KeyHead;
using btree::KeyRef;
using btree::NodeView;

constexpr uint32_t kPage = 4096;

// A node with a slot search that counts its ties.
class Node : public TestNode {
 public:
  using TestNode::TestNode;

  // SearchSlots with a tie-breaker that knows the full keys; counts ties.
  void Search(const std::string& key, bool upper, int* idx, bool* found) {
    auto tie = [&](int i, int* cmp) {
      ++ties_;
      int c = key.compare(keys_[i]);
      *cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      return Status::OK();
    };
    Status s = btree::SearchSlots(view(), key, upper, tie, idx, found);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Checks lower and upper bound and `found` for `key` against the model.
  void ExpectSearch(const std::string& key) {
    int lower, upper;
    bool found_lower, found_upper;
    Search(key, false, &lower, &found_lower);
    Search(key, true, &upper, &found_upper);
    auto lb = std::lower_bound(keys_.begin(), keys_.end(), key) - keys_.begin();
    auto ub = std::upper_bound(keys_.begin(), keys_.end(), key) - keys_.begin();
    bool present = lb != ub;
    EXPECT_EQ(lower, lb) << Printable(key);
    EXPECT_EQ(upper, ub) << Printable(key);
    EXPECT_EQ(found_lower, present) << Printable(key);
    EXPECT_EQ(found_upper, present) << Printable(key);
  }

  void ExpectValid() const {
    Status s = view().ValidateCells();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  int ties() const { return ties_; }

  static std::string Printable(const std::string& k) {
    std::string out;
    for (unsigned char c : k.substr(0, 40)) {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%02x", c);
      out += buf;
    }
    return out + " (" + std::to_string(k.size()) + " B)";
  }

 private:
  int ties_ = 0;
};

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(BTreeNodeTest, KeyHeadIsBigEndianAndZeroPadded) {
  static_assert(btree::kKeyHeadSize == 2);
  EXPECT_EQ(KeyHead("abcd", 0), 0x6162u);
  EXPECT_EQ(KeyHead("abcdef", 2), 0x6364u);
  EXPECT_EQ(KeyHead("a", 0), 0x6100u);
  EXPECT_EQ(KeyHead("", 0), 0u);
  EXPECT_EQ(KeyHead("xya", 2), 0x6100u);
  EXPECT_EQ(KeyHead(Bytes({0xff, 0x00, 0xff}), 0), 0xff00u);
  EXPECT_EQ(KeyHead(Bytes({0x00, 0xff}), 0), 0x00ffu);
  // Heads are ordered like the keys: a < b implies head(a) <= head(b).
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string a, b;
    for (int j = static_cast<int>(rng() % 7); j > 0; --j) a.push_back("\x00\x01\xfe\xff"[rng() % 4]);
    for (int j = static_cast<int>(rng() % 7); j > 0; --j) b.push_back("\x00\x01\xfe\xff"[rng() % 4]);
    if (b < a) std::swap(a, b);
    uint32_t p = static_cast<uint32_t>(rng() % 3);
    if (a.compare(0, p, b, 0, p) != 0 || a.size() < p) continue;  // not sharing a prefix of p
    EXPECT_LE(KeyHead(a, p), KeyHead(b, p)) << Node::Printable(a) << " " << Node::Printable(b);
  }
}

TEST(BTreeNodeTest, KeysShorterThanTheHead) {
  // Keys that differ only by trailing zero bytes have equal heads; their
  // lengths must order them without reading a cell.
  static_assert(btree::kKeyHeadSize == 2);
  std::vector<std::string> keys = {"",  Bytes({0}), Bytes({0, 0}), "a", Bytes({'a', 0}),
                                   "ab", "b",        "bc",          Bytes({'b', 'c', 0})};
  for (bool leaf : {true, false}) {
    Node node(leaf);
    std::vector<std::string> order = keys;
    std::shuffle(order.begin(), order.end(), std::mt19937(1));
    for (const std::string& k : order) ASSERT_TRUE(node.Insert(k));
    node.ExpectValid();
    EXPECT_EQ(node.view().prefix_len(), 0u);
    for (const std::string& k : keys) node.ExpectSearch(k);
    for (const std::string& k : {std::string("c"), std::string("a\x01", 2), std::string("bc\0\0", 4)}) {
      node.ExpectSearch(k);
    }
    // Only the 3-byte key and the 4-byte probe go past the head: the
    // search of each meets the other (the keys of head "bc" of length 2 are
    // decided by their lengths): one tie in each of their lower and upper
    // searches.
    EXPECT_LE(node.ties(), 4) << (leaf ? "leaf" : "inner");
  }
}

TEST(BTreeNodeTest, KeysSharingTheirFirstFourBytes) {
  Node node(true);
  std::vector<std::string> keys;
  for (int i = 0; i < 33; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "user%012d", i * 3);
    keys.push_back(buf);
  }
  node.Rebuild(keys);
  node.ExpectValid();
  // The prefix covers the shared bytes, so the heads see the digits that differ.
  EXPECT_EQ(node.view().prefix_len(), 14u);
  for (const std::string& k : keys) node.ExpectSearch(k);
  int ties_before = node.ties();
  for (int i = 0; i < 100; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "user%012d", i);
    node.ExpectSearch(buf);
  }
  EXPECT_EQ(node.ties(), ties_before);  // 16-byte keys end within prefix + head
  // Keys outside the prefix land at either end.
  for (const std::string& k : {std::string("user"), std::string("usea"), std::string("usez"),
                               std::string("user0000000009"), std::string("user00000001"),
                               std::string("zzzz"), std::string("")}) {
    node.ExpectSearch(k);
  }
  // An insert that does not share the prefix shortens it and rewrites the heads.
  ASSERT_TRUE(node.Insert("usex"));
  node.ExpectValid();
  EXPECT_EQ(node.view().prefix_len(), 3u);
  for (const std::string& k : node.keys()) node.ExpectSearch(k);
}

TEST(BTreeNodeTest, BinaryKeysWithZeroAndFFBytes) {
  std::mt19937_64 rng(11);
  const std::string alphabet = Bytes({0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff});
  for (bool leaf : {true, false}) {
    Node node(leaf);
    for (int i = 0; i < 150; ++i) {
      std::string k = Bytes({0xff, 0x00});
      for (int j = static_cast<int>(rng() % 6); j > 0; --j) k.push_back(alphabet[rng() % alphabet.size()]);
      if (std::binary_search(node.keys().begin(), node.keys().end(), k)) continue;
      if (!node.Insert(k)) break;
    }
    node.ExpectValid();
    EXPECT_GE(node.view().prefix_len(), 2u);
    for (const std::string& k : node.keys()) node.ExpectSearch(k);
    for (int i = 0; i < 2000; ++i) {
      std::string k;
      for (int j = static_cast<int>(rng() % 8); j > 0; --j) k.push_back(alphabet[rng() % alphabet.size()]);
      node.ExpectSearch(k);
    }
  }
}

TEST(BTreeNodeTest, OverflowedKeys) {
  // Long keys keep only their first KeyPrefixLen bytes inline; the prefix
  // may not reach past MaxPrefixLen, so the heads stay inline.
  const size_t long_len = btree::MaxInlineKey(kPage) + 50;
  std::string base(long_len, 'k');
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    std::string k = base;
    k[btree::KeyPrefixLen(kPage) + 10] = static_cast<char>('a' + i);  // differ past the inline part
    keys.push_back(k);
  }
  keys.push_back(base.substr(0, 40));  // a short key sharing the start
  std::sort(keys.begin(), keys.end());
  for (bool leaf : {true, false}) {
    Node node(leaf);
    node.Rebuild(keys);
    node.ExpectValid();
    EXPECT_LE(node.view().prefix_len(), btree::MaxPrefixLen(kPage));
    for (const std::string& k : keys) node.ExpectSearch(k);
    EXPECT_GT(node.ties(), 0);  // equal heads past the inline part need the full key
    node.ExpectSearch(base);
    node.ExpectSearch(base + "z");
    node.ExpectSearch(base.substr(0, btree::KeyPrefixLen(kPage)));

    Node all_long(leaf);
    for (int i = 2; i >= 0; --i) ASSERT_TRUE(all_long.Insert(keys[static_cast<size_t>(i) + 1]));
    all_long.ExpectValid();
    EXPECT_EQ(all_long.view().prefix_len(), btree::MaxPrefixLen(kPage));
    for (const std::string& k : keys) all_long.ExpectSearch(k);
  }
}

// Random inserts, removes and rebuilds of keys drawn to collide often
// (short, zero-padded, shared prefixes), checked against the sorted model.
TEST(BTreeNodeTest, RandomizedSearchMatchesLowerBound) {
  std::mt19937_64 rng(2026);
  const std::string alphabet = Bytes({0x00, 0x01, 'a', 'b', 0xfe, 0xff});
  auto random_key = [&](const std::string& stem) {
    std::string k = stem.substr(0, rng() % (stem.size() + 1));
    for (int j = static_cast<int>(rng() % 7); j > 0; --j) k.push_back(alphabet[rng() % alphabet.size()]);
    if (rng() % 50 == 0) k += std::string(btree::MaxInlineKey(kPage) + rng() % 40, 'q');
    return k;
  };
  for (int round = 0; round < 60; ++round) {
    std::string stem;
    for (int j = static_cast<int>(rng() % 9); j > 0; --j) stem.push_back(alphabet[rng() % alphabet.size()]);
    Node node(round % 2 == 0);
    for (int op = 0; op < 400; ++op) {
      uint64_t what = rng() % 10;
      if (what < 6) {
        std::string k = random_key(stem);
        if (!std::binary_search(node.keys().begin(), node.keys().end(), k)) (void)node.Insert(k);
      } else if (what < 8 && !node.keys().empty()) {
        node.Remove(rng() % node.keys().size());
      } else if (what == 8) {
        node.Rebuild(node.keys());
      } else {
        for (int q = 0; q < 20; ++q) node.ExpectSearch(random_key(stem));
        for (const std::string& k : node.keys()) node.ExpectSearch(k);
      }
      if (op % 50 == 0) node.ExpectValid();
      if (::testing::Test::HasFailure()) return;
    }
    node.ExpectValid();
  }
}

TEST(BTreeNodeTest, ValidateCellsCatchesDamagedSlotFields) {
  std::vector<std::string> keys = {"apple", "apricot", "banana", "blueberry", "cherry"};
  struct Damage {
    const char* what;
    uint32_t offset;
    uint32_t size;
  };
  const uint32_t slot1 = btree::kSlotArrayOff + btree::kSlotSize;
  std::vector<Damage> damages = {
      {"head", slot1 + btree::kSlotHeadOff, btree::kKeyHeadSize},
      {"key length", slot1 + btree::kSlotKeyLenOff, 2},
      {"prefix length", btree::kNodePrefixLenOff, 2},
  };
  for (const Damage& d : damages) {
    Node node(true);
    node.Rebuild(keys);
    node.ExpectValid();
    char* p = node.mutable_page() + d.offset;
    for (uint32_t i = 0; i < d.size; ++i) p[i] = static_cast<char>(p[i] ^ 0x21);
    Status s = node.view().ValidateCells();
    EXPECT_TRUE(s.IsCorruption()) << d.what << ": " << s.ToString();
    // The read-hook form of the check sees the same damage.
    EXPECT_TRUE(btree::VerifyNodePage(PageId{3}, node.mutable_page(), kPage).IsCorruption());
  }
  {
    Node node(false);
    node.Rebuild(keys);
    EXPECT_TRUE(btree::VerifyNodePage(PageId{3}, node.mutable_page(), kPage).ok());
    // Pages that are not nodes are left to their own readers.
    btree::Store<uint16_t>(node.mutable_page() + btree::kNodeTypeOff, btree::kPageTypeOverflowData);
    EXPECT_TRUE(btree::VerifyNodePage(PageId{3}, node.mutable_page(), kPage).ok());
  }
  // A prefix longer than the limit is refused by the constant-time check.
  Node node(true);
  node.Rebuild(keys);
  btree::Store<uint16_t>(node.mutable_page() + btree::kNodePrefixLenOff, 0xffff);
  EXPECT_TRUE(node.view().Validate().IsCorruption());
}

}  // namespace btree_node_test
}  // namespace ringdb::test
