// Concurrency stress: writers (puts, deletes, batches, some sync), point
// readers, MultiGet, iterators and checkpoints all at once on one DB for a
// few seconds, on a pool small enough that pages are evicted and written
// back while they are read. Meant to run under ThreadSanitizer too
// (RINGDB_SANITIZE=thread; `ctest -R Concurrent`).
//
// Checks while running: every value read for a key is one some writer
// stored for that key (values embed their key and a checksum), iterators
// return keys in order. After the threads stop: the DB equals the writers'
// models, Verify is OK, and a reopen gives the same.
#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "ringdb/db.h"

namespace ringdb {
namespace {

namespace fs = std::filesystem;

constexpr int kWriters = 3;
constexpr int kKeysPerWriter = 300;

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

// Empty when `value` is a value Value() made for `key`.
std::string CheckValue(std::string_view key, std::string_view value) {
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
  return "";
}

class ConcurrentStressTest : public ::testing::TestWithParam<IoBackendKind> {
 protected:
  void SetUp() override {
    // tmpfs when there is one: the test is about threads, not the disk.
    std::error_code ec;
    std::string base = fs::is_directory("/dev/shm", ec) ? "/dev/shm"
                                                         : fs::temp_directory_path().string();
    dir_ = base + "/ringdb_concurrent_" + std::to_string(getpid()) + "_" +
           std::to_string(static_cast<int>(GetParam()));
    fs::remove_all(dir_);
    // Small enough that pages are evicted and written back under the readers,
    // large enough for two iterators' read-ahead (16 frames each) plus the
    // other threads' pins: a pool with fewer free frames stalls 2 s per
    // read-ahead (small_pool_scan_test.cc).
    options_.buffer_pool_bytes = 96 * 4096;
    options_.checkpoint_log_bytes = 512 << 10;
    options_.io_backend = GetParam();
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_error_.empty()) first_error_ = what;
    stop_ = true;
  }

  std::string dir_;
  Options options_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string first_error_;
};

TEST_P(ConcurrentStressTest, ReadersWritersIteratorsCheckpoints) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  DB* d = db.get();
  std::vector<std::map<std::string, std::string>> models(kWriters);
  std::atomic<uint64_t> writes{0}, reads{0}, scans{0}, checkpoints{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(w + 1);
      auto& model = models[w];
      for (uint64_t gen = 1; !stop_; gen++) {
        WriteOptions wo;
        wo.sync = rng() % 16 == 0;
        uint64_t r = rng() % 10;
        Status s;
        if (r < 5) {
          std::string k = Key(w, static_cast<int>(rng() % kKeysPerWriter));
          size_t len = rng() % 50 == 0 ? 6000 + rng() % 20000 : 30 + rng() % 300;
          std::string v = Value(k, gen, len);
          s = d->Put(wo, k, v);
          model[k] = v;
        } else if (r < 7) {
          std::string k = Key(w, static_cast<int>(rng() % kKeysPerWriter));
          s = d->Delete(wo, k);
          model.erase(k);
        } else {
          WriteBatch batch;
          int n = 2 + static_cast<int>(rng() % 6);
          for (int i = 0; i < n; i++) {
            std::string k = Key(w, static_cast<int>(rng() % kKeysPerWriter));
            if (rng() % 4 == 0) {
              batch.Delete(k);
              model.erase(k);
            } else {
              std::string v = Value(k, gen, 30 + rng() % 200);
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
    while (!stop_) {
      std::string k = Key(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter));
      std::string v;
      Status s = d->Get(ReadOptions(), k, &v);
      if (s.ok()) {
        std::string e = CheckValue(k, v);
        if (!e.empty()) return Fail("Get: " + e);
      } else if (!s.IsNotFound()) {
        return Fail("Get(" + k + "): " + s.ToString());
      }
      std::vector<std::string> keys;
      for (int i = 0; i < 8; i++) {
        keys.push_back(Key(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter)));
      }
      std::vector<std::string_view> views(keys.begin(), keys.end());
      std::vector<std::string> values;
      std::vector<Status> st = d->MultiGet(ReadOptions(), views, &values);
      for (size_t i = 0; i < keys.size(); i++) {
        if (st[i].ok()) {
          std::string e = CheckValue(keys[i], values[i]);
          if (!e.empty()) return Fail("MultiGet: " + e);
        } else if (!st[i].IsNotFound()) {
          return Fail("MultiGet(" + keys[i] + "): " + st[i].ToString());
        }
      }
      reads++;
    }
  });
  for (int r = 0; r < 2; r++) {
    threads.emplace_back([&, r] {  // iterators, forward and backward
      std::mt19937_64 rng(200 + r);
      while (!stop_) {
        std::unique_ptr<Iterator> it = d->NewIterator(ReadOptions());
        std::string prev;
        int steps = 0;
        bool forward = rng() % 2 == 0;
        if (forward) {
          it->Seek(Key(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter)));
        } else {
          it->SeekForPrev(Key(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter)));
        }
        for (; it->Valid() && steps < 200; steps++) {
          std::string k(it->key());
          if (steps > 0 && (forward ? k <= prev : k >= prev)) {
            return Fail("iterator out of order: " + k + " after " + prev);
          }
          std::string e = CheckValue(k, it->value());
          if (!e.empty()) return Fail("iterator: " + e);
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
  }
  threads.emplace_back([&] {  // checkpoints and properties
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      Status s = d->Checkpoint();
      if (!s.ok()) return Fail("Checkpoint: " + s.ToString());
      std::string stats;
      if (!d->GetProperty("ringdb.stats", &stats)) return Fail("no ringdb.stats");
      checkpoints++;
    }
  });

  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop_ = true;
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(first_error_, "");
  EXPECT_GT(writes.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(scans.load(), 0u);
  EXPECT_GT(checkpoints.load(), 0u);
  std::printf("writes %llu, read rounds %llu, scans %llu, checkpoints %llu\n",
              static_cast<unsigned long long>(writes.load()),
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
    std::string report;
    Status v = db2->Verify(&report);
    EXPECT_TRUE(v.ok()) << when << ": " << v.ToString() << "\n" << report;
  };
  expect_equal(d, "after the threads stopped");
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  expect_equal(db.get(), "after reopening");
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ConcurrentStressTest,
                         ::testing::Values(IoBackendKind::kIoUring, IoBackendKind::kPread),
                         [](const ::testing::TestParamInfo<IoBackendKind>& info) {
                           return info.param == IoBackendKind::kIoUring ? std::string("IoUring")
                                                                        : std::string("Pread");
                         });

}  // namespace
}  // namespace ringdb
