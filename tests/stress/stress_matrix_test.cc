// The stress matrix: every io backend x every eviction policy x pool sizes
// from the 16-page minimum up, each cell running writers (puts with small
// values and values that spill to overflow pages, deletes, batches, some
// sync), point readers, MultiGet, forward and backward iterators,
// checkpoints and compactions (explicit ones, and the idle compactor's,
// started when the writers stall and stopped by their next write) at once
// on one DB, checked against the writers' models.
// The 64-page cells also run with a fixed row cache (Options::
// row_cache_bytes), so their Gets race the writers through it; the others
// keep the default, the adaptive split (engine/db_cache_balance.cc), which
// is on from 512 pages: there the row cache may grow and shrink under them.
//
// While running: every value read for a key is one a writer stored for
// that key (values embed their key, a generation and a checksum); one
// reader never sees a key's generation go backwards; iterators return keys
// in order. After the threads stop: the DB equals the models, Verify is OK;
// the same after a reopen.
//
// Time per cell: RINGDB_STRESS_MS (default 300 ms; scripts/reliability.sh
// runs it longer). Runs under ThreadSanitizer in CI.
#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace stress_matrix_test {


constexpr int kWriters = 2;
constexpr int kKeysPerWriter = 200;

std::string Key(int w, int i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "w%dk%04d", w, i);
  return buf;
}

// key|gen|checksum|padding
std::string Value(const std::string& key, uint64_t gen, size_t len) {
  std::string v = key + "|" + std::to_string(gen) + "|";
  uint64_t h = XXH3_64bits(v.data(), v.size());
  v += std::to_string(h) + "|";
  while (v.size() < len) v.push_back(static_cast<char>('a' + (v.size() * 7 + gen) % 26));
  return v;
}

// Empty when `value` is a value Value() made for `key`; sets *gen.
std::string CheckValue(std::string_view key, std::string_view value, uint64_t* gen) {
  size_t a = value.find('|');
  if (a == std::string_view::npos || value.substr(0, a) != key) {
    return "value for " + std::string(key) + " belongs to another key: " +
           std::string(value.substr(0, 40));
  }
  size_t b = value.find('|', a + 1);
  size_t c = b == std::string_view::npos ? b : value.find('|', b + 1);
  if (c == std::string_view::npos) return "malformed value for " + std::string(key);
  uint64_t h = XXH3_64bits(value.data(), b + 1);
  if (std::to_string(h) != value.substr(b + 1, c - b - 1)) {
    return "value for " + std::string(key) + " fails its checksum";
  }
  *gen = std::strtoull(std::string(value.substr(a + 1, b - a - 1)).c_str(), nullptr, 10);
  return "";
}

// Small values mostly; every tenth spills to overflow pages (a value that
// does not fit a quarter page), a few span several overflow pages.
size_t ValueLength(std::mt19937_64& rng) {
  uint64_t r = rng() % 100;
  if (r < 3) return 6000 + rng() % 14000;
  if (r < 10) return 1100 + rng() % 800;
  return 20 + rng() % 200;
}

int CellMillis() {
  const char* e = std::getenv("RINGDB_STRESS_MS");
  int ms = e != nullptr ? std::atoi(e) : 0;
  return ms > 0 ? ms : 300;
}

using Cell = std::tuple<IoBackendKind, std::string, uint32_t>;  // backend, policy, frames

std::string BackendName(IoBackendKind k) {
  switch (k) {
    case IoBackendKind::kIoUring: return "IoUring";
    case IoBackendKind::kPread: return "Pread";
    case IoBackendKind::kBuffered: return "Buffered";
  }
  return "Unknown";
}

class StressMatrixTest : public ::testing::TestWithParam<Cell> {
 protected:
  void SetUp() override {
    auto [backend, policy, frames] = GetParam();
    // tmpfs when there is one (the test is about threads, not the disk),
    // unless RINGDB_STRESS_DIR names a place: on a real disk the windows
    // between a write's start and its end are far wider.
    tmp_ = std::make_unique<test::TempDir>(
        "matrix_" + BackendName(backend) + "_" + policy + "_" + std::to_string(frames),
        test::TempDir::MemoryParent("RINGDB_STRESS_DIR"));
    dir_ = tmp_->File("db");
    options_.buffer_pool_bytes = static_cast<size_t>(frames) * 4096;
    options_.eviction_policy = policy;
    options_.checkpoint_log_bytes = 256 << 10;
    options_.io_backend = backend;
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
    if (frames == 64) options_.row_cache_bytes = 64 << 10;
    // The idle compactor starts whenever the writers stall for 2 ms (a
    // checkpoint holds them, the machine is loaded) and compacts whatever
    // the fill (threshold 1), to be stopped by the next write.
    options_.idle_compact_ms = 2;
    options_.idle_compact_fill = 1.0;
    options_.idle_compact_min_bytes = 0;
  }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_error_.empty()) first_error_ = what;
    stop_ = true;
  }

  // Checks a value read for `key` and that this reader's view of the key
  // does not go back in time.
  bool CheckRead(std::unordered_map<std::string, uint64_t>* seen, const std::string& key,
                 std::string_view value, const char* who) {
    uint64_t gen = 0;
    std::string e = CheckValue(key, value, &gen);
    if (!e.empty()) {
      Fail(std::string(who) + ": " + e);
      return false;
    }
    uint64_t& last = (*seen)[key];
    if (gen < last) {
      Fail(std::string(who) + ": " + key + " went back from generation " +
           std::to_string(last) + " to " + std::to_string(gen));
      return false;
    }
    last = gen;
    return true;
  }

  std::unique_ptr<test::TempDir> tmp_;
  std::string dir_;
  Options options_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string first_error_;
};

TEST_P(StressMatrixTest, MixedWorkloadMatchesModel) {
  std::unique_ptr<DB> db;
  Status open = DB::Open(options_, dir_, &db);
  if (open.IsNotSupported()) GTEST_SKIP() << open.ToString();
  ASSERT_TRUE(open.ok()) << open.ToString();
  DB* d = db.get();
  std::vector<std::map<std::string, std::string>> models(kWriters);
  std::atomic<uint64_t> writes{0}, overflow_writes{0}, reads{0}, scans{0}, checkpoints{0},
      compactions{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w + 1);
      auto& model = models[w];
      // Generations grow per writer; each key has one writer.
      for (uint64_t gen = 1; !stop_; gen++) {
        WriteOptions wo;
        wo.sync = rng() % 32 == 0;
        uint64_t r = rng() % 10;
        Status s;
        if (r < 6) {
          std::string k = Key(w, static_cast<int>(rng() % kKeysPerWriter));
          size_t len = ValueLength(rng);
          std::string v = Value(k, gen, len);
          s = d->Put(wo, k, v);
          model[k] = v;
          if (len > 1024) overflow_writes++;
        } else if (r < 8) {
          std::string k = Key(w, static_cast<int>(rng() % kKeysPerWriter));
          s = d->Delete(wo, k);
          model.erase(k);
        } else {
          WriteBatch batch;
          int n = 2 + static_cast<int>(rng() % 5);
          for (int i = 0; i < n; i++) {
            std::string k = Key(w, static_cast<int>(rng() % kKeysPerWriter));
            if (rng() % 4 == 0) {
              batch.Delete(k);
              model.erase(k);
            } else {
              std::string v = Value(k, gen, ValueLength(rng));
              batch.Put(k, v);
              model[k] = v;
            }
          }
          s = d->Write(wo, &batch);
        }
        if (!s.ok()) return Fail("write: " + s.ToString());
        writes++;
      }
    });
  }
  threads.emplace_back([&] {  // point reads and MultiGet
    std::mt19937_64 rng(100);
    std::unordered_map<std::string, uint64_t> seen;
    auto random_key = [&] {
      return Key(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter));
    };
    while (!stop_) {
      std::string k = random_key();
      std::string v;
      Status s = d->Get(ReadOptions(), k, &v);
      if (s.ok()) {
        if (!CheckRead(&seen, k, v, "Get")) return;
      } else if (!s.IsNotFound()) {
        return Fail("Get(" + k + "): " + s.ToString());
      }
      std::vector<std::string> keys;
      for (int i = 0; i < 6; i++) keys.push_back(random_key());
      std::vector<std::string_view> views(keys.begin(), keys.end());
      std::vector<std::string> values;
      std::vector<Status> st = d->MultiGet(ReadOptions(), views, &values);
      for (size_t i = 0; i < keys.size(); i++) {
        if (st[i].ok()) {
          if (!CheckRead(&seen, keys[i], values[i], "MultiGet")) return;
        } else if (!st[i].IsNotFound()) {
          return Fail("MultiGet(" + keys[i] + "): " + st[i].ToString());
        }
      }
      reads++;
    }
  });
  threads.emplace_back([&] {  // iterators, forward and backward
    std::mt19937_64 rng(200);
    std::unordered_map<std::string, uint64_t> seen;
    while (!stop_) {
      std::unique_ptr<Iterator> it = d->NewIterator(ReadOptions());
      std::string prev;
      bool forward = rng() % 2 == 0;
      std::string start =
          Key(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter));
      if (forward) {
        it->Seek(start);
      } else {
        it->SeekForPrev(start);
      }
      for (int steps = 0; it->Valid() && steps < 100; steps++) {
        std::string k(it->key());
        if (steps > 0 && (forward ? k <= prev : k >= prev)) {
          return Fail("iterator out of order: " + k + " after " + prev);
        }
        if (!CheckRead(&seen, k, it->value(), "iterator")) return;
        prev = k;
        if (forward) {
          it->Next();
        } else {
          it->Prev();
        }
      }
      if (!it->status().ok()) return Fail("iterator: " + it->status().ToString());
      scans++;
    }
  });
  threads.emplace_back([&] {  // checkpoints, compactions and properties
    for (int round = 0; !stop_; round++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      // Every third round a Compact: it packs the leaves (moving entries
      // between leaves under the readers) and moves pages.
      const bool compact = round % 3 == 2;
      Status s = compact ? d->Compact() : d->Checkpoint();
      if (!s.ok()) return Fail((compact ? "Compact: " : "Checkpoint: ") + s.ToString());
      std::string stats;
      if (!d->GetProperty("ringdb.stats", &stats)) return Fail("no ringdb.stats");
      checkpoints++;
      if (compact) compactions++;
    }
  });

  // The cell's time, then on until every kind of work has run a few times
  // (a loaded machine can stall a 300 ms cell), or an error stops it.
  std::this_thread::sleep_for(std::chrono::milliseconds(CellMillis()));
  for (int i = 0; i < 6000 && (writes.load() < 20 || reads.load() < 5 || scans.load() < 5 ||
                   compactions.load() < 1) &&
                  !stop_.load();
       i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop_ = true;
  for (std::thread& t : threads) t.join();
  std::string idle_runs, idle_stops;
  d->GetProperty("ringdb.compact.sparse_compactions", &idle_runs);
  d->GetProperty("ringdb.compact.idle_stops", &idle_stops);
  std::printf("idle compactor: %s compactions, %s stopped by writes\n", idle_runs.c_str(),
              idle_stops.c_str());
  ASSERT_EQ(first_error_, "");
  EXPECT_GT(writes.load(), 0u);
  EXPECT_GT(compactions.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(scans.load(), 0u);
  if (options_.row_cache_bytes == Options::kAutoRowCacheBytes) {
    std::string adaptive;
    ASSERT_TRUE(db->GetProperty("ringdb.row_cache.adaptive", &adaptive));
    EXPECT_EQ(adaptive, std::get<2>(GetParam()) >= 512 ? "1" : "0");
  } else if (options_.row_cache_bytes > 0) {
    std::string hits;
    ASSERT_TRUE(db->GetProperty("ringdb.row_cache.hits", &hits));
    EXPECT_GT(std::stoull(hits), 0u) << "Gets should have hit the row cache";
  }
  std::printf("writes %llu (%llu overflowing), read rounds %llu, scans %llu, checkpoints %llu\n",
              static_cast<unsigned long long>(writes.load()),
              static_cast<unsigned long long>(overflow_writes.load()),
              static_cast<unsigned long long>(reads.load()),
              static_cast<unsigned long long>(scans.load()),
              static_cast<unsigned long long>(checkpoints.load()));

  std::map<std::string, std::string> all;
  for (const auto& m : models) all.insert(m.begin(), m.end());
  auto expect_equal = [&](DB* db2, const char* when) {
    std::map<std::string, std::string> got;
    std::unique_ptr<Iterator> it = db2->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) got[std::string(it->key())] = it->value();
    EXPECT_TRUE(it->status().ok()) << when << ": " << it->status().ToString();
    EXPECT_EQ(got.size(), all.size()) << when;
    EXPECT_TRUE(got == all) << when << ": the DB differs from the writers' models";
    for (const auto& [k, v] : all) {
      std::string got_v;
      Status s = db2->Get(ReadOptions(), k, &got_v);
      if (!s.ok() || got_v != v) {
        ADD_FAILURE() << when << ": Get(" << k << "): " << s.ToString();
        break;
      }
    }
    std::string report;
    Status v = db2->Verify(&report);
    EXPECT_TRUE(v.ok()) << when << ": " << v.ToString() << "\n" << report;
  };
  expect_equal(d, "after the threads stopped");
  Status closed = db->Close();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  db.reset();
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  expect_equal(db.get(), "after reopening");
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(
    Cells, StressMatrixTest,
    ::testing::Combine(::testing::Values(IoBackendKind::kIoUring, IoBackendKind::kPread,
                                         IoBackendKind::kBuffered),
                       ::testing::ValuesIn(EvictionPolicyNames()),
                       ::testing::Values(16u, 64u, 512u)),
    [](const ::testing::TestParamInfo<Cell>& info) {
      return BackendName(std::get<0>(info.param)) + "_" + std::get<1>(info.param) + "_" +
             std::to_string(std::get<2>(info.param)) + "pages";
    });

}  // namespace stress_matrix_test
}  // namespace ringdb
