// The adaptive split of the budget between the pool and the row cache
// (Options::kAutoRowCacheBytes, engine/db_cache_balance.cc), and the pieces
// it is made of: GhostList and an adjustable RowCache.
//
// The DB tests drive the background thread's decisions with real reads on
// a 4 MiB budget and data several times larger, and wait (with deadlines)
// for the properties to show the split: skewed Gets take a quarter of the
// budget for the row cache, MultiGet gives it back, uniform Gets and data
// that fits never start it; the pool and the row cache always add up to the
// budget. The concurrency test races a writer against Get readers while
// the split moves both ways.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/row_cache.h"
#include "ringdb/db.h"
#include "ringdb/write_batch.h"
#include "tests/util/key_states.h"
#include "tests/util/temp_dir.h"
#include "util/ghost_list.h"

namespace ringdb {
namespace db_cache_split_test {

TEST(GhostListTest, KeepsTheMostRecentDistinctIdsByWeight) {
  GhostList g;
  g.SetCapacity(10);
  for (uint64_t i = 0; i < 10; i++) g.Add(i, 1);
  EXPECT_EQ(g.size(), 10u);
  g.Add(0, 1);  // 0 becomes the newest: 1 is now the oldest
  g.Add(10, 1);
  EXPECT_TRUE(g.Contains(0));
  EXPECT_FALSE(g.Contains(1));
  EXPECT_TRUE(g.Contains(10));
  EXPECT_EQ(g.weight(), 10u);
  g.Add(11, 5);  // pushes out five of weight 1
  EXPECT_EQ(g.weight(), 10u);
  EXPECT_FALSE(g.Contains(2));
  EXPECT_FALSE(g.Contains(6));
  EXPECT_TRUE(g.Contains(7));
  g.Add(12, 11);  // heavier than the whole list: not kept
  EXPECT_FALSE(g.Contains(12));
  g.SetCapacity(0);
  EXPECT_EQ(g.size(), 0u);
  g.Add(1, 1);
  EXPECT_FALSE(g.Contains(1));
}

TEST(GhostListTest, AnIdAddedOverAndOverDoesNotPileUp) {
  GhostList g;
  g.SetCapacity(1000);
  for (int i = 0; i < 100000; i++) g.Add(static_cast<uint64_t>(i % 3), 1);
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(g.weight(), 3u);
  for (uint64_t i = 100; i < 1100; i++) g.Add(i, 1);
  EXPECT_EQ(g.size(), 1000u);
  EXPECT_FALSE(g.Contains(0));
}

TEST(GhostListTest, TakeForgetsAnIdAndItsWeight) {
  GhostList g;
  g.SetCapacity(3);
  for (uint64_t i = 0; i < 3; i++) g.Add(i, 1);
  EXPECT_TRUE(g.Take(1));
  EXPECT_FALSE(g.Take(1));
  EXPECT_FALSE(g.Contains(1));
  EXPECT_EQ(g.weight(), 2u);
  g.Add(3, 1);  // fits in the weight Take freed: nothing leaves
  EXPECT_TRUE(g.Contains(0));
  EXPECT_TRUE(g.Contains(3));
  g.Add(4, 1);  // now the oldest, 0, leaves (1's stale entry is skipped)
  EXPECT_FALSE(g.Contains(0));
  EXPECT_TRUE(g.Contains(2));
  EXPECT_EQ(g.size(), 3u);
}

TEST(RowCacheAdjustableTest, StartsEmptyLearnsInItsGhostAndShrinksOnRequest) {
  RowCache rows(0, /*adjustable=*/true);
  ASSERT_TRUE(rows.enabled());
  rows.SetGhostBytes(64 << 10);
  std::string v;
  RowCache::Ticket t;
  // Capacity 0: a fill is "evicted" at once, into the ghost.
  ASSERT_FALSE(rows.Lookup("a", &v, &t));
  rows.Fill("a", "1", t);
  ASSERT_FALSE(rows.Lookup("a", &v, &t));
  EXPECT_EQ(rows.stats().ghost_hits, 1u);
  EXPECT_EQ(rows.stats().entries, 0u);
  // Room now: fills are kept.
  rows.SetCapacity(1 << 20);
  for (int i = 0; i < 100; i++) {
    const std::string k = "k" + std::to_string(i);
    ASSERT_FALSE(rows.Lookup(k, &v, &t));
    rows.Fill(k, std::string(100, 'v'), t);
  }
  EXPECT_EQ(rows.stats().entries, 100u);
  // A smaller capacity evicts at once, into the ghost.
  rows.SetCapacity(0);
  EXPECT_EQ(rows.stats().entries, 0u);
  EXPECT_EQ(rows.stats().bytes, 0u);
  const uint64_t ghost_hits = rows.stats().ghost_hits;
  ASSERT_FALSE(rows.Lookup("k7", &v, &t));
  EXPECT_EQ(rows.stats().ghost_hits, ghost_hits + 1);
  // Writers' marks work at capacity 0 too: a fill read before a write is
  // refused once there is room again.
  rows.SetCapacity(1 << 20);
  ASSERT_FALSE(rows.Lookup("w", &v, &t));
  RowCache::Writes w;
  rows.BeginWrite("w", &w);
  rows.EndWrites(w);
  rows.Fill("w", "old", t);
  EXPECT_FALSE(rows.Lookup("w", &v, &t));
}

TEST(RowCacheAdjustableTest, InvalidateTicketsRefusesEveryEarlierFill) {
  RowCache rows(1 << 20, /*adjustable=*/true);
  std::string v;
  RowCache::Ticket a, b;
  ASSERT_FALSE(rows.Lookup("a", &v, &a));
  ASSERT_FALSE(rows.Lookup("b", &v, &b));
  rows.InvalidateTickets();
  rows.Fill("a", "1", a);
  rows.Fill("b", "2", b);
  EXPECT_EQ(rows.stats().entries, 0u);
  EXPECT_EQ(rows.stats().refused, 2u);
  ASSERT_FALSE(rows.Lookup("a", &v, &a));  // a ticket taken after is good
  rows.Fill("a", "1", a);
  ASSERT_TRUE(rows.Lookup("a", &v, &a));
  EXPECT_EQ(v, "1");
}

std::string Key(int i) { return test::NumberedKey(i); }
std::string Value(int i, int gen = 0) { return test::NumberedValue(i, gen); }

class CacheSplitTest : public ::testing::Test {
 protected:
  static constexpr size_t kBudget = 4 << 20;  // 1024 pages: steps of 32
  static constexpr int kKeys = 120000;        // about 14 MiB of leaves

  void SetUp() override {
    options_.io_backend = IoBackendKind::kPread;
    options_.buffer_pool_bytes = kBudget;
    options_.lock_pool_memory = false;
    options_.auto_resume_interval_ms = 0;
    options_.info_log = [](std::string_view) {};
    dir_ = tmp_.File("db");
  }
  void TearDown() override { db_.reset(); }

  void Open() {
    db_.reset();
    Status s = DB::Open(options_, dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Keys 0 to n - 1 with values of generation `gen`, in batches.
  void Load(int n, int gen = 0) {
    for (int i = 0; i < n; i += 500) {
      WriteBatch b;
      for (int j = i; j < std::min(n, i + 500); j++) b.Put(Key(j), Value(j, gen));
      ASSERT_TRUE(db_->Write(WriteOptions(), &b).ok());
    }
  }
  uint64_t Prop(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::stoull(v);
  }
  // The pool and the row cache add up to the budget. The background
  // thread may be between the two halves of a move (it changes one, then
  // the other), so a sum off by one step is read again, for up to 2 s.
  void ExpectWithinBudget(uint64_t budget = kBudget) {
    uint64_t sum = 0;
    for (int i = 0; i < 400; i++) {
      sum = Prop("ringdb.pool.bytes") + Prop("ringdb.row_cache.capacity");
      if (sum == budget) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(sum, budget);
  }
  // Runs `op` until `done` holds, or fails after 60 s.
  void Until(const std::function<void()>& op, const std::function<bool()>& done,
             const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out: " << what;
      for (int i = 0; i < 200; i++) op();
    }
  }
  // 90% of Gets on 2,000 hot keys spread over the whole key space.
  void SkewedGet(std::mt19937* rng) {
    const int k = (*rng)() % 10 != 0 ? static_cast<int>(((*rng)() % 2000) * 59 % kKeys)
                                     : static_cast<int>((*rng)() % kKeys);
    std::string v;
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(k), &v).ok());
    ASSERT_EQ(v, Value(k));
  }
  void UniformMultiGet(std::mt19937* rng) {
    std::vector<std::string> keys;
    for (int i = 0; i < 16; i++) keys.push_back(Key(static_cast<int>((*rng)() % kKeys)));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> values;
    for (const Status& s : db_->MultiGet(ReadOptions(), views, &values)) ASSERT_TRUE(s.ok());
  }

  // The versioned keys of the concurrency tests (test::KeyStates, loaded
  // with Load(n, 1)): a checked Get, and the check of every key at the end.
  static test::KeyStates NewStates(int n) {
    return test::KeyStates(n, 1, Key,
                           [](int k, uint32_t gen) { return Value(k, static_cast<int>(gen)); });
  }
  // A Get of k with no write to k around it must see exactly k's state.
  void CheckedGet(const test::KeyStates& states, int k, test::FirstError* err) {
    const uint32_t before = states.Load(k);
    std::string v;
    Status s = db_->Get(ReadOptions(), Key(k), &v);
    if (states.Load(k) == before) {
      std::string e = states.Check(k, before, s, v);
      if (!e.empty()) err->Fail("Get: " + e);
    }
  }
  void ExpectAllMatch(const test::KeyStates& states, int n) {
    for (int k = 0; k < n; k++) {
      std::string v;
      Status s = db_->Get(ReadOptions(), Key(k), &v);
      ASSERT_EQ(states.Check(k, states.Load(k), s, v), "");
    }
  }

  test::TempDir tmp_{"cache_split"};
  std::string dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(CacheSplitTest, SkewedGetsTakeAQuarterAndMultiGetGivesItBack) {
  ASSERT_EQ(Options().row_cache_bytes, Options::kAutoRowCacheBytes);
  Open();
  EXPECT_EQ(Prop("ringdb.row_cache.adaptive"), 1u);
  EXPECT_EQ(Prop("ringdb.pool.bytes"), kBudget);
  Load(kKeys);
  Open();
  std::mt19937 rng(1);
  Until([&] { SkewedGet(&rng); },
        [&] { return Prop("ringdb.row_cache.capacity") >= kBudget / 4; },
        "skewed Gets should give the row cache a quarter of the budget");
  ExpectWithinBudget();
  EXPECT_GE(Prop("ringdb.row_cache.moves_to_rows"), 8u);
  // The row cache now answers most Gets. Its hot keys fit in the quarter,
  // so one more step would serve few Gets: it does not climb far.
  const uint64_t hits = Prop("ringdb.row_cache.hits");
  for (int i = 0; i < 20000; i++) SkewedGet(&rng);
  EXPECT_GT(Prop("ringdb.row_cache.hits") - hits, 10000u);
  EXPECT_LE(Prop("ringdb.row_cache.capacity"), kBudget / 4 + kBudget / 8);
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("ringdb.stats", &stats));
  // The share may stand a step or two above the quarter: a step climbs
  // on ghost hits left from the warm-up and falls back without them.
  EXPECT_NE(stats.find("split: adaptive; row cache 1."), std::string::npos) << stats;

  Until([&] { UniformMultiGet(&rng); },
        [&] { return Prop("ringdb.row_cache.capacity") == 0; },
        "MultiGet should give the row cache's memory back to the pool");
  ExpectWithinBudget();
  EXPECT_EQ(Prop("ringdb.pool.bytes"), kBudget);
  EXPECT_EQ(Prop("ringdb.row_cache.entries"), 0u);
}

// Half the Gets on 1,000 hot keys, 40% on 8,000 warm ones (together about
// 1.9 MiB of pairs, more than the quarter's 1 MiB), all spread over the key
// space: once the hot keys take the row cache to a quarter, one more step
// keeps serving warm Gets that would read the device, so the share climbs
// past the quarter, up to three quarters, and the Gets read the device
// less.
TEST_F(CacheSplitTest, HotKeysBeyondAQuarterTakeMore) {
  Open();
  Load(kKeys);
  Open();
  std::mt19937 rng(5);
  auto wide_get = [&] {
    const uint32_t r = rng() % 10;
    const int k = r < 5   ? static_cast<int>((rng() % 1000) * 59 % kKeys)
                  : r < 9 ? static_cast<int>(((rng() % 8000) * 59 + 13) % kKeys)
                          : static_cast<int>(rng() % kKeys);
    std::string v;
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(k), &v).ok());
  };
  Until(wide_get, [&] { return Prop("ringdb.row_cache.capacity") >= kBudget / 4; },
        "skewed Gets should give the row cache a quarter of the budget");
  // Reads per Get at the quarter, over the next Gets (the share may
  // already climb during them).
  uint64_t reads = Prop("ringdb.pool.misses");
  for (int i = 0; i < 4000; i++) wide_get();
  const uint64_t at_quarter = Prop("ringdb.pool.misses") - reads;
  Until(wide_get, [&] { return Prop("ringdb.row_cache.capacity") >= kBudget / 2; },
        "hot keys beyond the quarter should take the row cache past it");
  for (int i = 0; i < 20000; i++) wide_get();
  ExpectWithinBudget();
  EXPECT_LE(Prop("ringdb.row_cache.capacity"), kBudget / 4 * 3);
  reads = Prop("ringdb.pool.misses");
  for (int i = 0; i < 4000; i++) wide_get();
  const uint64_t beyond = Prop("ringdb.pool.misses") - reads;
  EXPECT_LT(beyond, at_quarter) << "the larger row cache should save device reads";

  // MultiGet gives it all back.
  Until([&] { UniformMultiGet(&rng); },
        [&] { return Prop("ringdb.row_cache.capacity") == 0; },
        "MultiGet should give the row cache's memory back to the pool");
  ExpectWithinBudget();
}

TEST_F(CacheSplitTest, UniformGetsNeverStartIt) {
  Open();
  Load(kKeys);
  Open();
  std::mt19937 rng(2);
  const uint64_t start = Prop("ringdb.row_cache.misses");
  // Enough Gets for many windows once the pool evicts.
  Until([&] {
          const int k = static_cast<int>(rng() % kKeys);
          std::string v;
          ASSERT_TRUE(db_->Get(ReadOptions(), Key(k), &v).ok());
        },
        [&] { return Prop("ringdb.row_cache.misses") - start > 30000; },
        "Gets should look at the row cache once the pool evicts");
  EXPECT_EQ(Prop("ringdb.row_cache.moves_to_rows"), 0u);
  EXPECT_EQ(Prop("ringdb.row_cache.capacity"), 0u);
  ExpectWithinBudget();
}

TEST_F(CacheSplitTest, DataThatFitsLeavesItOff) {
  Open();
  Load(5000);  // about 0.6 MiB
  std::mt19937 rng(3);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1000; i++) {
      std::string v;
      ASSERT_TRUE(db_->Get(ReadOptions(), Key(static_cast<int>(rng() % 5000)), &v).ok());
    }
  }
  EXPECT_EQ(Prop("ringdb.pool.evictions"), 0u);
  EXPECT_EQ(Prop("ringdb.row_cache.hits") + Prop("ringdb.row_cache.misses"), 0u)
      << "Get should not look at the row cache while the pool does not evict";
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("ringdb.stats", &stats));
  EXPECT_NE(stats.find("(off: the pool does not evict)"), std::string::npos) << stats;
  ExpectWithinBudget();
}

TEST_F(CacheSplitTest, SetBufferPoolBytesSetsTheWholeBudget) {
  Open();
  Load(kKeys);
  Open();
  std::mt19937 rng(4);
  Until([&] { SkewedGet(&rng); },
        [&] { return Prop("ringdb.row_cache.capacity") >= kBudget / 4; },
        "skewed Gets should give the row cache a quarter of the budget");
  // An eighth of the budget: the row cache keeps at most three quarters
  // of it.
  ASSERT_TRUE(db_->SetBufferPoolBytes(kBudget / 8).ok());
  ExpectWithinBudget(kBudget / 8);
  EXPECT_LE(Prop("ringdb.row_cache.capacity"), kBudget / 8 / 4 * 3);
  for (int i = 0; i < 5000; i++) SkewedGet(&rng);
  ExpectWithinBudget(kBudget / 8);
  EXPECT_LE(Prop("ringdb.row_cache.capacity"), kBudget / 8 / 4 * 3);
  ASSERT_TRUE(db_->SetBufferPoolBytes(kBudget).ok());
  ExpectWithinBudget();
  EXPECT_FALSE(db_->SetBufferPoolBytes(2 * kBudget).ok()) << "beyond the reserved maximum";
  ExpectWithinBudget();
}

TEST_F(CacheSplitTest, ASmallPoolHasNoRowCache) {
  options_.buffer_pool_bytes = 256 * 4096;
  Open();
  EXPECT_EQ(Prop("ringdb.row_cache.adaptive"), 0u);
  Load(20000);
  std::string v;
  for (int i = 0; i < 3000; i++) ASSERT_TRUE(db_->Get(ReadOptions(), Key(i % 100), &v).ok());
  EXPECT_EQ(Prop("ringdb.row_cache.hits") + Prop("ringdb.row_cache.misses"), 0u);
  EXPECT_EQ(Prop("ringdb.pool.bytes"), 256u * 4096);
}

// A writer changes hot keys (puts, deletes, batches) while readers run
// skewed Gets and MultiGet bursts in turn, so the split moves memory both
// ways under them: a Get with no write to its key in between must see
// exactly that key's state.
TEST_F(CacheSplitTest, GetsNeverSeeAReplacedValueWhileTheSplitMoves) {
  options_.checkpoint_log_bytes = 1 << 20;
  Open();
  constexpr int kN = 60000;
  test::KeyStates states = NewStates(kN);
  Load(kN, 1);
  // The readers' hot keys, and among them the 64 the writer changes: their
  // leaves stay cached, so the writer adds no device reads (the split
  // weighs the Gets' share of them), while the readers race it on them.
  auto hot = [](uint32_t r) { return static_cast<int>((r % 1500) * 37 % kN); };
  auto written = [&hot](uint32_t r) { return hot((r % 64) * 23); };
  auto add = [](WriteBatch* b, int key, uint32_t next) {
    if (test::KeyStates::Present(next)) {
      b->Put(Key(key), Value(key, static_cast<int>(next)));
    } else {
      b->Delete(Key(key));
    }
  };
  test::FirstError err;
  std::atomic<bool> skewed{true};
  std::thread writer([&] {
    std::mt19937 rng(11);
    while (!err.stopped()) {
      const int k = written(rng());
      int k2 = rng() % 8 == 0 ? written(rng()) : -1;
      if (k2 == k) k2 = -1;
      WriteBatch b;
      const uint32_t n1 = states.BeginWrite(k);
      add(&b, k, n1);
      const uint32_t n2 = k2 >= 0 ? states.BeginWrite(k2) : 0;
      if (k2 >= 0) add(&b, k2, n2);
      Status s = db_->Write(WriteOptions(), &b);
      if (!s.ok()) return err.Fail("write: " + s.ToString());
      states.Publish(k, n1);
      if (k2 >= 0) states.Publish(k2, n2);
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; t++) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      while (!err.stopped()) {
        if (!skewed.load()) {
          std::vector<std::string> keys;
          for (int i = 0; i < 16; i++) keys.push_back(Key(static_cast<int>(rng() % kN)));
          std::vector<std::string_view> views(keys.begin(), keys.end());
          std::vector<std::string> values;
          for (const Status& s : db_->MultiGet(ReadOptions(), views, &values)) {
            if (!s.ok() && !s.IsNotFound()) err.Fail("MultiGet: " + s.ToString());
          }
          continue;
        }
        const uint32_t pick = rng() % 10;
        const int k = pick < 3   ? written(rng())
                      : pick < 9 ? hot(rng())
                                 : static_cast<int>(rng() % kN);
        CheckedGet(states, k, &err);
      }
    });
  }
  // Skewed until the row cache took memory, then MultiGet until it gave
  // some back, twice; bounded by a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto wait = [&](const std::function<bool()>& done) {
    while (!done() && !err.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  // At least 3 s in all, so the readers and the writer meet often enough.
  const auto min_end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (int round = 1; round <= 2; round++) {
    skewed = true;
    wait([&] { return Prop("ringdb.row_cache.moves_to_rows") >= 4u * round; });
    skewed = false;
    wait([&] { return Prop("ringdb.row_cache.moves_to_pool") >= 2u * round; });
  }
  skewed = true;
  wait([&] { return std::chrono::steady_clock::now() >= min_end; });
  err.Stop();
  writer.join();
  for (auto& r : readers) r.join();
  ASSERT_EQ(err.error(), "");
  EXPECT_GE(Prop("ringdb.row_cache.moves_to_rows"), 8u);
  EXPECT_GE(Prop("ringdb.row_cache.moves_to_pool"), 4u);
  EXPECT_GT(Prop("ringdb.row_cache.hits"), 0u);
  ExpectWithinBudget();
  ExpectAllMatch(states, kN);
  std::string report;
  Status verified = db_->Verify(&report);
  ASSERT_TRUE(verified.ok()) << verified.ToString() << "\n" << report;
}

// The split turns off (the pool stopped evicting: Gets stopped looking,
// writers stopped marking their keys) and on again (writers mark again,
// the unmarked writes are waited out, older tickets refused) while a
// writer changes keys that readers read throughout: no Get may return a
// replaced value across the turns.
TEST_F(CacheSplitTest, GetsStayCurrentAsTheSplitTurnsOffAndOn) {
  Open();
  constexpr int kN = 60000;
  constexpr int kSmall = 300;  // the keys read and written while it is off
  test::KeyStates states = NewStates(kN);
  Load(kN, 1);
  test::FirstError err;
  std::atomic<bool> wide{true};
  std::thread writer([&] {
    std::mt19937 rng(21);
    while (!err.stopped()) {
      const int k = static_cast<int>(rng() % kSmall);
      const uint32_t next = states.BeginWrite(k);
      Status s = test::KeyStates::Present(next)
                     ? db_->Put(WriteOptions(), Key(k), Value(k, static_cast<int>(next)))
                     : db_->Delete(WriteOptions(), Key(k));
      if (!s.ok()) return err.Fail("write: " + s.ToString());
      states.Publish(k, next);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; t++) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(200 + t);
      while (!err.stopped()) {
        // Wide: half the Gets anywhere (the pool evicts); narrow: only the
        // small range, which the pool holds.
        const int k = wide.load() && rng() % 2 == 0 ? static_cast<int>(rng() % kN)
                                                    : static_cast<int>(rng() % kSmall);
        CheckedGet(states, k, &err);
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  auto wait_on = [&](uint64_t want) {
    while (Prop("ringdb.row_cache.on") != want && !err.stopped() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Prop("ringdb.row_cache.on") == want;
  };
  int turns = 0;
  for (int round = 0; round < 2; round++) {
    wide = true;
    if (!wait_on(1)) break;
    turns++;
    wide = false;
    if (!wait_on(0)) break;
    turns++;
  }
  err.Stop();
  writer.join();
  for (auto& r : readers) r.join();
  ASSERT_EQ(err.error(), "");
  EXPECT_EQ(turns, 4) << "the split should have turned on and off twice";
  ExpectAllMatch(states, kN);
}

}  // namespace db_cache_split_test
}  // namespace ringdb
