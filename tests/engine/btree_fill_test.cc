// Tests for the split policies (engine/btree_put.cc: the append split and
// the shift into a sibling before a split) and BTree::ComputeFill
// (engine/btree_fill.cc): leaf fill after sequential and random loads,
// separators long enough to overflow while cells shift, and the counts the
// fill walk reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "btree_test_util.h"
#include "engine/btree.h"
#include "engine/btree_format.h"

namespace ringdb::test {
namespace btree_fill_test {

constexpr int kLoadKeys = 200000;
constexpr size_t kValueLen = 100;

BTree::FillStats Fill(BTree* tree) {
  BTree::FillStats f;
  Status s = tree->ComputeFill(&f);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return f;
}

// Loads NumKey(order[i]) -> a 100-byte value derived from the key, then
// checks the tree: Verify, every key readable with its value, the count.
void LoadAndCheck(Harness* h, const std::vector<uint64_t>& order) {
  for (uint64_t k : order) {
    std::string key = NumKey(k);
    ASSERT_TRUE(h->tree->Put(key, TaggedValue(key, 1, kValueLen), h->NextLsn()).ok()) << k;
  }
  ExpectVerify(h->tree.get());
  for (uint64_t k = 0; k < order.size(); ++k) {
    std::string key = NumKey(k), got;
    ASSERT_TRUE(h->tree->Get(key, &got).ok()) << k;
    ASSERT_EQ(got, TaggedValue(key, 1, kValueLen)) << k;
  }
  EXPECT_EQ(h->tree->ApproximateCount(), order.size());
}

// Keys in order: every split is an append, so every leaf but the last
// keeps all the cells it could hold, and so do the inner nodes.
TEST(BTreeFillTest, SequentialLoadLeavesLeavesFull) {
  Harness h(4096, 8192);
  ASSERT_TRUE(h.ok());
  std::vector<uint64_t> order(kLoadKeys);
  for (int i = 0; i < kLoadKeys; ++i) order[i] = i;
  LoadAndCheck(&h, order);
  BTree::FillStats f = Fill(h.tree.get());
  EXPECT_GE(f.leaf_fill, 0.95) << f.leaf_pages << " leaves";
  RecordProperty("leaf_fill", std::to_string(f.leaf_fill));
  // Inner nodes: full but for the last one of each level and the root.
  EXPECT_GE(f.inner_fill, 0.85) << f.inner_pages << " inner pages";
  EXPECT_EQ(f.entries, static_cast<uint64_t>(kLoadKeys));
  // 16 + 100 bytes per entry; a 4 KiB leaf holds 30 such cells.
  EXPECT_EQ(f.user_bytes, uint64_t{kLoadKeys} * (16 + kValueLen));
  EXPECT_LE(f.leaf_pages, static_cast<uint64_t>(kLoadKeys / 30 + 2));
}

// Keys in random order: a full leaf first evens out with a sibling that has
// room, so leaves settle well above the 69% of plain half splits.
TEST(BTreeFillTest, RandomLoadKeepsLeavesAboveEightyPercent) {
  Harness h(4096, 8192);
  ASSERT_TRUE(h.ok());
  std::vector<uint64_t> order(kLoadKeys);
  for (int i = 0; i < kLoadKeys; ++i) order[i] = i;
  std::mt19937_64 rng(11);
  std::shuffle(order.begin(), order.end(), rng);
  LoadAndCheck(&h, order);
  BTree::FillStats f = Fill(h.tree.get());
  EXPECT_GE(f.leaf_fill, 0.80) << f.leaf_pages << " leaves";
  RecordProperty("leaf_fill", std::to_string(f.leaf_fill));
  EXPECT_EQ(f.entries, static_cast<uint64_t>(kLoadKeys));
  EXPECT_EQ(h.tree->rebalance_errors(), 0u);
}

// Keys appended in the middle of the key space (a run of ascending keys
// after a random base) are recognized too: the run's leaves end up full.
TEST(BTreeFillTest, AppendRunInsideTheKeySpaceFillsItsLeaves) {
  Harness h(4096, 2048);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(5);
  // A base of keys "a..." and "c...", then 30000 ascending keys "b...".
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(h.tree->Put("a" + NumKey(rng() % 100000), MakeValue(rng, kValueLen), h.NextLsn()).ok());
    ASSERT_TRUE(h.tree->Put("c" + NumKey(rng() % 100000), MakeValue(rng, kValueLen), h.NextLsn()).ok());
  }
  const BTree::FillStats base = Fill(h.tree.get());
  const int run = 30000;
  for (int i = 0; i < run; ++i) {
    ASSERT_TRUE(h.tree->Put("b" + NumKey(i), MakeValue(rng, kValueLen), h.NextLsn()).ok());
  }
  ExpectVerify(h.tree.get());
  const BTree::FillStats f = Fill(h.tree.get());
  // 30 cells of 17 + 100 bytes fit a 4 KiB leaf: the run needs about 1000
  // leaves when they are full, 1450 at the fill of half splits.
  const uint64_t run_leaves = f.leaf_pages - base.leaf_pages;
  EXPECT_LE(run_leaves, static_cast<uint64_t>(run / 29 + 3)) << run_leaves;
}

// Random deletes of 70% of a random load: leaves below a third merge with
// a sibling (or take an even share of its cells). Measured leaf fill: 53%
// (40% when only leaves below a quarter merged).
TEST(BTreeFillTest, DeleteHeavyLoadKeepsLeavesFilled) {
  Harness h(4096, 4096);
  ASSERT_TRUE(h.ok());
  const int n = 100000;
  std::vector<uint64_t> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(23);
  std::shuffle(order.begin(), order.end(), rng);
  for (uint64_t k : order) {
    ASSERT_TRUE(h.tree->Put(NumKey(k), TaggedValue(NumKey(k), 1, kValueLen), h.NextLsn()).ok());
  }
  std::shuffle(order.begin(), order.end(), rng);
  const int deleted = n * 7 / 10;
  for (int i = 0; i < deleted; ++i) {
    bool existed;
    ASSERT_TRUE(h.tree->Delete(NumKey(order[i]), h.NextLsn(), &existed).ok());
    ASSERT_TRUE(existed);
  }
  ExpectVerify(h.tree.get());
  for (int i = deleted; i < n; ++i) {
    std::string got;
    ASSERT_TRUE(h.tree->Get(NumKey(order[i]), &got).ok());
    ASSERT_EQ(got, TaggedValue(NumKey(order[i]), 1, kValueLen));
  }
  BTree::FillStats f = Fill(h.tree.get());
  RecordProperty("leaf_fill", std::to_string(f.leaf_fill));
  EXPECT_EQ(f.entries, static_cast<uint64_t>(n - deleted));
  EXPECT_GE(f.leaf_fill, 0.48) << f.leaf_pages << " leaves";
  EXPECT_EQ(h.tree->rebalance_errors(), 0u);
}

// Long keys whose separators overflow into blobs while cells shift between
// siblings and splits happen: the tree stays equal to a model, every page
// is accounted for, nothing is freed twice.
TEST(BTreeFillTest, ShiftsWithOverflowingSeparatorsMatchModel) {
  Harness h(4096, 256);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(17);
  std::map<std::string, std::string> model;
  const size_t long_len = btree::MaxInlineKey(4096) + 40;
  for (int i = 0; i < 4000; ++i) {
    // Keys sharing a prefix longer than an inline key: separators between
    // them overflow.
    std::string key = rng() % 3 == 0 ? std::string(long_len, 'k') : std::string("k");
    key += NumKey(rng() % 3000);
    std::string v = MakeValue(rng, rng() % 300);
    ASSERT_TRUE(h.tree->Put(key, v, h.NextLsn()).ok());
    model[key] = v;
    if (i % 7 == 0) {
      auto victim = model.begin();
      std::advance(victim, rng() % model.size());
      bool existed;
      ASSERT_TRUE(h.tree->Delete(victim->first, h.NextLsn(), &existed).ok());
      ASSERT_TRUE(existed);
      model.erase(victim);
    }
  }
  ExpectVerify(h.tree.get());
  h.Reopen();
  ASSERT_TRUE(h.ok());
  auto it = h.tree->NewIterator();
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(m, model.end());
  uint64_t pages = 0;
  ASSERT_TRUE(h.tree->ForEachPage([&](PageId) {
    ++pages;
    return Status::OK();
  }).ok());
  EXPECT_EQ(h.env.alloc()->in_use(), pages);  // no page leaked
  EXPECT_EQ(h.env.alloc()->double_frees(), 0u);
  EXPECT_EQ(h.tree->rebalance_errors(), 0u);
  BTree::FillStats f = Fill(h.tree.get());
  EXPECT_EQ(f.entries, model.size());
  EXPECT_EQ(1 + f.leaf_pages + f.inner_pages + f.overflow_pages, pages);
  EXPECT_EQ(f.live_page_bytes, pages * 4096);
}

// Appends take TryAppend's path (no descent) and stay right while the tree
// changes under the hint: the rightmost leaves emptied by deletes and freed
// (a freed page must never take an insert), keys put below the end, the
// last key overwritten, a small pool evicting the hinted leaf. Each round
// checks the tree against a model.
TEST(BTreeFillTest, AppendsWithoutDescentStayRightWhileTheEndIsDeleted) {
  Harness h(4096, 16);
  ASSERT_TRUE(h.ok());
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(11);
  uint64_t next = 0;
  auto put = [&](uint64_t k, uint64_t version) {
    std::string key = NumKey(k), value = TaggedValue(key, version, kValueLen);
    ASSERT_TRUE(h.tree->Put(key, value, h.NextLsn()).ok()) << k;
    model[key] = value;
  };
  uint64_t appended = 0;
  for (int round = 0; round < 40; ++round) {
    // A run of appends past the end.
    const uint64_t run = 100 + rng() % 400;
    for (uint64_t i = 0; i < run; ++i) ASSERT_NO_FATAL_FAILURE(put(next++, 1));
    appended += run;
    // On disk, the last leaf's image stays readable after it is freed.
    ASSERT_TRUE(h.env.pool()->FlushAll().ok());
    // Delete the end: enough to empty the last leaves, so they merge away.
    // The next appends go on past the deleted keys, so they also go past
    // the last key of a freed leaf's image.
    const uint64_t cut = 20 + rng() % 200;
    for (uint64_t i = 0; i < cut && !model.empty(); ++i) {
      std::string key = std::prev(model.end())->first;
      bool existed = false;
      ASSERT_TRUE(h.tree->Delete(key, h.NextLsn(), &existed).ok());
      EXPECT_TRUE(existed) << key;
      model.erase(key);
    }
    // Now and then: keys below the end, and the last key overwritten.
    if (round % 3 == 0 && next > 0) {
      ASSERT_NO_FATAL_FAILURE(put(rng() % next, 2));
    }
    if (round % 4 == 1 && !model.empty()) {
      const std::string last = std::prev(model.end())->first;
      const std::string value = TaggedValue(last, 3, kValueLen);
      ASSERT_TRUE(h.tree->Put(last, value, h.NextLsn()).ok());
      model[last] = value;
    }
    ExpectVerify(h.tree.get());
    ASSERT_NO_FATAL_FAILURE(ExpectScansMatch(h.tree.get(), model));
  }
  EXPECT_EQ(h.tree->ApproximateCount(), model.size());
  // Most appends skipped the descent: all but those that split a leaf and
  // the first after each cut (its hint was the freed or emptied leaf).
  RecordProperty("fast_appends", std::to_string(h.tree->fast_appends()));
  EXPECT_GE(h.tree->fast_appends(), appended * 8 / 10) << appended << " appends";
}

// The same appends (TryAppend) with readers running, on the 16-page
// minimum pool: the writer appends keys in order in rounds of 300 and
// deletes each round's last 50 (emptying and freeing tail leaves), then
// publishes the round. Below the published mark, key k exists exactly when
// k % 300 < 250: Gets, MultiGets and forward scans must see exactly that.
// Labelled concurrency: CI runs it under TSan.
TEST(BTreeFillTest, AppendsWithReadersWhileTheEndIsDeleted) {
  Harness h(4096, 16);
  ASSERT_TRUE(h.ok());
  constexpr uint64_t kRound = 300, kKept = 250;
  auto exists = [](uint64_t k) { return k % kRound < kKept; };
  std::atomic<uint64_t> stable{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> rounds{0}, gets{0}, scans{0}, multigets{0};
  std::mutex bad_mu;
  std::string first_bad;  // under bad_mu
  std::atomic<bool> failed{false};
  auto report = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(bad_mu);
    if (first_bad.empty()) first_bad = what;
    failed = true;
  };
  std::thread writer([&] {
    for (uint64_t next = 0; !stop; next += kRound) {
      for (uint64_t k = next; k < next + kRound; ++k) {
        std::string key = NumKey(k);
        Status s = h.tree->Put(key, TaggedValue(key, 1, kValueLen), h.NextLsn());
        if (!s.ok()) return report("put " + key + ": " + s.ToString());
      }
      for (uint64_t k = next + kRound; k-- > next + kKept;) {
        bool existed = false;
        Status s = h.tree->Delete(NumKey(k), h.NextLsn(), &existed);
        if (!s.ok() || !existed) return report("delete " + NumKey(k) + ": " + s.ToString());
      }
      stable.store(next + kRound, std::memory_order_release);
      rounds++;
    }
  });
  auto reader = [&](int t) {
    std::mt19937_64 rng(t);
    std::string v;
    while (!stop) {
      const uint64_t mark = stable.load(std::memory_order_acquire);
      if (mark == 0) continue;
      const uint64_t k = rng() % mark;
      if (t == 0) {
        Status s = h.tree->Get(NumKey(k), &v);
        if (exists(k) != s.ok() || (!s.ok() && !s.IsNotFound())) {
          return report("get " + NumKey(k) + ": " + s.ToString());
        }
        if (s.ok() && v != TaggedValue(NumKey(k), 1, kValueLen)) return report("get: wrong value");
        gets++;
      } else if (t == 1) {
        auto it = h.tree->NewIterator();
        uint64_t want = k;
        it->Seek(NumKey(k));
        for (int i = 0; i < 100; ++i, it->Next()) {
          while (want < mark && !exists(want)) ++want;
          if (want >= mark) break;
          if (!it->Valid()) {
            return report("scan from " + NumKey(k) + " ended before " + NumKey(want));
          }
          if (it->key() != NumKey(want)) {
            return report("scan from " + NumKey(k) + ": " + std::string(it->key()) +
                          " where " + NumKey(want) + " was due");
          }
          ++want;
        }
        if (!it->status().ok()) return report("scan: " + it->status().ToString());
        scans++;
      } else {
        std::vector<std::string> keys;
        for (int i = 0; i < 32; ++i) keys.push_back(NumKey(rng() % mark));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        std::vector<std::string> values;
        std::vector<Status> st;
        h.tree->MultiGet(views, &values, &st);
        for (size_t i = 0; i < keys.size(); ++i) {
          const uint64_t key_n = std::stoull(keys[i].substr(3));
          if (exists(key_n) != st[i].ok()) {
            return report("multiget " + keys[i] + ": " + st[i].ToString());
          }
        }
        multigets++;
      }
    }
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) readers.emplace_back(reader, t);
  // At least a second, and on until every kind of work ran (a loaded
  // machine may starve a thread for a while), at most a minute.
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const bool ran = rounds >= 20 && gets >= 100 && scans >= 20 && multigets >= 20;
    const bool long_enough = std::chrono::steady_clock::now() - start > std::chrono::seconds(1);
    if (failed || (ran && long_enough)) break;
  }
  stop = true;
  writer.join();
  for (auto& r : readers) r.join();
  ASSERT_EQ(first_bad, "");
  EXPECT_GE(rounds.load(), 20u);
  EXPECT_GT(h.tree->fast_appends(), rounds.load() * kRound / 2);
  ExpectVerify(h.tree.get());
}

// The fill walk on known shapes: an empty tree, one leaf, a value in a blob.
TEST(BTreeFillTest, ComputeFillCounts) {
  Harness h(4096, 64);
  ASSERT_TRUE(h.ok());
  BTree::FillStats f = Fill(h.tree.get());
  EXPECT_EQ(f.leaf_pages, 1u);
  EXPECT_EQ(f.inner_pages, 0u);
  EXPECT_EQ(f.overflow_pages, 0u);
  EXPECT_EQ(f.entries, 0u);
  EXPECT_EQ(f.leaf_fill, 0.0);
  EXPECT_EQ(f.live_page_bytes, 2u * 4096);

  ASSERT_TRUE(h.tree->Put("k1", std::string(500, 'v'), h.NextLsn()).ok());
  ASSERT_TRUE(h.tree->Put("k2", std::string(10000, 'w'), h.NextLsn()).ok());  // in a blob
  f = Fill(h.tree.get());
  EXPECT_EQ(f.entries, 2u);
  EXPECT_EQ(f.user_bytes, 2u + 500 + 2 + 10000);
  // One index page and three data pages of at most 4064 bytes.
  EXPECT_EQ(f.overflow_pages, 4u);
  const uint32_t cap = btree::NodeCapacity(4096);
  // The keys share the node prefix "k", stored once; each cell keeps the
  // one byte after it, behind the 2-byte stored header.
  const uint32_t used = 2 * btree::kSlotSize + (2 + 1 + 500) +
                        (2 + btree::kValueOverflowFields + 1) + 1;
  EXPECT_DOUBLE_EQ(f.leaf_fill, static_cast<double>(used) / cap);
  EXPECT_EQ(f.live_page_bytes, (2u + 4u) * 4096);
}

}  // namespace btree_fill_test
}  // namespace ringdb::test
