// The row cache (engine/row_cache.h): hot pairs for DB::Get beside the
// pool. The unit tests pin down its bound and its fill tickets; the DB
// tests check, through the properties, that Gets really were answered from
// it, and that no Get ever returns a value a write replaced: after puts,
// deletes, batches, range deletes, buffered deletes, checkpoints and a
// reopen, at a snapshot, and with a writer racing readers on a 16-page pool.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "engine/delete_buffer.h"
#include "engine/row_cache.h"
#include "tests/util/key_states.h"
#include "tests/util/temp_dir.h"
#include "ringdb/db.h"
#include "ringdb/write_batch.h"

namespace ringdb {
namespace db_row_cache_test {

TEST(RowCacheUnitTest, MissFillHit) {
  RowCache rows(1 << 20);
  std::string v;
  RowCache::Ticket t;
  EXPECT_FALSE(rows.Lookup("a", &v, &t));
  EXPECT_TRUE(t.valid);
  rows.Fill("a", "1", t);
  ASSERT_TRUE(rows.Lookup("a", &v, &t));
  EXPECT_EQ(v, "1");
  RowCache::Stats s = rows.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.fills, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, 2 + RowCache::kEntryOverhead);
}

TEST(RowCacheUnitTest, AWriteBetweenMissAndFillRefusesTheFill) {
  RowCache rows(1 << 20);
  std::string v;
  RowCache::Ticket t;
  ASSERT_FALSE(rows.Lookup("a", &v, &t));
  RowCache::Writes w;
  rows.BeginWrite("a", &w);
  rows.EndWrites(w);
  rows.Fill("a", "old", t);  // read before the write: must not be kept
  EXPECT_FALSE(rows.Lookup("a", &v, &t));
  EXPECT_EQ(rows.stats().refused, 1u);
}

TEST(RowCacheUnitTest, NoFillWhileAWriteIsInProgress) {
  RowCache rows(1 << 20);
  std::string v;
  RowCache::Ticket t;
  RowCache::Writes w;
  rows.BeginWrite("a", &w);
  ASSERT_FALSE(rows.Lookup("a", &v, &t));
  EXPECT_FALSE(t.valid);
  rows.Fill("a", "half", t);
  rows.EndWrites(w);
  EXPECT_FALSE(rows.Lookup("a", &v, &t));
  rows.Fill("a", "new", t);
  ASSERT_TRUE(rows.Lookup("a", &v, &t));
  EXPECT_EQ(v, "new");
}

TEST(RowCacheUnitTest, BeginWriteDropsTheEntry) {
  RowCache rows(1 << 20);
  std::string v;
  RowCache::Ticket t;
  ASSERT_FALSE(rows.Lookup("a", &v, &t));
  rows.Fill("a", "1", t);
  RowCache::Writes w;
  rows.BeginWrite("a", &w);
  EXPECT_FALSE(rows.Lookup("a", &v, &t));
  rows.EndWrites(w);
  EXPECT_FALSE(rows.Lookup("a", &v, &t));
  EXPECT_EQ(rows.stats().entries, 0u);
  EXPECT_EQ(rows.stats().bytes, 0u);
}

TEST(RowCacheUnitTest, StaysWithinItsCapacityAndKeepsRecentPairs) {
  const uint64_t capacity = 64 << 10;
  RowCache rows(capacity);
  const std::string value(100, 'x');
  std::string v;
  for (int i = 0; i < 5000; i++) {
    const std::string k = "key" + std::to_string(i);
    RowCache::Ticket t;
    if (!rows.Lookup(k, &v, &t)) rows.Fill(k, value, t);
    // key0 is read after every fill: LRU keeps it.
    if (!rows.Lookup("key0", &v, &t)) rows.Fill("key0", value, t);
    ASSERT_LE(rows.stats().bytes, capacity);
  }
  RowCache::Stats s = rows.stats();
  EXPECT_GT(s.evictions, 4000u);
  EXPECT_GT(s.bytes, capacity / 2);
  RowCache::Ticket t;
  EXPECT_TRUE(rows.Lookup("key0", &v, &t));
  EXPECT_FALSE(rows.Lookup("key1", &v, &t));
}

// The bound counts what the heap really holds: 16-byte keys, 100-byte
// values, as in ringdb_bench.
TEST(RowCacheUnitTest, CountedBytesCoverTheHeap) {
  RowCache rows(1ull << 30);
  const struct mallinfo2 before = mallinfo2();
  constexpr int kN = 50000;
  const std::string value(100, 'x');
  for (int i = 0; i < kN; i++) {
    char k[32];
    std::snprintf(k, sizeof(k), "%016d", i);
    std::string v;
    RowCache::Ticket t;
    ASSERT_FALSE(rows.Lookup(k, &v, &t));
    rows.Fill(k, value, t);
  }
  const struct mallinfo2 after = mallinfo2();
  if (after.uordblks <= before.uordblks) GTEST_SKIP() << "mallinfo2 does not count (sanitizer)";
  const double heap = static_cast<double>(after.uordblks - before.uordblks) / kN;
  const double counted = static_cast<double>(rows.stats().bytes) / kN;
  EXPECT_LE(heap, counted) << "kEntryOverhead undercounts";
  EXPECT_GE(heap, counted - 24) << "kEntryOverhead overcounts by much";
}

// The index (open addressing, deletions shifting entries back, CLOCK
// eviction, tables growing and shrinking with SetCapacity) against a model:
// a hit returns the value last filled for the key, a key dropped by a
// write misses, and every pair the stats count can be found.
TEST(RowCacheUnitTest, IndexMatchesAModelThroughEvictionsErasesAndResizes) {
  RowCache rows(1 << 20, /*adjustable=*/true);
  std::map<std::string, std::string> filled;  // what a hit may return
  std::mt19937 rng(7);
  std::string v;
  const uint64_t capacities[] = {0, 64 << 10, 256 << 10, 1 << 20, 4 << 20};
  for (int op = 0; op < 300000; op++) {
    const std::string k = "k" + std::to_string(rng() % 20000);
    const uint32_t r = rng() % 100;
    RowCache::Ticket t;
    if (r < 70) {
      if (rows.Lookup(k, &v, &t)) {
        auto it = filled.find(k);
        ASSERT_TRUE(it != filled.end()) << k << " hit without a fill";
        ASSERT_EQ(v, it->second) << k;
      } else {
        const std::string value = "v" + std::to_string(op) + std::string(rng() % 100, 'x');
        rows.Fill(k, value, t);
        filled[k] = value;
      }
    } else if (r < 99) {
      RowCache::Writes w;
      rows.BeginWrite(k, &w);
      rows.EndWrites(w);
      filled.erase(k);
      ASSERT_FALSE(rows.Lookup(k, &v, &t)) << k << " hit after a write dropped it";
    } else if (rng() % 50 == 0) {
      rows.SetCapacity(capacities[rng() % 5]);
    }
    ASSERT_LE(rows.stats().bytes, rows.capacity());
  }
  rows.SetCapacity(4 << 20);
  uint64_t found = 0;
  for (int i = 0; i < 20000; i++) {
    RowCache::Ticket t;
    const std::string k = "k" + std::to_string(i);
    if (rows.Lookup(k, &v, &t)) {
      found++;
      ASSERT_EQ(v, filled.at(k));
    }
  }
  EXPECT_EQ(found, rows.stats().entries);
  EXPECT_GT(found, 1000u);
}

// Tables beyond 2^16 slots find a moved pair's home from its key rather
// than its tag: 1.2 M pairs (75 k a shard), a third dropped, the rest found.
TEST(RowCacheUnitTest, LargeTablesFindEveryPair) {
  RowCache rows(1ull << 30);
  constexpr int kN = 1200000;
  std::string v;
  char k[16];
  for (int i = 0; i < kN; i++) {
    std::snprintf(k, sizeof(k), "%07d", i);
    RowCache::Ticket t;
    ASSERT_FALSE(rows.Lookup(k, &v, &t));
    rows.Fill(k, "v", t);
  }
  ASSERT_EQ(rows.stats().entries, static_cast<uint64_t>(kN));
  for (int i = 0; i < kN; i += 3) {
    std::snprintf(k, sizeof(k), "%07d", i);
    RowCache::Writes w;
    rows.BeginWrite(k, &w);
    rows.EndWrites(w);
  }
  uint64_t found = 0;
  for (int i = 0; i < kN; i++) {
    std::snprintf(k, sizeof(k), "%07d", i);
    RowCache::Ticket t;
    const bool hit = rows.Lookup(k, &v, &t);
    ASSERT_EQ(hit, i % 3 != 0) << k;
    found += hit ? 1 : 0;
  }
  EXPECT_EQ(found, rows.stats().entries);
}

TEST(RowCacheUnitTest, OffAndOversizedPairsAreNotCached) {
  RowCache off(0);
  std::string v;
  RowCache::Ticket t;
  EXPECT_FALSE(off.Lookup("a", &v, &t));
  off.Fill("a", "1", t);
  RowCache::Writes w;
  off.BeginWrite("a", &w);
  off.EndWrites(w);
  EXPECT_FALSE(off.Lookup("a", &v, &t));
  EXPECT_EQ(off.stats().entries, 0u);

  RowCache small(16 << 10);  // shards of 1 KiB: a pair above 128 B is not kept
  ASSERT_FALSE(small.Lookup("big", &v, &t));
  small.Fill("big", std::string(200, 'b'), t);
  EXPECT_FALSE(small.Lookup("big", &v, &t));
  EXPECT_EQ(small.stats().fills, 0u);

  // A value over 64 KiB is not kept however large the cache; 64 KiB is.
  RowCache large(1ull << 30);
  ASSERT_FALSE(large.Lookup("huge", &v, &t));
  large.Fill("huge", std::string(65536, 'h'), t);
  EXPECT_FALSE(large.Lookup("huge", &v, &t));
  large.Fill("huge", std::string(65535, 'h'), t);
  ASSERT_TRUE(large.Lookup("huge", &v, &t));
  EXPECT_EQ(v.size(), 65535u);
}

std::string Key(int i) { return test::NumberedKey(i); }
std::string Value(int i, int gen = 0) { return test::NumberedValue(i, gen); }

class RowCacheDBTest : public ::testing::TestWithParam<size_t> {
 protected:
  static constexpr int kKeys = 3000;  // about 100 leaves: more than the pool

  void SetUp() override {
    options_.io_backend = IoBackendKind::kPread;
    options_.buffer_pool_bytes = GetParam() * 4096;
    options_.lock_pool_memory = false;
    options_.auto_resume_interval_ms = 0;
    options_.row_cache_bytes = 1 << 20;  // every key fits
    options_.info_log = [](std::string_view) {};
    dir_ = tmp_.File("db");
  }
  void TearDown() override { db_.reset(); }

  void Open() {
    db_.reset();
    Status s = DB::Open(options_, dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Put(const std::string& k, const std::string& v) {
    ASSERT_TRUE(db_->Put(WriteOptions(), k, v).ok());
    model_[k] = v;
  }
  void Delete(const std::string& k) {
    ASSERT_TRUE(db_->Delete(WriteOptions(), k).ok());
    model_.erase(k);
  }
  uint64_t Prop(const std::string& name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::stoull(v);
  }
  // Gets every key (twice: the second from the cache) against the model.
  void CheckGets() {
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < kKeys + 10; i++) {
        std::string got;
        Status s = db_->Get(ReadOptions(), Key(i), &got);
        auto it = model_.find(Key(i));
        if (it == model_.end()) {
          ASSERT_TRUE(s.IsNotFound()) << Key(i) << ": " << s.ToString();
        } else {
          ASSERT_TRUE(s.ok()) << Key(i) << ": " << s.ToString();
          ASSERT_EQ(got, it->second) << Key(i);
        }
      }
    }
  }

  test::TempDir tmp_{"row_cache"};
  std::string dir_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
};

TEST_P(RowCacheDBTest, GetsMatchTheModelThroughEveryKindOfWrite) {
  Open();
  for (int i = 0; i < kKeys; i++) Put(Key(i), Value(i));
  CheckGets();
  const uint64_t hits = Prop("ringdb.row_cache.hits");
  EXPECT_GE(hits, static_cast<uint64_t>(kKeys)) << "the second pass should hit the cache";
  EXPECT_GT(Prop("ringdb.row_cache.entries"), static_cast<uint64_t>(kKeys / 2));
  std::mt19937 rng(7);
  for (int round = 0; round < 3; round++) {
    for (int n = 0; n < 400; n++) {
      const int k = static_cast<int>(rng() % kKeys);
      if (rng() % 3 == 0) {
        Delete(Key(k));
      } else {
        Put(Key(k), Value(k, round * 1000 + n));
      }
    }
    WriteBatch batch;  // a batch of puts and deletes
    for (int j = 0; j < 50; j++) {
      const int k = static_cast<int>(rng() % kKeys);
      if (j % 4 == 0) {
        batch.Delete(Key(k));
        model_.erase(Key(k));
      } else {
        batch.Put(Key(k), Value(k, 50000 + j));
        model_[Key(k)] = Value(k, 50000 + j);
      }
    }
    ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
    const int first = static_cast<int>(rng() % (kKeys - 100));
    ASSERT_TRUE(db_->DeleteRange(WriteOptions(), Key(first), Key(first + 60)).ok());
    model_.erase(model_.lower_bound(Key(first)), model_.lower_bound(Key(first + 60)));
    CheckGets();
    ASSERT_TRUE(db_->Checkpoint().ok());
    CheckGets();
  }
  EXPECT_GT(Prop("ringdb.row_cache.hits"), hits);
  Open();
  CheckGets();
}

// A key whose pair is cached but whose leaf is not: its delete goes to the
// delete buffer, not the tree, and must still drop the cached pair.
TEST_P(RowCacheDBTest, ABufferedDeleteDropsTheCachedPair) {
  options_.delete_buffer_bytes = 1 << 20;
  Open();
  for (int i = 0; i < kKeys; i++) Put(Key(i), Value(i));
  Open();  // cold pool
  for (int i = 0; i < kKeys; i += 10) {
    std::string got;
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &got).ok());
  }
  // Read the other keys: their leaves push the first ones out of the pool;
  // the cached pairs stay (the row cache holds every key).
  for (int i = 0; i < kKeys; i++) {
    std::string got;
    if (i % 10 == 0) continue;
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &got).ok());
  }
  const uint64_t buffered_before = Prop("ringdb.delete_buffer.buffered");
  for (int i = 0; i < kKeys; i += 10) Delete(Key(i));
  ASSERT_GT(Prop("ringdb.delete_buffer.buffered"), buffered_before + 20)
      << "some deletes should have been buffered";
  CheckGets();
  ASSERT_TRUE(db_->Checkpoint().ok());
  CheckGets();
}

TEST_P(RowCacheDBTest, SnapshotReadsDoNotUseTheCache) {
  Open();
  Put("k", "v1");
  const Snapshot* snap = db_->GetSnapshot();
  Put("k", "v2");
  std::string got;
  ASSERT_TRUE(db_->Get(ReadOptions(), "k", &got).ok());  // fills the cache with v2
  ASSERT_TRUE(db_->Get(ReadOptions(), "k", &got).ok());
  EXPECT_EQ(got, "v2");
  ReadOptions at;
  at.snapshot = snap;
  ASSERT_TRUE(db_->Get(at, "k", &got).ok());
  EXPECT_EQ(got, "v1");
  db_->ReleaseSnapshot(snap);
  EXPECT_GE(Prop("ringdb.row_cache.hits"), 1u);
}

TEST_P(RowCacheDBTest, OffWhenZero) {
  options_.row_cache_bytes = 0;
  Open();
  Put("k", "v");
  std::string got;
  for (int i = 0; i < 3; i++) ASSERT_TRUE(db_->Get(ReadOptions(), "k", &got).ok());
  EXPECT_EQ(Prop("ringdb.row_cache.hits"), 0u);
  EXPECT_EQ(Prop("ringdb.row_cache.entries"), 0u);
  EXPECT_EQ(Options().row_cache_bytes, Options::kAutoRowCacheBytes);
  std::string stats;
  ASSERT_TRUE(db_->GetProperty("ringdb.stats", &stats));
  EXPECT_NE(stats.find("rows:  off"), std::string::npos) << stats;
}

INSTANTIATE_TEST_SUITE_P(Pools, RowCacheDBTest, ::testing::Values(16, 64));

// One writer (puts, deletes, some buffered, and batches) and Get readers on
// a 16-page pool with a small row cache (pairs come and go): a Get with no
// write to its key in between must see exactly that key's state.
class RowCacheConcurrencyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RowCacheConcurrencyTest, GetsNeverSeeAReplacedValue) {
  test::TempDir tmp("row_cache");
  Options options;
  options.io_backend = IoBackendKind::kPread;
  options.buffer_pool_bytes = 16 * 4096;
  options.eviction_policy = GetParam();
  options.lock_pool_memory = false;
  options.row_cache_bytes = 64 << 10;
  options.delete_buffer_bytes = 64 * (DeleteBuffer::kEntryOverhead + 9);
  options.checkpoint_log_bytes = 256 << 10;
  options.info_log = [](std::string_view) {};
  constexpr int kN = 1500;
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options, tmp.File("db"), &db).ok());
  test::KeyStates states(kN, 1, Key,
                         [](int k, uint32_t gen) { return Value(k, static_cast<int>(gen)); });
  for (int i = 0; i < kN; i++) ASSERT_TRUE(db->Put(WriteOptions(), Key(i), Value(i, 1)).ok());
  // 64 hot keys spread over every leaf: their pairs stay in the row cache
  // while their leaves leave the pool, so some of their deletes are
  // buffered.
  auto hot = [](uint32_t r) { return static_cast<int>((r % 64) * 23 % kN); };
  auto add = [](WriteBatch* b, int key, uint32_t next) {
    if (test::KeyStates::Present(next)) {
      b->Put(Key(key), Value(key, static_cast<int>(next)));
    } else {
      b->Delete(Key(key));
    }
  };
  test::FirstError err;
  std::thread writer([&] {
    std::mt19937 rng(1);
    for (int n = 0; n < 15000 && !err.stopped(); n++) {
      // Mostly the hot keys, so that readers fill what the writer changes.
      const int k = rng() % 4 == 0 ? static_cast<int>(rng() % kN) : hot(rng());
      // Every sixteenth write is a batch of two keys, else one key.
      const int k2 = n % 16 == 15 ? (k + 1 + static_cast<int>(rng() % 100)) % kN : -1;
      WriteBatch b;
      const uint32_t n1 = states.BeginWrite(k);
      add(&b, k, n1);
      const uint32_t n2 = k2 >= 0 ? states.BeginWrite(k2) : 0;
      if (k2 >= 0) add(&b, k2, n2);
      Status s = db->Write(WriteOptions(), &b);
      if (!s.ok()) return err.Fail("write: " + s.ToString());
      states.Publish(k, n1);
      if (k2 >= 0) states.Publish(k2, n2);
    }
    err.Stop();
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; t++) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      while (!err.stopped()) {
        const int k = rng() % 8 != 0 ? hot(rng()) : static_cast<int>(rng() % kN);
        const uint32_t before = states.Load(k);
        std::string v;
        Status s = db->Get(ReadOptions(), Key(k), &v);
        if (states.Load(k) == before) {
          std::string e = states.Check(k, before, s, v);
          if (!e.empty()) err.Fail("Get: " + e);
        }
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  ASSERT_EQ(err.error(), "");
  std::string v;
  ASSERT_TRUE(db->GetProperty("ringdb.row_cache.hits", &v));
  EXPECT_GT(std::stoull(v), 1000u) << "Gets should have hit the row cache";
  ASSERT_TRUE(db->GetProperty("ringdb.delete_buffer.buffered", &v));
  EXPECT_GT(std::stoull(v), 100u) << "some deletes should have been buffered";
  for (int k = 0; k < kN; k++) {
    Status s = db->Get(ReadOptions(), Key(k), &v);
    ASSERT_EQ(states.Check(k, states.Load(k), s, v), "");
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, RowCacheConcurrencyTest,
                         ::testing::Values("clock", "lru", "s3fifo"));

}  // namespace db_row_cache_test
}  // namespace ringdb
