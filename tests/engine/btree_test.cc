// Tests for the B+tree (engine/btree*.cc) over a real BufferPool and file:
// a randomized model test against std::map, large keys and values, page
// reuse under delete-heavy load, allocation failure, concurrent readers,
// and MultiGet. Corrupted pages: btree_corruption_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "btree_test_util.h"
#include "engine/btree.h"
#include "engine/btree_format.h"
#include "ringdb/db.h"

namespace ringdb::test {
namespace btree_test {

void ExpectSeeksMatch(BTree* tree, const std::map<std::string, std::string>& model,
                      std::mt19937_64& rng, int count) {
  auto it = tree->NewIterator();
  for (int i = 0; i < count; ++i) {
    std::string target = NumKey(rng() % 25000);
    if (i % 3 == 0) target.resize(rng() % target.size());
    it->Seek(target);
    auto m = model.lower_bound(target);
    ASSERT_EQ(it->Valid(), m != model.end()) << target;
    if (m != model.end()) {
      ASSERT_EQ(it->key(), m->first);
      // A few steps each way from there.
      for (int k = 0; k < 3 && it->Valid(); ++k) {
        it->Prev();
        if (m == model.begin()) {
          ASSERT_FALSE(it->Valid());
          break;
        }
        --m;
        ASSERT_TRUE(it->Valid());
        ASSERT_EQ(it->key(), m->first);
      }
    }
    it->SeekForPrev(target);
    auto u = model.upper_bound(target);
    ASSERT_EQ(it->Valid(), u != model.begin()) << target;
    if (u != model.begin()) {
      --u;
      ASSERT_EQ(it->key(), u->first);
      ASSERT_EQ(it->value(), u->second);
      it->Next();
      ++u;
      ASSERT_EQ(it->Valid(), u != model.end());
      if (u != model.end()) {
        ASSERT_EQ(it->key(), u->first);
      }
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  }
}

TEST(BTreeTest, EmptyTree) {
  Harness h(4096, 64);
  ASSERT_TRUE(h.ok());
  std::string v;
  EXPECT_TRUE(h.tree->Get("a", &v).IsNotFound());
  bool existed = true;
  EXPECT_TRUE(h.tree->Delete("a", Lsn(2), &existed).ok());
  EXPECT_FALSE(existed);
  auto it = h.tree->NewIterator();
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  it->Seek("x");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(h.tree->Height(), 1u);
  ExpectVerify(h.tree.get());
  // A page that is not a meta page is refused.
  auto bad = BTree::Open(h.env.pool(), h.env.alloc(), PageId{1});
  EXPECT_TRUE(!bad.ok() && bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_TRUE(h.tree->Put(std::string(kMaxKeySize + 1, 'k'), "v", Lsn(2)).IsInvalidArgument());
}

TEST(BTreeTest, ReopenKeepsData) {
  Harness h(4096, 64);
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h.tree->Put("a", "1", h.NextLsn()).ok());
  h.Reopen();
  ASSERT_TRUE(h.ok());
  std::string v;
  ASSERT_TRUE(h.tree->Get("a", &v).ok());
  EXPECT_EQ(v, "1");
}

TEST(BTreeTest, DenseLeaves) {
  Harness h(4096, 256);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(1);
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(h.tree->Put(NumKey(i * 7919 % n), MakeValue(rng, 100), h.NextLsn()).ok());
  }
  uint64_t pages = 0;
  ASSERT_TRUE(h.tree->ForEachPage([&](PageId) {
    ++pages;
    return Status::OK();
  }).ok());
  // ~30 cells of 16+100 bytes per 4 KiB leaf when full; random order fills
  // leaves to about 70%.
  EXPECT_LT(pages, static_cast<uint64_t>(n / 18)) << pages;
  EXPECT_EQ(h.tree->ApproximateCount(), static_cast<uint64_t>(n));
  ExpectVerify(h.tree.get());
}

class BTreeModelTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(BTreeModelTest, RandomOpsMatchStdMap) {
  const uint32_t page_size = GetParam();
  Harness h(page_size, 64);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(page_size);
  std::map<std::string, std::string> model;
  const int kOps = page_size == 4096 ? 40000 : 25000;
  const uint64_t kKeys = 20000;
  for (int op = 0; op < kOps; ++op) {
    uint64_t r = rng() % 100;
    std::string key = NumKey(rng() % kKeys);
    if (rng() % 200 == 0) key += std::string(900 + rng() % 3100, 'L');  // long keys
    if (r < 60) {
      size_t len = rng() % 200;
      if (rng() % 100 == 0) len = 3000 + rng() % 40000;  // overflowed values
      std::string v = MakeValue(rng, len);
      Status s = h.tree->Put(key, v, h.NextLsn());
      ASSERT_TRUE(s.ok()) << s.ToString();
      model[key] = v;
    } else if (r < 85) {
      bool existed;
      Status s = h.tree->Delete(key, h.NextLsn(), &existed);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(existed, model.erase(key) == 1);
    } else {
      std::string v;
      Status s = h.tree->Get(key, &v);
      auto m = model.find(key);
      if (m == model.end()) {
        ASSERT_TRUE(s.IsNotFound()) << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(v, m->second);
      }
    }
    if (op % 10000 == 9999) {
      ExpectVerify(h.tree.get());
      ExpectScansMatch(h.tree.get(), model);
      ExpectSeeksMatch(h.tree.get(), model, rng, 200);
      h.Reopen();
      ASSERT_TRUE(h.ok());
    }
  }
  ExpectVerify(h.tree.get());
  ExpectScansMatch(h.tree.get(), model);
  EXPECT_EQ(h.env.alloc()->double_frees(), 0u);
}

INSTANTIATE_TEST_SUITE_P(BTreePageSizes, BTreeModelTest, ::testing::Values(4096u, 16384u));

// Keys that stress the slot heads through the whole tree: shorter than
// the head, zero and 0xFF bytes, a shared 4-byte start, and overflowed
// keys equal in their inline part; Get, Seek and SeekForPrev against
// std::map, across splits, merges and a reopen.
TEST(BTreeTest, KeyHeadEdgeCasesMatchStdMap) {
  Harness h(4096, 256);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(404);
  const std::string alphabet("\x00\x01\x61\xfe\xff", 5);
  const std::string long_stem(btree::MaxInlineKey(4096) + 20, 'L');
  auto random_key = [&]() {
    std::string k;
    switch (rng() % 4) {
      case 0:  // up to 5 bytes of a small binary alphabet
        for (int j = static_cast<int>(rng() % 6); j > 0; --j) k.push_back(alphabet[rng() % 5]);
        break;
      case 1:
        k = "user" + NumKey(rng() % 3000);
        break;
      case 2:
        k = std::string("\xff\xff\x00\x00", 4);
        for (int j = static_cast<int>(rng() % 4); j > 0; --j) k.push_back(alphabet[rng() % 5]);
        break;
      default:  // overflowed: the same inline part, different tails
        k = long_stem + std::to_string(rng() % 50);
        break;
    }
    return k;
  };
  std::map<std::string, std::string> model;
  for (int op = 0; op < 12000; ++op) {
    std::string key = random_key();
    uint64_t r = rng() % 10;
    if (r < 6) {
      std::string v = MakeValue(rng, rng() % 120);
      ASSERT_TRUE(h.tree->Put(key, v, h.NextLsn()).ok());
      model[key] = v;
    } else if (r < 8) {
      bool existed;
      ASSERT_TRUE(h.tree->Delete(key, h.NextLsn(), &existed).ok());
      ASSERT_EQ(existed, model.erase(key) == 1);
    } else {
      ASSERT_NO_FATAL_FAILURE(CheckLookupsMatch(h.tree.get(), model, key, /*backward=*/true));
    }
    if (op == 6000) {
      h.Reopen();
      ASSERT_TRUE(h.ok());
    }
  }
  ExpectVerify(h.tree.get());
  ExpectScansMatch(h.tree.get(), model);
  for (const auto& [k, v] : model) {
    std::string got;
    ASSERT_TRUE(h.tree->Get(k, &got).ok());
    ASSERT_EQ(got, v);
  }
}

TEST(BTreeTest, LargeKeysAndValues) {
  for (uint32_t page_size : {4096u, 16384u}) {
    Harness h(page_size, 64);
    ASSERT_TRUE(h.ok());
    std::mt19937_64 rng(7);
    std::map<std::string, std::string> model;
    for (int i = 0; i < 150; ++i) {
      // 4096-byte keys sharing long prefixes, so separators are long too.
      std::string key(kMaxKeySize, 'p');
      std::string num = NumKey(rng() % 1000);
      key.replace(kMaxKeySize - 200 - (i % 3) * 1500, num.size(), num);
      size_t len = rng() % 8 == 0 ? (1u << 20) + rng() % (2u << 20) : rng() % 3000;
      if (i % 50 == 0) len = 0;
      std::string v = MakeValue(rng, len);
      ASSERT_TRUE(h.tree->Put(key, v, h.NextLsn()).ok());
      model[key] = v;
      if (i % 5 == 0) {
        bool existed;
        auto victim = model.begin();
        std::advance(victim, rng() % model.size());
        ASSERT_TRUE(h.tree->Delete(victim->first, h.NextLsn(), &existed).ok());
        ASSERT_TRUE(existed);
        model.erase(victim);
      }
    }
    ExpectVerify(h.tree.get());
    h.Reopen();
    ASSERT_TRUE(h.ok());
    ExpectScansMatch(h.tree.get(), model);
    for (auto& [k, v] : model) {
      std::string got;
      ASSERT_TRUE(h.tree->Get(k, &got).ok());
      ASSERT_EQ(got, v);
    }
    // Overwrites and deletes give the overflow pages back.
    for (auto& [k, v] : model) ASSERT_TRUE(h.tree->Put(k, "small", h.NextLsn()).ok());
    for (auto& [k, v] : model) {
      bool existed;
      ASSERT_TRUE(h.tree->Delete(k, h.NextLsn(), &existed).ok());
      ASSERT_TRUE(existed);
    }
    EXPECT_EQ(h.tree->rebalance_errors(), 0u);
    EXPECT_EQ(h.env.alloc()->in_use(), 2u) << page_size;  // meta + root leaf
    EXPECT_EQ(h.tree->Height(), 1u);
    EXPECT_EQ(h.env.alloc()->double_frees(), 0u);
    ExpectVerify(h.tree.get());
  }
}

// A 64 MiB value is written and read in linear work: each of its overflow
// pages is written once and read once (counts, not time: a quadratic walk of
// the overflow chain shows up as reads far above the page count).
TEST(BTreeTest, SixtyFourMiBValue) {
  Harness h(16384, 128);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(64);
  std::string big = MakeValue(rng, kMaxValueSize);
  const uint64_t value_pages = kMaxValueSize / h.env.page_size();
  const uint64_t slack = value_pages / 20 + 16;  // Page headers, tree pages.
  const PoolStats before_put = h.env.pool()->stats();
  ASSERT_TRUE(h.tree->Put("big", big, h.NextLsn()).ok());
  ASSERT_TRUE(h.tree->Put("small", "s", h.NextLsn()).ok());
  EXPECT_LE(h.env.pool()->stats().reads - before_put.reads, slack);
  h.Reopen();
  ASSERT_TRUE(h.ok());
  const PoolStats after_reopen = h.env.pool()->stats();
  EXPECT_GE(h.env.alloc()->in_use(), value_pages);
  EXPECT_LE(h.env.alloc()->in_use(), value_pages + slack);
  std::string got;
  ASSERT_TRUE(h.tree->Get("big", &got).ok());
  EXPECT_TRUE(got == big);
  const uint64_t get_reads = h.env.pool()->stats().reads - after_reopen.reads;
  EXPECT_GE(get_reads, value_pages);  // Cold pool: it did read them.
  EXPECT_LE(get_reads, value_pages + slack);
  EXPECT_TRUE(h.tree->Put("big", std::string(kMaxValueSize + 1, 'x'), h.NextLsn())
                  .IsInvalidArgument());
  bool existed;
  ASSERT_TRUE(h.tree->Delete("big", h.NextLsn(), &existed).ok());
  EXPECT_EQ(h.env.alloc()->in_use(), 2u);
}

// A scan on the smallest pool Options allows (16 pages) never waits for a
// frame. The bug it guards (see git history of small_pool_scan_test.cc):
// Prefetch pinned every frame it allocated for the iterator's read-ahead, so
// on 16 frames its next allocation found nothing to evict and waited for an
// unpin only this thread could do (a 2 s Busy wait per read-ahead round).
// Asserted on counts: no busy waits, each page read about once.
TEST(BTreeTest, ScanOnMinimumPoolNeverWaitsForAFrame) {
  Harness h(4096, 16);
  ASSERT_TRUE(h.ok());
  std::map<std::string, std::string> model;
  for (int i = 0; i < 400; i++) {
    std::string v(10 + (i * 37) % 700, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(h.tree->Put(NumKey(i), v, h.NextLsn()).ok());
    model[NumKey(i)] = v;
  }
  uint64_t pages = 0;
  ASSERT_TRUE(h.tree->ForEachPage([&](PageId) {
    ++pages;
    return Status::OK();
  }).ok());
  h.Reopen();  // Cold pool.
  ASSERT_TRUE(h.ok());
  const PoolStats before = h.env.pool()->stats();
  ExpectScansMatch(h.tree.get(), model);
  const PoolStats after = h.env.pool()->stats();
  EXPECT_EQ(after.busy_waits - before.busy_waits, 0u);
  // Forward then backward over `pages` pages through 16 frames: each page
  // read at most about once per direction.
  EXPECT_LE(after.reads - before.reads, 2 * pages + 8);
}

TEST(BTreeTest, DeleteShrinksAndReusesPages) {
  Harness h(4096, 64);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(3);
  uint64_t high_after_first = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::vector<uint64_t> ids(6000);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
    std::shuffle(ids.begin(), ids.end(), rng);
    for (uint64_t id : ids) ASSERT_TRUE(h.tree->Put(NumKey(id), MakeValue(rng, 100), h.NextLsn()).ok());
    EXPECT_GE(h.tree->Height(), 2u);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (size_t i = 0; i < ids.size(); ++i) {
      bool existed;
      ASSERT_TRUE(h.tree->Delete(NumKey(ids[i]), h.NextLsn(), &existed).ok());
      ASSERT_TRUE(existed);
      if (i == ids.size() / 2) ExpectVerify(h.tree.get());
    }
    EXPECT_EQ(h.tree->Height(), 1u);
    EXPECT_EQ(h.env.alloc()->in_use(), 2u);
    ExpectVerify(h.tree.get());
    if (cycle == 0) high_after_first = h.env.alloc()->high_water();
    h.Reopen();
    ASSERT_TRUE(h.ok());
  }
  EXPECT_LE(h.env.alloc()->high_water(), high_after_first + 8);
  EXPECT_EQ(h.env.alloc()->double_frees(), 0u);
}

TEST(BTreeTest, AllocationFailureChangesNothing) {
  Harness h(4096, 64);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(5);
  std::map<std::string, std::string> model;
  int failures = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string key = NumKey(rng() % 100000);
    std::string v = MakeValue(rng, rng() % 10 == 0 ? 5000 : 150);
    h.env.alloc()->FailAfter(static_cast<int64_t>(rng() % 3));
    Status s = h.tree->Put(key, v, h.NextLsn());
    h.env.alloc()->FailAfter(-1);
    if (s.ok()) {
      model[key] = v;
    } else {
      ++failures;
      ASSERT_TRUE(s.IsIOError()) << s.ToString();
    }
  }
  EXPECT_GT(failures, 0);
  ExpectVerify(h.tree.get());
  ExpectScansMatch(h.tree.get(), model);
  EXPECT_EQ(h.env.alloc()->double_frees(), 0u);
  // Every page is either reachable or free: nothing leaked by failed puts.
  uint64_t reachable = 0;
  ASSERT_TRUE(h.tree->ForEachPage([&](PageId) {
    ++reachable;
    return Status::OK();
  }).ok());
  EXPECT_EQ(reachable, h.env.alloc()->in_use());
}

TEST(BTreeTest, MultiGetMatchesGet) {
  Harness h(4096, 64);
  ASSERT_TRUE(h.ok());
  std::mt19937_64 rng(11);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 6000; ++i) {
    std::string k = NumKey(rng() % 20000);
    std::string v = MakeValue(rng, rng() % 50 == 0 ? 6000 : 80);
    ASSERT_TRUE(h.tree->Put(k, v, h.NextLsn()).ok());
    model[k] = v;
  }
  h.Reopen();
  ASSERT_TRUE(h.ok());
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) keys.push_back(NumKey(rng() % 20000));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  uint64_t reads_before = h.env.pool()->stats().reads;
  h.tree->MultiGet(views, &values, &statuses);
  EXPECT_GT(h.env.pool()->stats().reads, reads_before);
  ASSERT_EQ(values.size(), keys.size());
  ASSERT_EQ(statuses.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto m = model.find(keys[i]);
    if (m == model.end()) {
      EXPECT_TRUE(statuses[i].IsNotFound()) << statuses[i].ToString();
    } else {
      ASSERT_TRUE(statuses[i].ok()) << statuses[i].ToString();
      EXPECT_EQ(values[i], m->second);
    }
  }
}

TEST(BTreeTest, OneWriterManyReaders) {
  Harness h(4096, 256);
  ASSERT_TRUE(h.ok());
  const uint64_t kKeys = 4000;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, scans{0}, writes{0};
  std::atomic<int> bad{0};
  std::string first_bad;
  std::mutex bad_mu;
  auto report = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(bad_mu);
    if (bad++ == 0) first_bad = what;
  };
  std::thread writer([&] {
    std::mt19937_64 rng(99);
    uint64_t version = 0;
    while (!stop) {
      std::string key = NumKey(rng() % kKeys);
      if (rng() % 3 == 0) {
        bool existed;
        Status s = h.tree->Delete(key, h.NextLsn(), &existed);
        if (!s.ok()) report("delete: " + s.ToString());
      } else {
        size_t len = rng() % 40 == 0 ? 2000 + rng() % 20000 : rng() % 150;
        Status s = h.tree->Put(key, TaggedValue(key, ++version, len), h.NextLsn());
        if (!s.ok()) report("put: " + s.ToString());
      }
      writes++;
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::string v;
      while (!stop) {
        if (t == 0) {
          std::string key = NumKey(rng() % kKeys);
          Status s = h.tree->Get(key, &v);
          if (s.ok() && !ValueFits(key, v)) report("get " + key + " saw a foreign value");
          if (!s.ok() && !s.IsNotFound()) report("get: " + s.ToString());
        } else if (t == 1) {
          auto it = h.tree->NewIterator();
          std::string prev;
          bool forward = rng() % 2 == 0;
          if (forward) {
            it->Seek(NumKey(rng() % kKeys));
          } else {
            it->SeekForPrev(NumKey(rng() % kKeys));
          }
          for (int i = 0; i < 300 && it->Valid(); ++i) {
            std::string k(it->key());
            if (!prev.empty() && (forward ? k <= prev : k >= prev)) report("scan out of order");
            if (!ValueFits(k, it->value())) report("scan saw a foreign value for " + k);
            prev = k;
            if (forward) {
              it->Next();
            } else {
              it->Prev();
            }
          }
          if (!it->status().ok()) report("scan: " + it->status().ToString());
          scans++;
        } else {
          std::vector<std::string> keys;
          for (int i = 0; i < 32; ++i) keys.push_back(NumKey(rng() % kKeys));
          std::vector<std::string_view> views(keys.begin(), keys.end());
          std::vector<std::string> values;
          std::vector<Status> st;
          h.tree->MultiGet(views, &values, &st);
          for (size_t i = 0; i < keys.size(); ++i) {
            if (st[i].ok() && !ValueFits(keys[i], values[i])) report("multiget foreign value");
            if (!st[i].ok() && !st[i].IsNotFound()) report("multiget: " + st[i].ToString());
          }
        }
        reads++;
      }
    });
  }
  // Run until every role has done a fixed amount of work (not for a fixed
  // time); the deadline only bounds a hang.
  constexpr uint64_t kWrites = 20000, kReads = 3000, kScans = 200;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while ((writes < kWrites || reads < kReads || scans < kScans) && bad == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0) << first_bad;
  EXPECT_GE(writes.load(), kWrites);
  EXPECT_GE(reads.load(), kReads);
  EXPECT_GE(scans.load(), kScans);
  ExpectVerify(h.tree.get());
  EXPECT_EQ(h.env.alloc()->double_frees(), 0u);
}

}  // namespace btree_test
}  // namespace ringdb::test
