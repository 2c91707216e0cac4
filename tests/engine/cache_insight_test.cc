// Cache insight through the public API: the ringdb.cache.* properties'
// format, and the predicted miss ratio at the pool's size against the one
// the pool measures on a Zipfian point-read workload (lru policy).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <chrono>
#include <sstream>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bufferpool/zipf_test_util.h"
#include "ringdb/db.h"
#include "ringdb/write_batch.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace cache_insight_test {

constexpr size_t kPoolBytes = 1024 * 4096;  // sampled at 25%
constexpr int kKeys = 240000;  // ~100-byte values: about 10x the pool

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08llu", static_cast<unsigned long long>(i));
  return buf;
}

class CacheInsightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.io_backend = IoBackendKind::kPread;
    options_.buffer_pool_bytes = kPoolBytes;
    options_.eviction_policy = "lru";
    // The pool alone: the adaptive row cache would take part of the budget
    // under these skewed reads and move the pool's size.
    options_.row_cache_bytes = 0;
    options_.info_log = [](std::string_view) {};
    ASSERT_TRUE(DB::Open(options_, dir_, &db_).ok());
  }
  void TearDown() override { db_.reset(); }

  void Load() {
    const std::string value(100, 'v');
    for (int i = 0; i < kKeys; i += 1000) {
      WriteBatch batch;
      for (int k = i; k < i + 1000; k++) batch.Put(Key(k), value);
      ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
    }
  }

  uint64_t Prop(const char* name) {
    std::string v;
    EXPECT_TRUE(db_->GetProperty(name, &v)) << name;
    return std::stoull(v);
  }

  std::map<uint64_t, double> Curve() {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("ringdb.cache.mrc", &v));
    std::map<uint64_t, double> curve;
    std::istringstream in(v);
    uint64_t bytes;
    double ratio;
    while (in >> bytes >> ratio) curve[bytes] = ratio;
    return curve;
  }

  test::TempDir tmp_{"cache_insight"};
  // Four threads read and write while `change(i)` runs for i = 0, 1, ...
  // on a fifth (changing the policy or the pool size): no request fails,
  // no change fails, and every thread's last write is there at the end.
  void MixedWorkWhile(const std::function<Status(int)>& change) {
    constexpr int kThreads = 4, kKeysPer = 500, kOps = 3000;
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::vector<std::vector<std::string>> last(kThreads, std::vector<std::string>(kKeysPer));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(t + 100);
        std::string got;
        for (int op = 0; op < kOps; op++) {
          int k = static_cast<int>(rng() % kKeysPer);
          std::string key = Key(t * kKeysPer + k);
          if (rng() % 3 == 0) {
            std::string v = std::to_string(op) + std::string(150, static_cast<char>('a' + t));
            if (!db_->Put(WriteOptions(), key, v).ok()) failures++;
            last[t][k] = v;
          } else {
            Status s = db_->Get(ReadOptions(), key, &got);
            if (last[t][k].empty() ? !s.IsNotFound() : (!s.ok() || got != last[t][k])) failures++;
          }
        }
      });
    }
    std::thread changer([&] {
      for (int i = 0; !stop.load(); i++) {
        Status s = change(i);
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          failures++;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    for (auto& th : threads) th.join();
    stop = true;
    changer.join();
    EXPECT_EQ(failures.load(), 0);
    std::string got;
    for (int t = 0; t < kThreads; t++) {
      for (int k = 0; k < kKeysPer; k++) {
        Status s = db_->Get(ReadOptions(), Key(t * kKeysPer + k), &got);
        if (last[t][k].empty()) {
          EXPECT_TRUE(s.IsNotFound());
        } else {
          ASSERT_TRUE(s.ok()) << s.ToString();
          EXPECT_EQ(got, last[t][k]);
        }
      }
    }
  }

  std::string dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(CacheInsightTest, PropertiesHaveTheDocumentedShape) {
  Load();
  std::string v;
  ASSERT_TRUE(db_->GetProperty("ringdb.cache.mrc", &v));
  std::istringstream lines(v);
  std::string line;
  uint64_t last = 0;
  int n = 0;
  while (std::getline(lines, line)) {
    size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    uint64_t bytes = std::stoull(line.substr(0, tab));
    double ratio = std::stod(line.substr(tab + 1));
    EXPECT_GT(bytes, last);
    EXPECT_GE(ratio, 0.0);
    EXPECT_LE(ratio, 1.0);
    if (n == 0) {
      EXPECT_EQ(bytes, kPoolBytes / 8);
    }
    last = bytes;
    n++;
  }
  EXPECT_GE(n, 16);
  EXPECT_EQ(last, kPoolBytes * 8);

  ASSERT_TRUE(db_->GetProperty("ringdb.cache.policies", &v));
  int in_use = 0, policies = 0;
  std::istringstream plines(v);
  while (std::getline(plines, line)) {
    policies++;
    if (line.find("\tin use") != std::string::npos) {
      in_use++;
      EXPECT_EQ(line.substr(0, line.find('\t')), "lru");
    }
  }
  EXPECT_EQ(policies, 5);
  EXPECT_EQ(in_use, 1);
  ASSERT_TRUE(db_->GetProperty("ringdb.properties", &v));
  EXPECT_NE(v.find("ringdb.cache.mrc_samples"), std::string::npos);
}

// The target: the curve at the current size within 0.02 of the
// miss ratio the pool measures (both over every access since open).
TEST_F(CacheInsightTest, PredictedMissRatioMatchesThePool) {
  Load();
  test::Zipf zipf(kKeys, 0.99, 3);
  std::string value;
  for (int i = 0; i < 150000; i++) {
    uint64_t k = (zipf.Next() * 7919) % kKeys;
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(k), &value).ok());
  }
  uint64_t hits = Prop("ringdb.pool.hits"), misses = Prop("ringdb.pool.misses");
  double measured = static_cast<double>(misses) / static_cast<double>(hits + misses);
  std::map<uint64_t, double> curve = Curve();
  ASSERT_EQ(curve.count(kPoolBytes), 1u);
  double predicted = curve[kPoolBytes];
  std::string policies;
  db_->GetProperty("ringdb.cache.policies", &policies);
  std::printf("measured %.4f predicted %.4f (error %+.4f), %llu samples\n%s", measured,
              predicted, predicted - measured,
              static_cast<unsigned long long>(Prop("ringdb.cache.mrc_samples")),
              policies.c_str());
  EXPECT_GT(Prop("ringdb.cache.mrc_samples"), 1000u);
  EXPECT_NEAR(predicted, measured, 0.02);
  // Smaller caches miss more: the curve is not flat around the pool size.
  EXPECT_GT(curve.begin()->second, predicted);
}

TEST_F(CacheInsightTest, SetEvictionPolicyRejectsUnknownNames) {
  std::string v;
  EXPECT_TRUE(db_->SetEvictionPolicy("nope").IsInvalidArgument());
  ASSERT_TRUE(db_->GetProperty("ringdb.pool.policy", &v));
  EXPECT_EQ(v, "lru");
  ASSERT_TRUE(db_->SetEvictionPolicy("s3fifo").ok());
  ASSERT_TRUE(db_->GetProperty("ringdb.pool.policy", &v));
  EXPECT_EQ(v, "s3fifo");
  ASSERT_TRUE(db_->GetProperty("ringdb.cache.policies", &v));
  EXPECT_NE(v.find("s3fifo\t"), std::string::npos);
  EXPECT_EQ(v.find("lru\t", 0) == std::string::npos, false);
  EXPECT_NE(v.find("in use"), std::string::npos);
  EXPECT_GT(v.find("in use"), v.find("s3fifo"));
}

// A full pool, then a switch: the new policy must know every cached frame,
// or the next miss finds no victim (Busy).
TEST_F(CacheInsightTest, NewPolicyLearnsEveryCachedPage) {
  db_.reset();
  std::filesystem::remove_all(dir_);
  options_.buffer_pool_bytes = 64 * 4096;
  ASSERT_TRUE(DB::Open(options_, dir_, &db_).ok());
  const std::string value(200, 'w');
  for (int i = 0; i < 4000; i++) ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), value).ok());
  std::string got;
  for (const char* name : {"clock", "sieve", "s3fifo", "midpoint", "lru"}) {
    ASSERT_TRUE(db_->SetEvictionPolicy(name).ok()) << name;
    // Reads all over the key space: every one needs evictions.
    for (int i = 0; i < 4000; i += 37) {
      Status s = db_->Get(ReadOptions(), Key(i), &got);
      ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
      EXPECT_EQ(got, value);
    }
  }
}

// The policy and the pool size change again and again under four threads
// of mixed work.
TEST_F(CacheInsightTest, SwitchPolicyAndResizeUnderLoad) {
  db_.reset();
  std::filesystem::remove_all(dir_);
  options_.buffer_pool_bytes = 64 * 4096;  // constant eviction
  ASSERT_TRUE(DB::Open(options_, dir_, &db_).ok());
  MixedWorkWhile([&](int i) {
    const char* names[] = {"lru", "clock", "midpoint", "sieve", "s3fifo"};
    Status s = db_->SetEvictionPolicy(names[i % 5]);
    if (s.ok()) s = db_->SetBufferPoolBytes((i % 2 == 0 ? 32 : 64) * 4096);
    std::string v;
    db_->GetProperty("ringdb.cache.policies", &v);
    return s;
  });
}

// The pool grows past its size at Open (buffer_pool_max_bytes, in chunks of
// buffer_pool_chunk_bytes) and shrinks back across chunk boundaries under
// four threads of mixed work; beyond the maximum is refused.
TEST_F(CacheInsightTest, GrowPastTheOpenSizeUnderLoad) {
  db_.reset();
  std::filesystem::remove_all(dir_);
  options_.buffer_pool_bytes = 64 * 4096;
  options_.buffer_pool_max_bytes = 256 * 4096;
  options_.buffer_pool_chunk_bytes = 32 * 4096;
  ASSERT_TRUE(DB::Open(options_, dir_, &db_).ok());
  EXPECT_TRUE(db_->SetBufferPoolBytes(257 * 4096).IsInvalidArgument());
  ASSERT_TRUE(db_->SetBufferPoolBytes(256 * 4096).ok());
  EXPECT_EQ(Prop("ringdb.pool.bytes"), 256u * 4096);
  const uint32_t sizes[] = {256, 32, 160, 64, 200, 48, 97};
  MixedWorkWhile([&](int i) {
    const uint64_t frames = sizes[i % 7];
    Status s = db_->SetBufferPoolBytes(frames * 4096);
    if (s.ok() && Prop("ringdb.pool.used_frames") > frames) {
      s = Status::Corruption("more pages cached than the budget of " + std::to_string(frames));
    }
    return s;
  });
}

// The pool shrinks and grows online: the budget holds after a shrink,
// every key stays readable, the curve is reported around the new size,
// and sizes beyond the memory reserved at Open are refused.
TEST_F(CacheInsightTest, SetBufferPoolBytesShrinksAndGrows) {
  Load();
  ASSERT_TRUE(db_->SetBufferPoolBytes(kPoolBytes / 4).ok());
  EXPECT_EQ(Prop("ringdb.pool.bytes"), kPoolBytes / 4);
  EXPECT_LE(Prop("ringdb.pool.used_frames"), kPoolBytes / 4 / 4096);
  std::map<uint64_t, double> curve = Curve();
  ASSERT_FALSE(curve.empty());
  EXPECT_EQ(curve.begin()->first, kPoolBytes / 4 / 8);
  std::string got;
  for (int i = 0; i < kKeys; i += 97) {
    ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &got).ok()) << i;
    ASSERT_LE(Prop("ringdb.pool.used_frames"), kPoolBytes / 4 / 4096);
  }
  EXPECT_TRUE(db_->SetBufferPoolBytes(kPoolBytes * 2).IsInvalidArgument());
  EXPECT_TRUE(db_->SetBufferPoolBytes(15 * 4096).IsInvalidArgument());
  ASSERT_TRUE(db_->SetBufferPoolBytes(kPoolBytes).ok());
  EXPECT_EQ(Prop("ringdb.pool.bytes"), kPoolBytes);
  for (int i = 0; i < kKeys; i += 97) ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &got).ok());
  EXPECT_GT(Prop("ringdb.pool.used_frames"), kPoolBytes / 4 / 4096);
}

// A policy the application writes, handed over through the public API: it
// replaces the built-in one online and hears the pool's calls.
class CountingPolicy final : public EvictionPolicy {
 public:
  CountingPolicy() : inner_(NewEvictionPolicy("lru")) {}
  const char* Name() const override { return "counting-lru"; }
  void Init(uint32_t num_frames) override { inner_->Init(num_frames); }
  void OnInsert(FrameIndex frame) override {
    inserts_++;
    inner_->OnInsert(frame);
  }
  void OnAccess(FrameIndex frame) override {
    accesses_.fetch_add(1, std::memory_order_relaxed);
    inner_->OnAccess(frame);
  }
  void OnRemove(FrameIndex frame) override { inner_->OnRemove(frame); }
  bool Victim(const FrameFilter& filter, FrameIndex* victim) override {
    victims_++;
    return inner_->Victim(filter, victim);
  }
  uint64_t inserts_ = 0, victims_ = 0;  // serialized by the pool
  std::atomic<uint64_t> accesses_{0};

 private:
  std::unique_ptr<EvictionPolicy> inner_;
};

TEST_F(CacheInsightTest, SetEvictionPolicyTakesAUserObject) {
  Load();
  EXPECT_TRUE(db_->SetEvictionPolicy(std::shared_ptr<EvictionPolicy>()).IsInvalidArgument());
  auto policy = std::make_shared<CountingPolicy>();
  ASSERT_TRUE(db_->SetEvictionPolicy(policy).ok());
  std::string v;
  ASSERT_TRUE(db_->GetProperty("ringdb.pool.policy", &v));
  EXPECT_EQ(v, "counting-lru");
  EXPECT_GT(policy->inserts_, 0u);  // learned the cached pages
  std::string got;
  for (int i = 0; i < kKeys; i += 13) ASSERT_TRUE(db_->Get(ReadOptions(), Key(i), &got).ok());
  EXPECT_GT(policy->victims_, 0u);
  EXPECT_GT(policy->accesses_.load(), 0u);
}

}  // namespace cache_insight_test
}  // namespace ringdb
