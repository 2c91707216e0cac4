// Prefix truncation (format v3) through the B+tree: a tree of format
// version 2 is refused, sequential loads end with long leaf prefixes,
// inserts and separators that break a full node's prefix split it, and a
// randomized model test against std::map on keys built to share long
// prefixes and to break them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "btree_test_util.h"
#include "engine/btree.h"
#include "engine/btree_format.h"
#include "engine/btree_node.h"
#include "ringdb/db.h"

namespace ringdb::test {
namespace btree_prefix_tree_test {

using btree::NodeView;

constexpr uint32_t kPage = 4096;

std::string Padded(const std::string& stem, int n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06d", n);
  return stem + buf;
}

// Trees of the formats before v5 (v4: 8-byte slots; v3: 5-byte leaf cell headers holding the
// key length) are refused with their version named, never misread; an
// older file is not a damaged one, so the code is NotSupported (as for an
// old superblock or log), not Corruption.
TEST(BTreePrefixTest, TreesOfOlderFormatVersionsAreRefusedAtOpen) {
  for (uint16_t version : {2, 3, 4}) {
    Harness h(kPage, 64);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(h.tree->Put("key", "value", h.NextLsn()).ok());
    h.tree.reset();
    {
      auto g = h.env.pool()->Fetch(h.meta, LatchMode::kExclusive);
      ASSERT_TRUE(g.ok());
      btree::Store<uint16_t>(g->mutable_data() + btree::kMetaVersionOff, version);
      g->MarkDirty(h.NextLsn());
    }
    auto t = BTree::Open(h.env.pool(), h.env.alloc(), h.meta);
    ASSERT_FALSE(t.ok()) << version;
    EXPECT_TRUE(t.status().IsNotSupported()) << t.status().ToString();
    EXPECT_NE(t.status().ToString().find("format version " + std::to_string(version)),
              std::string::npos)
        << t.status().ToString();
  }
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
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(h.tree->Put(NumKey(i), value, h.NextLsn()).ok());
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
  ExpectVerify(h.tree.get());
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
    ASSERT_TRUE(h.tree->Put(k, "v", h.NextLsn()).ok());
    model[k] = "v";
  }
  // Keys below and above the stem: each breaks the prefix of the leaf it
  // lands in, which cannot hold its keys whole.
  for (const std::string& k : {std::string("a"), std::string("z"), stem.substr(0, 399),
                               stem + "~", std::string("")}) {
    ASSERT_TRUE(h.tree->Put(k, "edge", h.NextLsn()).ok()) << k.substr(0, 10);
    model[k] = "edge";
  }
  ExpectVerify(h.tree.get());
  ExpectScansMatch(h.tree.get(), model);
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
    ASSERT_TRUE(h.tree->Put(k, "v", h.NextLsn()).ok());
    model[k] = "v";
  }
  ASSERT_EQ(h.tree->Height(), 2u);
  // Appends past the stem until the last leaf splits.
  for (int i = 0; i < 1000 && h.tree->Height() == 2; ++i) {
    std::string k = Padded("z", i);
    ASSERT_TRUE(h.tree->Put(k, "v", h.NextLsn()).ok());
    model[k] = "v";
  }
  EXPECT_EQ(h.tree->Height(), 3u);
  ExpectVerify(h.tree.get());
  ExpectScansMatch(h.tree.get(), model);
}

// Keys built to share long prefixes and to break them: families of long
// stems with numeric or binary tails, keys equal to a stem or a stem's
// prefix, keys of 0x00 and 0xFF bytes, and now and then an overflowed key
// or value.
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
      // Now and then a value that overflows: its leaf cell holds the blob's
      // fields before the key bytes, which a search's tie reads (format v5's
      // 2-byte heads tie often on these keys).
      const uint64_t size = rng() % 16 == 0  ? page / 4 + rng() % page
                            : rng() % 4 == 0 ? rng() % 600
                                             : rng() % 40;
      std::string v = MakeValue(rng, size);
      Status s = h.tree->Put(k, v, h.NextLsn());
      ASSERT_TRUE(s.ok()) << s.ToString() << " key size " << k.size();
      model[k] = v;
    } else if (what < 9) {
      bool existed = false;
      ASSERT_TRUE(h.tree->Delete(k, h.NextLsn(), &existed).ok());
      EXPECT_EQ(existed, model.erase(k) == 1);
    } else {
      ASSERT_NO_FATAL_FAILURE(CheckLookupsMatch(h.tree.get(), model, k, /*backward=*/false));
    }
    if (op % 3000 == 2999) {
      ExpectVerify(h.tree.get());
      if (op == 5999) h.Reopen();
    }
  }
  ExpectScansMatch(h.tree.get(), model);
}

INSTANTIATE_TEST_SUITE_P(BTreePrefixPageSizes, PrefixModelTest, ::testing::Values(4096u, 16384u));

}  // namespace btree_prefix_tree_test
}  // namespace ringdb::test
