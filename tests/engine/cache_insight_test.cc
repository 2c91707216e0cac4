// Cache insight through the public API: the ringdb.cache.* properties'
// format, and the predicted miss ratio at the pool's size against the one
// the pool measures on a Zipfian point-read workload (lru policy).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "bufferpool/zipf_test_util.h"
#include "ringdb/db.h"
#include "ringdb/write_batch.h"

namespace ringdb {
namespace {

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
    dir_ = std::filesystem::temp_directory_path().string() + "/ringdb_cache_insight_" +
           std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    options_.io_backend = IoBackendKind::kPread;
    options_.buffer_pool_bytes = kPoolBytes;
    options_.eviction_policy = "lru";
    options_.info_log = [](std::string_view) {};
    ASSERT_TRUE(DB::Open(options_, dir_, &db_).ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

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
    if (n == 0) EXPECT_EQ(bytes, kPoolBytes / 8);
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

}  // namespace
}  // namespace ringdb
