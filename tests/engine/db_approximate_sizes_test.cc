// DB::GetApproximateSizes through the public API: estimates of a range's
// share of the data file, checked against the live pages and a std::map
// model of the entries' bytes, and odd ranges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_approximate_sizes_test {

class ApproximateSizesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.buffer_pool_bytes = 1 << 20;
    o.info_log = [](std::string_view) {};
    ASSERT_TRUE(DB::Open(o, dir_ + "/db", &db_).ok());
  }
  void TearDown() override {
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
    db_.reset();
  }

  uint64_t ModelBytes(const std::string& start, const std::string& limit) {
    uint64_t bytes = 0;
    for (auto it = model_.lower_bound(start); it != model_.end() && it->first < limit; ++it) {
      bytes += it->first.size() + it->second.size();
    }
    return bytes;
  }

  test::TempDir tmp_{"sizes"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
};

// Evenly sized entries: each range's estimate is close to its share of the
// live pages, adjacent ranges add up, and empty or reversed ranges give 0.
TEST_F(ApproximateSizesTest, EstimatesTheShareOfTheFileARangeHolds) {
  constexpr int kKeys = 20000;
  std::mt19937_64 rng(5);
  std::vector<int> order(kKeys);
  for (int i = 0; i < kKeys; i++) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  char key[32];
  for (int i : order) {
    std::snprintf(key, sizeof(key), "k%08d", i);
    ASSERT_TRUE(db_->Put(WriteOptions(), key, std::string(100, 'v')).ok());
    model_[key] = std::string(100, 'v');
  }
  std::string live;
  ASSERT_TRUE(db_->GetProperty("ringdb.store.live_pages", &live));
  const double file = std::stod(live) * 4096;
  auto k = [](int i) {
    char b[32];
    std::snprintf(b, sizeof(b), "k%08d", i);
    return std::string(b);
  };
  const std::string a = k(0), q1 = k(kKeys / 4), mid = k(kKeys / 2), q3 = k(3 * kKeys / 4);
  const std::string end = "l";  // past every key
  DB::Range ranges[] = {{a, end}, {a, mid}, {mid, end}, {q1, q3}, {"a", "b"}, {mid, a}, {q1, q1}};
  constexpr int n = sizeof(ranges) / sizeof(ranges[0]);
  uint64_t sizes[n];
  ASSERT_TRUE(db_->GetApproximateSizes(ranges, n, sizes).ok());
  // Everything: about the whole file (the inner pages are a few percent).
  EXPECT_GT(sizes[0], file * 0.9);
  EXPECT_LE(sizes[0], file * 1.0 + 1);
  // Halves add up to the whole (the estimate is one rank per key).
  EXPECT_NEAR(static_cast<double>(sizes[1] + sizes[2]), static_cast<double>(sizes[0]), 2.0);
  // Half the keys: half the file, within the spread of B+tree node fill.
  EXPECT_GT(sizes[1], file * 0.3);
  EXPECT_LT(sizes[1], file * 0.7);
  EXPECT_GT(sizes[3], file * 0.3);
  EXPECT_LT(sizes[3], file * 0.7);
  // Outside the keys, reversed, empty.
  EXPECT_EQ(sizes[4], 0u);
  EXPECT_EQ(sizes[5], 0u);
  EXPECT_EQ(sizes[6], 0u);
  // The bytes the entries take, for scale: the estimate is file bytes, so
  // at least the user bytes of the range, less the fill's slack.
  EXPECT_GT(static_cast<double>(sizes[1]), ModelBytes(a, mid) * 0.8);
}

TEST_F(ApproximateSizesTest, NullArraysAreInvalidAndZeroRangesAreFine) {
  uint64_t size = 0;
  EXPECT_TRUE(db_->GetApproximateSizes(nullptr, 1, &size).IsInvalidArgument());
  EXPECT_TRUE(db_->GetApproximateSizes(nullptr, 0, nullptr).ok());
}

}  // namespace db_approximate_sizes_test
}  // namespace ringdb
