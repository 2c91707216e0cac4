// The B+tree over damaged pages: a page whose checksum fails, and garbage
// with a valid checksum in a leaf or an inner node. Whatever the damage,
// every read gives the stored value or Corruption (never a wrong value, a
// missing key, or a scan that ends OK having skipped keys), Verify names the
// page, and writers that would build on the damaged page are refused.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "btree_test_util.h"
#include "engine/btree.h"
#include "engine/btree_format.h"

namespace ringdb::test {
namespace btree_corruption_test {

constexpr int kKeys = 5000;

// Builds a 3-level tree, flushes it, and returns its pages (in the order
// ForEachPage visits them: the meta page, then the root) and what it holds.
void BuildForCorruption(Harness* h, std::vector<PageId>* pages,
                        std::map<std::string, std::string>* model) {
  std::mt19937_64 rng(21);
  for (int i = 0; i < kKeys; ++i) {
    std::string v = MakeValue(rng, 120);
    ASSERT_TRUE(h->tree->Put(NumKey(i), v, h->NextLsn()).ok());
    (*model)[NumKey(i)] = v;
  }
  ASSERT_TRUE(h->tree->ForEachPage([&](PageId id) {
    pages->push_back(id);
    return Status::OK();
  }).ok());
  ASSERT_GE(h->tree->Height(), 2u);
  h->Reopen();
  ASSERT_TRUE(h->ok());
}

// Reads every key, and scans both ways. Each answer must be the model's or
// Corruption. Returns in *refused the keys whose Get gave Corruption.
void ExpectRightValueOrCorruption(BTree* tree, const std::map<std::string, std::string>& model,
                                  const std::string& what, std::set<std::string>* refused) {
  std::string v;
  for (const auto& [key, value] : model) {
    Status s = tree->Get(key, &v);
    if (s.IsCorruption()) {
      refused->insert(key);
      continue;
    }
    ASSERT_TRUE(s.ok()) << what << ": Get " << key << ": " << s.ToString();
    ASSERT_EQ(v, value) << what << ": wrong value for " << key;
  }
  std::vector<std::string> keys;
  for (const auto& kv : model) keys.push_back(kv.first);
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> st;
  tree->MultiGet(views, &values, &st);
  ASSERT_EQ(st.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (st[i].IsCorruption()) continue;
    ASSERT_TRUE(st[i].ok()) << what << ": MultiGet " << keys[i] << ": " << st[i].ToString();
    ASSERT_EQ(values[i], model.at(keys[i])) << what << ": MultiGet wrong value";
  }
  auto it = tree->NewIterator();
  size_t seen = 0;
  std::string prev;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++seen) {
    std::string k(it->key());
    ASSERT_TRUE(prev.empty() || k > prev) << what << ": forward scan out of order";
    auto m = model.find(k);
    ASSERT_NE(m, model.end()) << what << ": forward scan invented " << k;
    ASSERT_EQ(it->value(), m->second) << what << ": forward scan wrong value for " << k;
    prev = k;
  }
  if (it->status().ok()) {
    EXPECT_EQ(seen, model.size()) << what << ": forward scan ended OK but skipped keys";
  } else {
    EXPECT_TRUE(it->status().IsCorruption()) << what << ": " << it->status().ToString();
  }
  seen = 0;
  prev.clear();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++seen) {
    std::string k(it->key());
    ASSERT_TRUE(prev.empty() || k < prev) << what << ": backward scan out of order";
    auto m = model.find(k);
    ASSERT_NE(m, model.end()) << what << ": backward scan invented " << k;
    ASSERT_EQ(it->value(), m->second) << what << ": backward scan wrong value for " << k;
    prev = k;
  }
  if (it->status().ok()) {
    EXPECT_EQ(seen, model.size()) << what << ": backward scan ended OK but skipped keys";
  } else {
    EXPECT_TRUE(it->status().IsCorruption()) << what << ": " << it->status().ToString();
  }
  (void)tree->ApproximateCount();  // Must not crash; any count will do.
}

// A writer whose key lies on the damaged page (its Get was refused) is
// refused too, with Corruption, rather than building on the bad page.
void ExpectWritersRefused(Harness* h, const std::set<std::string>& refused,
                          const std::string& what) {
  int n = 0;
  for (const std::string& key : refused) {
    if (n++ % 7 != 0) continue;  // A sample is enough.
    Status s = h->tree->Put(key, "x", h->NextLsn());
    EXPECT_TRUE(s.IsCorruption()) << what << ": Put " << key << ": " << s.ToString();
    bool existed = false;
    s = h->tree->Delete(key, h->NextLsn(), &existed);
    EXPECT_TRUE(s.IsCorruption()) << what << ": Delete " << key << ": " << s.ToString();
  }
}

TEST(BTreeCorruptionTest, ChecksumMismatchIsReported) {
  for (int which : {0, 1}) {  // A leaf, then the root.
    Harness h(4096, 64, "", TempDir::MemoryParent());
    ASSERT_TRUE(h.ok());
    std::vector<PageId> pages;
    std::map<std::string, std::string> model;
    BuildForCorruption(&h, &pages, &model);
    PageId victim = which == 0 ? pages[pages.size() / 2] : pages[1];
    ASSERT_TRUE(h.env.CorruptPage(victim, 500, "garbage!", false).ok());
    std::string report;
    Status s = h.tree->Verify(&report);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(report.find("page " + std::to_string(victim.value)), std::string::npos) << report;
    const std::string what = which == 0 ? "leaf" : "root";
    std::set<std::string> refused;
    ExpectRightValueOrCorruption(h.tree.get(), model, what, &refused);
    EXPECT_FALSE(refused.empty()) << what << ": no read noticed the damaged page";
    if (which == 1) {
      EXPECT_EQ(refused.size(), model.size()) << "every Get passes the root";
    }
    ExpectWritersRefused(&h, refused, what);
  }
}

TEST(BTreeCorruptionTest, GarbageWithValidChecksumIsReported) {
  std::mt19937_64 rng(33);
  // Header fields, a slot, and random bytes over the whole node.
  struct Damage {
    uint32_t offset;
    std::string bytes;
  };
  std::vector<Damage> damages = {
      {btree::kNodeCountOff, std::string("\xff\x7f", 2)},
      {btree::kNodeCellStartOff, std::string("\x10\x00\x00\x00", 4)},
      {btree::kSlotArrayOff, std::string("\xfe\x0f", 2)},
      {btree::kNodeTypeOff, std::string("\x77\x77", 2)},
      {btree::kNodeLevelOff, std::string("\x05\x00", 2)},
      // Damage only the whole-node check sees (each cell still parses): a
      // slot's key head and a slot's key length that disagree with its key.
      // Writers no longer re-check a node before editing it
      // (the pool's read check does it once per read), so these are what
      // prove the read check runs.
      {btree::kSlotArrayOff + btree::kSlotHeadOff, std::string("\x01\x00", 2)},
      {btree::kSlotArrayOff + btree::kSlotKeyLenOff, std::string("\x03\x00", 2)},
      // The node prefix length (format v3: the prefix bytes sit at the page
      // end, so a wrong length moves the end of the cell area and leaves
      // the cells not accounting for it, or suffixes that disagree with the
      // slots' key lengths).
      {btree::kNodePrefixLenOff, std::string("\x00\x00", 2)},
      {btree::kNodePrefixLenOff, std::string("\x03\x00", 2)},
  };
  std::string noise(4096 - btree::kNodeOff, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  damages.push_back({btree::kNodeOff, noise});
  for (size_t d = 0; d < damages.size(); ++d) {
    for (int which : {0, 1}) {  // A leaf, then the root (inner).
      Harness h(4096, 64, "", TempDir::MemoryParent());
      ASSERT_TRUE(h.ok());
      std::vector<PageId> pages;
      std::map<std::string, std::string> model;
      BuildForCorruption(&h, &pages, &model);
      PageId victim = which == 0 ? pages.back() : pages[1];
      ASSERT_TRUE(h.env.CorruptPage(victim, damages[d].offset, damages[d].bytes, true).ok());
      const std::string what =
          "damage " + std::to_string(d) + (which == 0 ? " in a leaf" : " in the root");
      std::string report;
      Status s = h.tree->Verify(&report);
      EXPECT_TRUE(s.IsCorruption()) << what << ": " << s.ToString();
      EXPECT_NE(report.find("page " + std::to_string(victim.value)), std::string::npos)
          << what << ": " << report;
      std::set<std::string> refused;
      ExpectRightValueOrCorruption(h.tree.get(), model, what, &refused);
      EXPECT_FALSE(refused.empty()) << what << ": no read noticed the damaged page";
      ExpectWritersRefused(&h, refused, what);
    }
  }
}

}  // namespace btree_corruption_test
}  // namespace ringdb::test
