// The idle compactor (Options::idle_compact_ms) and DB::CompactIfSparse:
// after a load of random keys, once writes stop, the leaves are packed and
// the file shrinks without a call; a dense tree is left alone; a write that
// arrives stops the compaction between two steps; readers, iterators and
// writers go on beside it.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "engine/db_impl.h"
#include "ringdb/db.h"
#include "tests/util/db_figures.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_idle_compact_test {

using test::FillFigure;
using test::Key;
using test::MixedValue;
using test::Prop;
using test::Shuffled;

double DoubleProp(DB* db, const char* name) {
  std::string v;
  EXPECT_TRUE(db->GetProperty(name, &v)) << name;
  return std::strtod(v.c_str(), nullptr);
}

// Polls `done` until it holds or 60 s pass (a loaded machine may be slow:
// the wait ends as soon as it holds).
template <typename Pred>
bool WaitFor(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class IdleCompactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 256 * 4096;
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
    options_.idle_compact_min_bytes = 0;  // the test trees are a few MiB
  }
  void Load(DB* db, const std::vector<int>& order) {
    for (int i : order) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), MixedValue(i)).ok());
  }
  // Opens dir_ with options_ and puts the keys in `order`.
  void OpenAndLoad(const std::vector<int>& order, std::unique_ptr<DB>* db) {
    ASSERT_TRUE(DB::Open(options_, dir_, db).ok());
    ASSERT_NO_FATAL_FAILURE(Load(db->get(), order));
  }
  void CheckAll(DB* db, int n, const char* when) {
    std::string report;
    ASSERT_TRUE(db->Verify(&report).ok()) << when << ": " << report;
    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    int i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), i++) {
      ASSERT_EQ(it->key(), Key(i)) << when;
      ASSERT_EQ(it->value(), MixedValue(i)) << when;
    }
    ASSERT_TRUE(it->status().ok()) << when;
    ASSERT_EQ(i, n) << when;
  }

  test::TempDir tmp_{"idle_compact"};
  std::string dir_;
  Options options_;
};

TEST_F(IdleCompactTest, PacksARandomLoadOnceWritesStop) {
  options_.idle_compact_ms = 50;
  std::unique_ptr<DB> db;
  const int n = 12000;
  ASSERT_NO_FATAL_FAILURE(OpenAndLoad(Shuffled(n, 3), &db));
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_compactions") >= 1; }))
      << "no idle compaction within 60 s";
  const double sampled = DoubleProp(db.get(), "ringdb.compact.sampled_leaf_fill");
  EXPECT_LT(sampled, 0.9) << "the sample that started it";
  EXPECT_GE(FillFigure(db.get(), "leaf_fill"), 0.95);
  EXPECT_LE(Prop(db.get(), "ringdb.store.file_bytes"),
            (Prop(db.get(), "ringdb.store.live_pages") + 16) * 4096);
  ASSERT_NO_FATAL_FAILURE(CheckAll(db.get(), n, "after the idle compaction"));
  // Packed: the next samples find the tree dense and start nothing.
  std::string stats;
  ASSERT_TRUE(db->GetProperty("ringdb.stats", &stats));
  EXPECT_NE(stats.find("pack:  idle compactor after 50 ms without writes"), std::string::npos)
      << stats;
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  ASSERT_NO_FATAL_FAILURE(CheckAll(db.get(), n, "reopened"));
  ASSERT_TRUE(db->Close().ok());
}

// Packed leaves split at the first inserts: a few percent of new keys make
// the sample sparse again, but compacting the whole tree for them would
// write it three times over for a little data. The next compaction waits
// for writes of half the leaves' bytes.
TEST_F(IdleCompactTest, ASmallBurstAfterACompactionDoesNotRewriteTheTree) {
  options_.idle_compact_ms = 20;
  std::unique_ptr<DB> db;
  const int n = 12000;
  ASSERT_NO_FATAL_FAILURE(OpenAndLoad(Shuffled(n, 7), &db));
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_compactions") >= 1; }));
  const double packed = FillFigure(db.get(), "leaf_fill");
  // 3% new keys, each between two old ones: about half the packed leaves
  // split.
  for (int i : Shuffled(n, 8)) {
    if (i % 33 == 0) {
      ASSERT_TRUE(db->Put(WriteOptions(), Key(i) + "x", MixedValue(i)).ok());
    }
  }
  const uint64_t checks = Prop(db.get(), "ringdb.compact.sparse_checks");
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_checks") > checks; }));
  const double sampled = DoubleProp(db.get(), "ringdb.compact.sampled_leaf_fill");
  std::printf("leaf fill packed %.3f, after the burst %.3f (sampled %.3f)\n", packed,
              FillFigure(db.get(), "leaf_fill"), sampled);
  EXPECT_LT(sampled, 0.9) << "the burst did not make the tree sparse: the test shows nothing";
  EXPECT_EQ(Prop(db.get(), "ringdb.compact.sparse_deferred"), 1u);
  EXPECT_EQ(Prop(db.get(), "ringdb.compact.sparse_compactions"), 1u)
      << "a burst of 3% new keys rewrote the tree";
  // New keys of more than half the leaves' bytes (the tree triples):
  // compacted.
  for (int i : Shuffled(n, 9)) {
    ASSERT_TRUE(db->Put(WriteOptions(), Key(i) + "y", MixedValue(i)).ok());
    ASSERT_TRUE(db->Put(WriteOptions(), Key(i) + "z", MixedValue(i)).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_compactions") >= 2; }));
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(IdleCompactTest, LeavesADenseTreeAloneAndSamplesItOnce) {
  options_.idle_compact_ms = 20;
  std::unique_ptr<DB> db;
  std::vector<int> in_order(12000);
  std::iota(in_order.begin(), in_order.end(), 0);
  ASSERT_NO_FATAL_FAILURE(OpenAndLoad(in_order, &db));  // appends: leaves about 95% full
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_checks") >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // 15 idle periods
  EXPECT_EQ(Prop(db.get(), "ringdb.compact.sparse_checks"), 1u) << "sampled again without writes";
  EXPECT_EQ(Prop(db.get(), "ringdb.compact.sparse_compactions"), 0u);
  EXPECT_GE(DoubleProp(db.get(), "ringdb.compact.sampled_leaf_fill"), 0.9);
  // A write makes it look again after the next idle period.
  ASSERT_TRUE(db->Put(WriteOptions(), Key(5), MixedValue(5)).ok());
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_checks") >= 2; }));
  ASSERT_TRUE(db->Close().ok());
}

TEST_F(IdleCompactTest, OffMeansOffAndBadFillIsRefused) {
  options_.idle_compact_ms = 0;
  std::unique_ptr<DB> db;
  ASSERT_NO_FATAL_FAILURE(OpenAndLoad(Shuffled(6000, 4), &db));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Prop(db.get(), "ringdb.compact.sparse_checks"), 0u);
  std::string stats;
  ASSERT_TRUE(db->GetProperty("ringdb.stats", &stats));
  EXPECT_NE(stats.find("pack:  idle compactor off"), std::string::npos) << stats;
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  for (double bad : {-0.1, 1.5}) {
    Options o = options_;
    o.idle_compact_fill = bad;
    Status s = DB::Open(o, dir_, &db);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_NE(s.ToString().find("idle_compact_fill"), std::string::npos) << s.ToString();
  }
}

TEST_F(IdleCompactTest, CompactIfSparseCompactsOnlyWhatIsSparse) {
  options_.idle_compact_ms = 0;  // only the explicit calls
  std::unique_ptr<DB> db;
  const int n = 12000;
  ASSERT_NO_FATAL_FAILURE(OpenAndLoad(Shuffled(n, 5), &db));
  EXPECT_LT(FillFigure(db.get(), "leaf_fill"), 0.9);
  const uint64_t live_before = Prop(db.get(), "ringdb.store.live_pages");
  // Below the minimum size: nothing, though sparse.
  {
    std::unique_ptr<DB> other;
    ASSERT_TRUE(db->Close().ok());
    Options big = options_;
    big.idle_compact_min_bytes = 1ull << 40;
    ASSERT_TRUE(DB::Open(big, dir_, &other).ok());
    bool compacted = true;
    ASSERT_TRUE(other->CompactIfSparse(&compacted).ok());
    EXPECT_FALSE(compacted);
    EXPECT_EQ(Prop(other.get(), "ringdb.compact.sparse_checks"), 1u);
    ASSERT_TRUE(other->Close().ok());
    ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  }
  bool compacted = false;
  ASSERT_TRUE(db->CompactIfSparse(&compacted).ok());
  EXPECT_TRUE(compacted);
  EXPECT_GE(FillFigure(db.get(), "leaf_fill"), 0.95);
  EXPECT_LT(Prop(db.get(), "ringdb.store.live_pages"), live_before);
  ASSERT_TRUE(db->CompactIfSparse(&compacted).ok());
  EXPECT_FALSE(compacted) << "a packed tree was compacted again";
  EXPECT_EQ(Prop(db.get(), "ringdb.compact.sparse_compactions"), 1u);
  ASSERT_NO_FATAL_FAILURE(CheckAll(db.get(), n, "after CompactIfSparse"));
  ASSERT_TRUE(db->Close().ok());
  // Read-only: refused, as Compact.
  Options ro = options_;
  ro.read_only = true;
  ASSERT_TRUE(DB::Open(ro, dir_, &db).ok());
  EXPECT_TRUE(db->CompactIfSparse(&compacted).IsInvalidArgument());
  ASSERT_TRUE(db->Close().ok());
}

// A write that arrives during an idle compaction stops it at the next step;
// the compactor tries again once writes stop and then finishes.
TEST_F(IdleCompactTest, AWriteStopsItAndItFinishesLater) {
  options_.idle_compact_ms = 30;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  const int n = 12000;
  std::atomic<int> packs{0};
  auto* impl = static_cast<DBImpl*>(db.get());
  impl->SetCompactStepHookForTest([&](std::string_view step) {
    if (step != "pack" || packs.fetch_add(1) != 3) return;
    // The fourth packing step: a write from another thread, which must go
    // through (the hook holds no lock) and stop the compaction.
    auto put = std::async(std::launch::async,
                          [&] { return db->Put(WriteOptions(), Key(7), MixedValue(7)); });
    if (put.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      std::fprintf(stderr, "FAILED: a write waited 30 s for the idle compaction\n");
      std::abort();
    }
    EXPECT_TRUE(put.get().ok());
  });
  // The hook is in place before the load: the first idle compaction meets it.
  ASSERT_NO_FATAL_FAILURE(Load(db.get(), Shuffled(n, 6)));
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.idle_stops") >= 1; }));
  ASSERT_TRUE(WaitFor([&] { return Prop(db.get(), "ringdb.compact.sparse_compactions") >= 1; }));
  impl->SetCompactStepHookForTest(nullptr);
  EXPECT_GE(FillFigure(db.get(), "leaf_fill"), 0.95);
  ASSERT_NO_FATAL_FAILURE(CheckAll(db.get(), n, "after a stopped and a whole compaction"));
  ASSERT_TRUE(db->Close().ok());
}

// Readers, iterators and a writer (puts and deletes, in bursts with pauses,
// so the compactor starts between them and is stopped by the next burst)
// against a model: a Get sees the newest write that finished before it
// began, or a later one; a scan sees keys in order with their own values.
// The compactor runs at every pause (fill threshold 1: always sparse).
TEST_F(IdleCompactTest, ReadersAndWritersBesideIt) {
  options_.idle_compact_ms = 2;
  options_.idle_compact_fill = 1.0;
  options_.buffer_pool_bytes = 64 * 4096;  // evictions during the compaction
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  const int n = 4000;
  // model[k]: the number of the last finished op on k, negative for a delete
  // (0: never written). Versions start at 1 and grow.
  // pending[k]: the op on k under way (same sign rule), 0 when none: a
  // write is visible to readers before it returns.
  std::vector<std::atomic<int64_t>> model(n), pending(n);
  for (auto& m : model) m.store(0);
  for (auto& p : pending) p.store(0);
  auto value_of = [](int k, int64_t version) {
    return Key(k) + "#" + std::to_string(version) + std::string(60 + k % 90, 'v');
  };
  auto version_in = [](const std::string& v, int k, int64_t* version) {
    const std::string head = Key(k) + "#";
    if (v.compare(0, head.size(), head) != 0) return false;
    *version = std::strtoll(v.c_str() + head.size(), nullptr, 10);
    return true;
  };
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& why) {
    if (failures.fetch_add(1) < 5) ADD_FAILURE() << why;
  };
  std::thread writer([&] {
    std::mt19937_64 rng(9);
    int64_t version = 0;
    for (int burst = 0; burst < 30 && failures.load() == 0; burst++) {
      for (int j = 0; j < 200; j++) {
        const int k = static_cast<int>(rng() % n);
        ++version;
        Status s;
        if (rng() % 5 == 0) {
          pending[k].store(-version);
          s = db->Delete(WriteOptions(), Key(k));
          if (s.ok()) model[k].store(-version);
        } else {
          pending[k].store(version);
          s = db->Put(WriteOptions(), Key(k), value_of(k, version));
          if (s.ok()) model[k].store(version);
        }
        pending[k].store(0);
        if (!s.ok()) fail("write: " + s.ToString());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + burst % 20));
    }
    done.store(true);
  });
  auto reader = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    while (!done.load() && failures.load() == 0) {
      const int k = static_cast<int>(rng() % n);
      const int64_t before = model[k].load();
      std::string v;
      Status s = db->Get(ReadOptions(), Key(k), &v);
      const int64_t after = model[k].load();
      const int64_t under_way = pending[k].load();
      if (s.ok()) {
        int64_t got = 0;
        if (!version_in(v, k, &got)) {
          fail("key " + std::to_string(k) + " holds another key's value");
        } else if (got < std::abs(before)) {
          fail("key " + std::to_string(k) + ": version " + std::to_string(got) +
               " older than the write before the read, " + std::to_string(before));
        }
      } else if (s.IsNotFound()) {
        // Missing is right when it was deleted (or never written) before
        // the read, or a delete finished or is under way since.
        if (before > 0 && after == before && under_way >= 0) {
          fail("key " + std::to_string(k) + " lost its version " + std::to_string(before));
        }
      } else {
        fail("get: " + s.ToString());
      }
    }
  };
  auto scanner = [&] {
    while (!done.load() && failures.load() == 0) {
      std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
      std::string last;
      int seen = 0;
      for (it->SeekToFirst(); it->Valid() && seen < 1500; it->Next(), seen++) {
        const std::string key(it->key());
        if (!last.empty() && key <= last) fail("scan out of order: " + last + " then " + key);
        const int k = std::atoi(key.c_str() + 1);
        int64_t got;
        if (!version_in(std::string(it->value()), k, &got)) {
          fail("scan: " + key + " holds another key's value");
        }
        last = key;
      }
      if (!it->status().ok()) fail("scan: " + it->status().ToString());
    }
  };
  std::thread r1(reader, 1), r2(reader, 2), s1(scanner);
  writer.join();
  r1.join();
  r2.join();
  s1.join();
  ASSERT_EQ(failures.load(), 0);
  // Let the last pause's compaction finish, then check every key.
  ASSERT_TRUE(db->CompactIfSparse().ok());
  std::string report;
  ASSERT_TRUE(db->Verify(&report).ok()) << report;
  for (int k = 0; k < n; k++) {
    std::string v;
    Status s = db->Get(ReadOptions(), Key(k), &v);
    const int64_t m = model[k].load();
    if (m > 0) {
      ASSERT_TRUE(s.ok()) << k << ": " << s.ToString();
      EXPECT_EQ(v, value_of(k, m));
    } else {
      EXPECT_TRUE(s.IsNotFound()) << k;
    }
  }
  std::printf("idle compactions %llu, stopped by writes %llu\n",
              (unsigned long long)Prop(db.get(), "ringdb.compact.sparse_compactions"),
              (unsigned long long)Prop(db.get(), "ringdb.compact.idle_stops"));
  EXPECT_GE(Prop(db.get(), "ringdb.compact.sparse_compactions") +
                Prop(db.get(), "ringdb.compact.idle_stops"),
            2u)
      << "the compactor hardly ran beside the workload";
  ASSERT_TRUE(db->Close().ok());
}

// The sample of 64 leaves (random descents) estimates the walk's mean fill.
TEST_F(IdleCompactTest, SampledFillEstimatesTheWalkedFill) {
  options_.idle_compact_ms = 0;
  options_.idle_compact_min_bytes = 1ull << 40;  // sample only
  std::unique_ptr<DB> db;
  ASSERT_NO_FATAL_FAILURE(OpenAndLoad(Shuffled(12000, 5), &db));
  const double walked = FillFigure(db.get(), "leaf_fill");
  constexpr int kRounds = 16;  // each a sample of 64 with its own seed
  double sum = 0;
  for (int i = 0; i < kRounds; i++) {
    ASSERT_TRUE(db->CompactIfSparse().ok());
    sum += DoubleProp(db.get(), "ringdb.compact.sampled_leaf_fill");
  }
  // One sample's standard deviation is about 0.018 here; the mean of 16,
  // about 0.005.
  std::printf("leaf fill walked %.4f, sampled (mean of %d samples of 64) %.4f\n", walked, kRounds,
              sum / kRounds);
  EXPECT_NEAR(sum / kRounds, walked, 0.02);
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace db_idle_compact_test
}  // namespace ringdb
