// BTree::MultiGet with its pipelined path prefetch (engine/btree.cc
// PrefetchPaths): the results equal Get's for every key, on a 16-page pool
// and a big one, over every I/O backend, and under a concurrent writer a
// MultiGet sees each batch whole.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "btree_test_util.h"
#include "engine/btree.h"

namespace ringdb::test {
namespace btree_multiget_test {

// (backend name, pool frames)
using Param = std::tuple<std::string, uint32_t>;

class BTreeMultiGetTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    h_ = std::make_unique<Harness>(4096, std::get<1>(GetParam()), std::get<0>(GetParam()));
    if (h_->env.error().find("unavailable") != std::string::npos) {
      GTEST_SKIP() << h_->env.error();
    }
    ASSERT_TRUE(h_->ok()) << h_->env.error();
  }

  // Inserts keys 0, 3, 6, ... below 3 * n (so 1, 2 mod 3 are missing).
  void Load(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      std::string k = NumKey(3 * i);
      ASSERT_TRUE(h_->tree->Put(k, TaggedValue(k, 0, 100), h_->NextLsn()).ok());
    }
  }

  // MultiGet over `keys` equals Get key by key.
  void ExpectMultiGetEqualsGet(const std::vector<std::string>& keys) {
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<Status> statuses;
    h_->tree->MultiGet(views, &values, &statuses);
    ASSERT_EQ(values.size(), keys.size());
    ASSERT_EQ(statuses.size(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string want;
      Status s = h_->tree->Get(keys[i], &want);
      ASSERT_EQ(statuses[i].ToString(), s.ToString()) << "key " << keys[i];
      if (s.ok()) {
        ASSERT_EQ(values[i], want) << "key " << keys[i];
      }
    }
  }

  std::unique_ptr<Harness> h_;
};

uint64_t VersionOf(const std::string& key, const std::string& value) {
  size_t bar = value.find('|', key.size() + 1);
  return std::stoull(value.substr(key.size() + 1, bar - key.size() - 1));
}

TEST_P(BTreeMultiGetTest, EqualsGetForEveryKeyFromAColdPool) {
  Load(12000);
  h_->Reopen();  // nothing cached: every path is read by the pipeline
  ASSERT_TRUE(h_->ok());
  std::mt19937_64 rng(5);
  std::vector<std::string> keys;
  for (int i = 0; i < 700; ++i) keys.push_back(NumKey(rng() % 36000));  // a third present
  keys.push_back(keys.front());  // a duplicate
  uint64_t reads = h_->env.pool()->stats().reads;
  ExpectMultiGetEqualsGet(keys);
  EXPECT_GT(h_->env.pool()->stats().reads, reads);
  EXPECT_GE(h_->tree->Height(), 3u) << "the test wants inner levels to pipeline";
}

TEST_P(BTreeMultiGetTest, ConcurrentWriterBatchesAreSeenWhole) {
  Load(12000);
  h_->Reopen();
  ASSERT_TRUE(h_->ok());
  // The writer rewrites `group` as one batch, version after version, and
  // puts other keys (splits, new pages) between batches.
  std::vector<std::string> group;
  for (uint64_t i = 0; i < 40; ++i) group.push_back(NumKey(3 * (i * 97 % 12000)));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches{0}, multigets{0};
  std::mutex bad_mu;
  std::string first_bad;
  auto report = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(bad_mu);
    if (first_bad.empty()) first_bad = what;
  };
  std::thread writer([&] {
    std::mt19937_64 rng(17);
    for (uint64_t v = 1; !stop; ++v) {
      h_->tree->BeginBatch();
      for (const std::string& k : group) {
        Status s = h_->tree->Put(k, TaggedValue(k, v, 60 + v % 90), h_->NextLsn());
        if (!s.ok()) report("put: " + s.ToString());
      }
      h_->tree->EndBatch();
      batches++;
      for (int i = 0; i < 8; ++i) {
        std::string k = NumKey(rng() % 36000);
        Status s = h_->tree->Put(k, TaggedValue(k, v, 20 + rng() % 200), h_->NextLsn());
        if (!s.ok()) report("put: " + s.ToString());
      }
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      while (!stop) {
        std::vector<std::string> keys = group;
        for (int i = 0; i < 60; ++i) keys.push_back(NumKey(rng() % 36000));
        std::vector<std::string_view> views(keys.begin(), keys.end());
        std::vector<std::string> values;
        std::vector<Status> st;
        h_->tree->MultiGet(views, &values, &st);
        uint64_t version = 0;
        for (size_t i = 0; i < keys.size(); ++i) {
          if (st[i].IsNotFound()) {
            if (i < group.size()) report("group key missing: " + keys[i]);
            continue;
          }
          if (!st[i].ok()) {
            report("multiget: " + st[i].ToString());
            continue;
          }
          if (!ValueFits(keys[i], values[i])) {
            report("foreign value for " + keys[i]);
            continue;
          }
          if (i >= group.size()) continue;
          uint64_t v = VersionOf(keys[i], values[i]);
          if (i == 0) version = v;
          if (v != version) {
            report("half a batch: " + std::to_string(version) + " and " + std::to_string(v));
          }
        }
        multigets++;
      }
    });
  }
  // A fixed amount of work, not a fixed time; the deadline only bounds a hang.
  // On the 16-page pool every batch already evicts pages it dirtied itself
  // (its 40 keys lie in more leaves than the pool holds), so fewer rounds
  // cover that case; each of them costs dozens of device reads and writes.
  const uint64_t rounds = std::get<1>(GetParam()) <= 16 ? 120 : 300;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while ((batches < rounds || multigets < rounds) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard<std::mutex> lock(bad_mu);
    if (!first_bad.empty()) break;
  }
  stop = true;
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(first_bad, "");
  EXPECT_GE(batches.load(), rounds);
  EXPECT_GE(multigets.load(), rounds);

  // Quiet again: every key, present or not, as Get sees it, from cold.
  h_->Reopen();
  ASSERT_TRUE(h_->ok());
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < 36000; i += 19) keys.push_back(NumKey(i));
  ExpectMultiGetEqualsGet(keys);
}

// A key whose first look misses is walked on from the page it missed, and
// looked up once its leaf is in: its inner nodes are visited twice (first
// look, lookup), not three times (first look, a walk from the root, lookup).
TEST_P(BTreeMultiGetTest, MissedKeysVisitTheirInnerNodesTwice) {
  if (std::get<1>(GetParam()) <= 16) {
    GTEST_SKIP() << "a 16-page pool evicts the inner nodes the count relies on";
  }
  Load(60000);  // more leaves than the pool holds
  const uint32_t height = h_->tree->Height();
  ASSERT_GE(height, 3u) << "the test wants inner levels";
  std::mt19937_64 rng(9);
  std::string ignored;
  for (int i = 0; i < 4000; ++i) {  // every inner node cached (and kept)
    (void)h_->tree->Get(NumKey(3 * (rng() % 60000)), &ignored);
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 64; ++i) keys.push_back(NumKey(3 * (i * 937 % 60000)));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  const auto before = h_->env.pool()->stats();
  h_->tree->MultiGet(views, &values, &statuses);
  const auto after = h_->env.pool()->stats();
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_TRUE(statuses[i].ok()) << keys[i];
  const uint64_t read = after.reads - before.reads;  // leaves only
  const uint64_t hits = after.hits - before.hits;
  ASSERT_GE(read, 16u) << "the test wants keys whose leaves are not cached";
  const uint64_t cached = keys.size() - read;
  // Meta page, inner nodes and leaf per visit; a read page's first use is
  // not a hit.
  const uint64_t twice = cached * (height + 1) + read * (height + height);
  EXPECT_LE(hits, twice + 2) << "height " << height << ", " << read << " leaves read";
  ExpectMultiGetEqualsGet(keys);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BTreeMultiGetTest,
    ::testing::Combine(::testing::Values("io_uring", "pread", "buffered", "fault(io_uring)"),
                       ::testing::Values(16u, 1024u)),
    [](const ::testing::TestParamInfo<Param>& info) {
      std::string name = std::get<0>(info.param);
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name + "_" + std::to_string(std::get<1>(info.param)) + "pages";
    });

}  // namespace btree_multiget_test
}  // namespace ringdb::test
