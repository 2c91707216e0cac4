// DB::GetApproximateSizes through the public API, against a std::map model
// (key + value bytes per range), overflowing values and odd ranges included.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "ringdb/db.h"

namespace ringdb {
namespace {

class ApproximateSizesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringdb_sizes_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Options o;
    o.buffer_pool_bytes = 1 << 20;
    o.info_log = [](std::string_view) {};
    ASSERT_TRUE(DB::Open(o, dir_ + "/db", &db_).ok());
  }
  void TearDown() override {
    if (db_) EXPECT_TRUE(db_->Close().ok());
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint64_t ModelBytes(const std::string& start, const std::string& limit) {
    uint64_t bytes = 0;
    for (auto it = model_.lower_bound(start); it != model_.end() && it->first < limit; ++it) {
      bytes += it->first.size() + it->second.size();
    }
    return bytes;
  }

  std::string dir_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
};

TEST_F(ApproximateSizesTest, MatchesTheModelOnAQuietDatabase) {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; i++) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%05d", static_cast<int>(rng() % 10000));
    // A few values overflow into their own pages.
    const size_t len = i % 500 == 0 ? 70000 : rng() % 300;
    std::string value(len, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(db_->Put(WriteOptions(), key, value).ok());
    model_[key] = value;
  }
  for (int i = 0; i < 10000; i += 7) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%05d", i);
    if (i % 3 == 0) {
      ASSERT_TRUE(db_->Delete(WriteOptions(), key).ok());
      model_.erase(key);
    }
  }
  const DB::Range ranges[] = {
      {"", "\xff"},          // everything
      {"k01000", "k02000"},  // a slice
      {"k02000", "k01000"},  // start > limit: nothing
      {"k05000", "k05000"},  // empty
      {"a", "b"},            // before the data
      {"z", "zz"},           // after it
      {"k09990", "\xff"},    // the tail
  };
  constexpr int n = sizeof(ranges) / sizeof(ranges[0]);
  uint64_t sizes[n];
  ASSERT_TRUE(db_->GetApproximateSizes(ranges, n, sizes).ok());
  for (int i = 0; i < n; i++) {
    EXPECT_EQ(sizes[i], ModelBytes(std::string(ranges[i].start), std::string(ranges[i].limit)))
        << "range " << i;
  }
  EXPECT_GT(sizes[0], 6 * 70000u);  // the overflowed values count whole
  EXPECT_EQ(sizes[2], 0u);
  EXPECT_EQ(sizes[3], 0u);
  // The parts add up to the whole.
  const DB::Range halves[] = {{"", "k05000"}, {"k05000", "\xff"}};
  uint64_t parts[2];
  ASSERT_TRUE(db_->GetApproximateSizes(halves, 2, parts).ok());
  EXPECT_EQ(parts[0] + parts[1], sizes[0]);
}

TEST_F(ApproximateSizesTest, NullArraysAreInvalidAndZeroRangesAreFine) {
  uint64_t size = 0;
  EXPECT_TRUE(db_->GetApproximateSizes(nullptr, 1, &size).IsInvalidArgument());
  EXPECT_TRUE(db_->GetApproximateSizes(nullptr, 0, nullptr).ok());
}

}  // namespace
}  // namespace ringdb
