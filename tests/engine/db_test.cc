// DB tests through the public API: a randomized model test against
// std::map, batches, large keys and values, reopen, bad input, garbage
// files, and concurrency. Crash and fault tests are in db_crash_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "ringdb/db.h"
#include "tests/util/model_scan.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_test {

// Why a database asked to use io_uring would not run on it here (empty when
// it does): probed once by opening a scratch database and reading
// ringdb.io.backend, with the engine's notices as the reason.
const std::string& UringUnavailableReason() {
  static const std::string reason = [] {
    test::TempDir tmp("uring_probe");
    const std::string dir = tmp.File("db");
    Options o;
    o.io_backend = IoBackendKind::kIoUring;
    o.info_log = [](std::string_view) {};
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, dir, &db);
    std::string why;
    if (!s.ok()) {
      why = "open failed: " + s.ToString();
    } else {
      std::string backend, notices;
      db->GetProperty("ringdb.io.backend", &backend);
      db->GetProperty("ringdb.notices", &notices);
      if (backend != "io_uring") why = "backend is " + backend + ": " + notices;
      (void)db->Close();
    }
    return why;
  }();
  return reason;
}

class DBTest : public ::testing::TestWithParam<IoBackendKind> {
 protected:
  void SetUp() override {
    if (GetParam() == IoBackendKind::kIoUring && !UringUnavailableReason().empty()) {
      GTEST_SKIP() << "io_uring unavailable on this machine: " << UringUnavailableReason();
    }
    dir_ = tmp_.File("db");
    options_.io_backend = GetParam();
    options_.buffer_pool_bytes = 32 * 4096;  // far smaller than the data
    options_.info_log = [](std::string_view) {};
  }
  void TearDown() override { db_.reset(); }
  void Open() {
    db_.reset();
    Status s = DB::Open(options_, dir_, &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    // The io_uring instance really runs on io_uring (the machine has it:
    // SetUp skipped otherwise), not on a silent fallback.
    if (GetParam() == IoBackendKind::kIoUring) {
      std::string backend;
      ASSERT_TRUE(db_->GetProperty("ringdb.io.backend", &backend));
      ASSERT_EQ(backend, "io_uring");
    }
  }
  void Reopen() {
    Status s = db_->Close();
    ASSERT_TRUE(s.ok()) << s.ToString();
    Open();
  }
  // Checks point reads and full scans in both directions against `model`.
  void CheckAgainst(const std::map<std::string, std::string>& model) {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    test::ExpectScanMatches(it.get(), model);
  }

  test::TempDir tmp_{"db"};
  std::string dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_P(DBTest, ModelWithSmallPoolAndReopens) {
  Open();
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(7);
  WriteOptions wo;
  for (int op = 0; op < 12000; op++) {
    std::string key = "k" + std::to_string(rng() % 3000);
    int what = rng() % 10;
    if (what < 6) {
      std::string value = RandomBytes(rng, rng() % 300);
      ASSERT_TRUE(db_->Put(wo, key, value).ok());
      model[key] = value;
    } else if (what < 8) {
      ASSERT_TRUE(db_->Delete(wo, key).ok());
      model.erase(key);
    } else if (what < 9) {
      WriteBatch batch;
      for (int i = 0; i < 5; i++) {
        std::string k = "k" + std::to_string(rng() % 3000);
        if (rng() % 3 == 0) {
          batch.Delete(k);
          model.erase(k);
        } else {
          std::string v = RandomBytes(rng, rng() % 100);
          batch.Put(k, v);
          model[k] = v;
        }
      }
      ASSERT_TRUE(db_->Write(wo, &batch).ok());
    } else {
      std::string got;
      Status s = db_->Get(ReadOptions(), key, &got);
      auto m = model.find(key);
      if (m == model.end()) {
        ASSERT_TRUE(s.IsNotFound()) << s.ToString();
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_EQ(got, m->second);
      }
    }
    if (op % 4000 == 3999) {
      CheckAgainst(model);
      Reopen();
      CheckAgainst(model);
    }
  }
  std::string report;
  EXPECT_TRUE(db_->Verify(&report).ok()) << report;
  std::string v;
  ASSERT_TRUE(db_->GetProperty("ringdb.pool.misses", &v));
  EXPECT_GT(std::stoull(v), 0u);
}

TEST_P(DBTest, SeekAndMixedDirections) {
  Open();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 2000; i += 2) {
    char k[16];
    snprintf(k, sizeof(k), "key%05d", i);
    ASSERT_TRUE(db_->Put(WriteOptions(), k, std::to_string(i)).ok());
    model[k] = std::to_string(i);
  }
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->Seek("key00101");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "key00102");
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "key00100");
  it->SeekForPrev("key00101");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "key00100");
  it->Seek("zzz");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("a");
  EXPECT_FALSE(it->Valid());
  // Walk forward 300, back 300 across many leaves.
  it->Seek("key01000");
  for (int i = 0; i < 300; i++) it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "key01600");
  for (int i = 0; i < 300; i++) it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "key01000");
}

TEST_P(DBTest, LargeKeysAndValues) {
  Open();
  std::mt19937_64 rng(3);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 20; i++) {
    std::string key = RandomBytes(rng, kMaxKeySize - i);
    std::string value = RandomBytes(rng, (i % 5) * 300000 + 1);
    ASSERT_TRUE(db_->Put(WriteOptions(), key, value).ok());
    model[key] = value;
  }
  Reopen();
  for (const auto& [k, v] : model) {
    std::string got;
    ASSERT_TRUE(db_->Get(ReadOptions(), k, &got).ok());
    ASSERT_EQ(got, v);
  }
  // One past the limits: clear errors, nothing written.
  std::string too_long_key(kMaxKeySize + 1, 'k');
  Status s = db_->Put(WriteOptions(), too_long_key, "v");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("key of 4097 bytes"), std::string::npos) << s.ToString();
  EXPECT_TRUE(db_->Get(ReadOptions(), too_long_key, nullptr).IsInvalidArgument());
  CheckAgainst(model);
}

TEST_P(DBTest, MaxSizeValue) {
  Open();
  std::string value(kMaxValueSize, 'v');
  for (size_t i = 0; i < value.size(); i += 4096) value[i] = static_cast<char>(i >> 12);
  ASSERT_TRUE(db_->Put(WriteOptions(), "big", value).ok());
  std::string too_big(kMaxValueSize + 1, 'x');
  EXPECT_TRUE(db_->Put(WriteOptions(), "big2", too_big).IsInvalidArgument());
  Reopen();
  std::string got;
  ASSERT_TRUE(db_->Get(ReadOptions(), "big", &got).ok());
  EXPECT_TRUE(got == value);
  ASSERT_TRUE(db_->Delete(WriteOptions(), "big").ok());
  EXPECT_TRUE(db_->Get(ReadOptions(), "big", &got).IsNotFound());
}

TEST_P(DBTest, MultiGetMatchesGet) {
  Open();
  for (int i = 0; i < 3000; i++) {
    ASSERT_TRUE(db_->Put(WriteOptions(), "m" + std::to_string(i), "v" + std::to_string(i)).ok());
  }
  Reopen();
  std::vector<std::string> keys;
  for (int i = 0; i < 64; i++) keys.push_back("m" + std::to_string(i * 97 % 3500));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<Status> st = db_->MultiGet(ReadOptions(), views, &values);
  ASSERT_EQ(st.size(), keys.size());
  for (size_t i = 0; i < keys.size(); i++) {
    std::string got;
    Status s = db_->Get(ReadOptions(), keys[i], &got);
    ASSERT_EQ(s.ok(), st[i].ok()) << keys[i];
    if (s.ok()) {
      EXPECT_EQ(values[i], got);
    } else {
      EXPECT_TRUE(st[i].IsNotFound());
    }
  }
}

TEST_P(DBTest, DeleteHeavyWorkloadDoesNotGrowTheFile) {
  options_.checkpoint_log_bytes = 1 << 20;
  Open();
  std::string value(200, 'x');
  std::string size_after_first;
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 5000; i++) {
      ASSERT_TRUE(db_->Put(WriteOptions(), "d" + std::to_string(i), value).ok());
    }
    for (int i = 0; i < 5000; i++) {
      ASSERT_TRUE(db_->Delete(WriteOptions(), "d" + std::to_string(i)).ok());
    }
    ASSERT_TRUE(db_->Checkpoint().ok());
    std::string bytes;
    ASSERT_TRUE(db_->GetProperty("ringdb.store.file_bytes", &bytes));
    if (round == 1) size_after_first = bytes;
    if (round == 3) {
      EXPECT_LE(std::stoull(bytes), std::stoull(size_after_first) * 5 / 4)
          << "file grew from " << size_after_first << " to " << bytes;
    }
  }
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
}

TEST_P(DBTest, ConcurrentWritersAndReaders) {
  options_.buffer_pool_bytes = 64 * 4096;
  Open();
  // Each writer owns a key range and keeps its own model of it; values
  // encode (key, version). Readers check that every value they see belongs
  // to its key; after joining, and again after reopening, the database must
  // equal the union of the writers' models.
  constexpr int kWriters = 3;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::map<std::string, std::string>> models(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w);
      std::map<std::string, std::string>& model = models[w];
      for (int i = 0; i < 3000; i++) {
        int k = w * 1000 + rng() % 1000;
        std::string key = "c" + std::to_string(k);
        WriteOptions wo;
        wo.sync = (i % 100 == 0);
        Status s;
        if (rng() % 5 == 0) {
          s = db_->Delete(wo, key);
          if (s.ok()) model.erase(key);
        } else {
          std::string value = key + ":" + std::to_string(i) + std::string(rng() % 200, 'p');
          s = db_->Put(wo, key, value);
          if (s.ok()) model[key] = value;
        }
        if (!s.ok()) failures++;
      }
    });
  }
  std::atomic<uint64_t> reads{0};
  for (int r = 0; r < 3; r++) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(100 + r);
      while (!stop) {
        if (r == 2) {
          std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
          std::string prev;
          for (it->SeekToFirst(); it->Valid(); it->Next()) {
            std::string k(it->key());
            if (!prev.empty() && k <= prev) failures++;
            if (it->value().substr(0, k.size() + 1) != k + ":") failures++;
            prev = k;
          }
          if (!it->status().ok()) failures++;
          reads++;
          continue;
        }
        std::string key = "c" + std::to_string(rng() % 3000);
        std::string v;
        Status s = db_->Get(ReadOptions(), key, &v);
        if (s.ok() && v.substr(0, key.size() + 1) != key + ":") failures++;
        if (!s.ok() && !s.IsNotFound()) failures++;
        reads++;
      }
    });
  }
  std::atomic<int> checkpoints{0};
  std::thread ckpt([&] {
    while (!stop) {
      if (!db_->Checkpoint().ok()) failures++;
      checkpoints++;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (int i = 0; i < kWriters; i++) threads[i].join();
  stop = true;
  for (size_t i = kWriters; i < threads.size(); i++) threads[i].join();
  ckpt.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(checkpoints.load(), 0);
  std::map<std::string, std::string> model;
  for (const auto& m : models) model.insert(m.begin(), m.end());
  ASSERT_FALSE(model.empty());
  CheckAgainst(model);
  std::string report;
  EXPECT_TRUE(db_->Verify(&report).ok()) << report;
  Reopen();
  CheckAgainst(model);
  EXPECT_TRUE(db_->Verify(&report).ok()) << report;
}

TEST_P(DBTest, BatchIsAllOrNothingForReaders) {
  Open();
  // Batches either put a and b with one number or delete both. A reader
  // looks both up in one MultiGet, or with one Seek and Next of an
  // iterator (both keys are in one leaf, which a step copies whole); each
  // sees whole batches: both missing, or both present with the same value,
  // every time.
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::atomic<int> scans{0};
  std::thread reader([&] {
    for (int round = 0; !stop; round++) {
      if (round % 2 == 0) {
        std::vector<std::string> values;
        std::vector<Status> st = db_->MultiGet(ReadOptions(), {"a", "b"}, &values);
        const bool both_missing = st[0].IsNotFound() && st[1].IsNotFound();
        const bool both_equal = st[0].ok() && st[1].ok() && values[0] == values[1];
        if (!both_missing && !both_equal) torn++;
        reads++;
        continue;
      }
      std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
      it->Seek("a");
      std::vector<std::pair<std::string, std::string>> seen;
      for (; it->Valid() && seen.size() < 2; it->Next()) {
        seen.emplace_back(std::string(it->key()), std::string(it->value()));
      }
      const bool both_missing = seen.empty();
      const bool both_equal = seen.size() == 2 && seen[0].first == "a" &&
                              seen[1].first == "b" && seen[0].second == seen[1].second;
      if (!it->status().ok() || (!both_missing && !both_equal)) torn++;
      scans++;
    }
  });
  // Keep writing until the reader has looked many times (at least 3000
  // batches), so the two overlap however the threads are scheduled.
  int last = -1;
  for (int i = 0; (i < 3000 || reads.load() < 2000 || scans.load() < 2000) && i < 10000000;
       i++) {
    WriteBatch batch;
    if (i % 7 == 3) {
      batch.Delete("a");
      batch.Delete("b");
    } else {
      batch.Put("a", std::to_string(i));
      batch.Put("b", std::to_string(i));
    }
    ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
    last = i;
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " MultiGets and " << scans.load()
                            << " scans";
  EXPECT_GE(reads.load(), 2000);
  EXPECT_GE(scans.load(), 2000);
  std::string a, b;
  Status sa = db_->Get(ReadOptions(), "a", &a);
  Status sb = db_->Get(ReadOptions(), "b", &b);
  if (last % 7 == 3) {
    EXPECT_TRUE(sa.IsNotFound() && sb.IsNotFound()) << sa.ToString() << " " << sb.ToString();
  } else {
    ASSERT_TRUE(sa.ok() && sb.ok()) << sa.ToString() << " " << sb.ToString();
    EXPECT_EQ(a, std::to_string(last));
    EXPECT_EQ(b, std::to_string(last));
  }
}

// On io_uring, page reads and writes use the registered (fixed) buffers:
// the point of registering the pool once. Skips, saying why, where the
// registration is refused (RLIMIT_MEMLOCK).
TEST_P(DBTest, IoUringMovesPagesWithFixedBuffers) {
  if (GetParam() != IoBackendKind::kIoUring) GTEST_SKIP() << "io_uring only";
  Open();
  for (int i = 0; i < 3000; i++) {
    ASSERT_TRUE(db_->Put(WriteOptions(), "f" + std::to_string(i), std::string(200, 'f')).ok());
  }
  Reopen();  // Cold pool: the reads below miss.
  std::string v;
  for (int i = 0; i < 3000; i += 7) {
    ASSERT_TRUE(db_->Get(ReadOptions(), "f" + std::to_string(i), &v).ok());
  }
  std::string backend, fixed, reads, notices;
  ASSERT_TRUE(db_->GetProperty("ringdb.io.backend", &backend));
  ASSERT_TRUE(db_->GetProperty("ringdb.io.fixed_ops", &fixed));
  ASSERT_TRUE(db_->GetProperty("ringdb.pool.reads", &reads));
  db_->GetProperty("ringdb.notices", &notices);
  EXPECT_EQ(backend, "io_uring");
  ASSERT_GT(std::stoull(reads), 0u);
  if (std::stoull(fixed) == 0 && notices.find("regist") != std::string::npos) {
    GTEST_SKIP() << "the pool could not be registered with io_uring: " << notices;
  }
  EXPECT_GT(std::stoull(fixed), 0u) << notices;
}

TEST_P(DBTest, OpenErrorsNameTheProblem) {
  // A plain file.
  { std::ofstream(dir_) << "hello"; }
  Status s = DB::Open(options_, dir_, &db_);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("not a ringdb database"), std::string::npos) << s.ToString();
  std::filesystem::remove(dir_);
  // A directory with other files.
  std::filesystem::create_directories(dir_);
  { std::ofstream(dir_ + "/notes.txt") << "hello"; }
  s = DB::Open(options_, dir_, &db_);
  EXPECT_NE(s.message().find("not a ringdb database"), std::string::npos) << s.ToString();
  std::filesystem::remove_all(dir_);
  // Garbage in the data file.
  std::filesystem::create_directories(dir_);
  {
    std::ofstream f(dir_ + "/ringdb.data");
    std::mt19937_64 rng(1);
    for (int i = 0; i < 16384; i++) f.put(static_cast<char>(rng()));
  }
  s = DB::Open(options_, dir_, &db_);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a ringdb database"), std::string::npos) << s.ToString();
  std::filesystem::remove_all(dir_);
  // Missing, without create_if_missing.
  Options o = options_;
  o.create_if_missing = false;
  s = DB::Open(o, dir_, &db_);
  EXPECT_NE(s.message().find("does not exist"), std::string::npos) << s.ToString();
  // error_if_exists.
  Open();
  db_.reset();
  o = options_;
  o.error_if_exists = true;
  s = DB::Open(o, dir_, &db_);
  EXPECT_NE(s.message().find("already exists"), std::string::npos) << s.ToString();
}

TEST_P(DBTest, SecondOpenIsBusyAndReadOnlyRefusesWrites) {
  Open();
  ASSERT_TRUE(db_->Put(WriteOptions(), "x", "1").ok());
  std::unique_ptr<DB> other;
  Status s = DB::Open(options_, dir_, &other);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Options ro = options_;
  ro.read_only = true;
  ASSERT_TRUE(DB::Open(ro, dir_, &db_).ok());
  std::string v;
  ASSERT_TRUE(db_->Get(ReadOptions(), "x", &v).ok());
  EXPECT_EQ(v, "1");
  EXPECT_TRUE(db_->Put(WriteOptions(), "y", "2").IsInvalidArgument());
}

TEST_P(DBTest, PropertiesAndPageSizes) {
  for (uint32_t ps : {4096u, 16384u, 65536u}) {
    std::filesystem::remove_all(dir_);
    options_.page_size = ps;
    options_.buffer_pool_bytes = 64 * ps;
    Open();
    std::map<std::string, std::string> model;
    for (int i = 0; i < 3000; i++) {
      std::string k = "p" + std::to_string(i * 7919 % 3001);
      ASSERT_TRUE(db_->Put(WriteOptions(), k, std::string(i % 500, 'z')).ok());
      model[k] = std::string(i % 500, 'z');
    }
    Reopen();
    CheckAgainst(model);
    std::string v;
    ASSERT_TRUE(db_->GetProperty("ringdb.page_size", &v));
    EXPECT_EQ(v, std::to_string(ps));
    ASSERT_TRUE(db_->GetProperty("ringdb.stats", &v));
    EXPECT_NE(v.find("hit ratio"), std::string::npos);
    ASSERT_TRUE(db_->GetProperty("ringdb.properties", &v));
    EXPECT_NE(v.find("ringdb.pool.hit_ratio"), std::string::npos);
    EXPECT_FALSE(db_->GetProperty("ringdb.nope", &v));
    db_.reset();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DBTest,
                         ::testing::Values(IoBackendKind::kIoUring, IoBackendKind::kPread),
                         [](const auto& info) {
                           return info.param == IoBackendKind::kIoUring ? "IoUring" : "Pread";
                         });

}  // namespace db_test
}  // namespace ringdb
