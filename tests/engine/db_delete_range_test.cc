// DB::DeleteRange and the ringdb.estimate-num-keys property through the
// public API, against a std::map model.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_delete_range_test {

class DeleteRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.buffer_pool_bytes = 2 << 20;
    o.info_log = [](std::string_view) {};
    ASSERT_TRUE(DB::Open(o, dir_ + "/db", &db_).ok());
  }
  void TearDown() override {
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
    db_.reset();
  }

  std::map<std::string, std::string> Contents() {
    std::map<std::string, std::string> out;
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) out[std::string(it->key())] = it->value();
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  uint64_t Estimate() {
    std::string v;
    EXPECT_TRUE(db_->GetProperty("ringdb.estimate-num-keys", &v));
    return std::stoull(v);
  }

  test::TempDir tmp_{"delrange"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<DB> db_;
};

TEST_F(DeleteRangeTest, MatchesAModelAcrossChunks) {
  std::mt19937 rng(99);
  std::map<std::string, std::string> model;
  WriteBatch batch;
  for (int i = 0; i < 5000; ++i) {
    std::string k(1 + rng() % 6, '\0');
    for (char& c : k) c = static_cast<char>(rng() % 4);  // Many shared prefixes, NUL bytes.
    batch.Put(k, "v");
    model[k] = "v";
  }
  ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
  EXPECT_EQ(Estimate(), model.size());
  EXPECT_NE(std::string::npos, [&] {
    std::string v;
    db_->GetProperty("ringdb.properties", &v);
    return v.find("ringdb.estimate-num-keys");
  }());
  for (int round = 0; round < 20; ++round) {
    std::string a(1 + rng() % 4, '\0'), b(1 + rng() % 4, '\0');
    for (char& c : a) c = static_cast<char>(rng() % 4);
    for (char& c : b) c = static_cast<char>(rng() % 4);
    uint64_t deleted = 12345;
    ASSERT_TRUE(db_->DeleteRange(WriteOptions(), a, b, &deleted).ok());
    uint64_t want = 0;
    if (a < b) {
      for (auto it = model.lower_bound(a); it != model.end() && it->first < b;) {
        it = model.erase(it);
        ++want;
      }
    }
    EXPECT_EQ(deleted, want) << round;
    ASSERT_EQ(Contents(), model) << round;
  }
  EXPECT_EQ(Estimate(), model.size());
  // The whole key space, with more keys than one chunk.
  WriteBatch more;
  for (int i = 0; i < 2500; ++i) more.Put("z" + std::to_string(i), "v");
  ASSERT_TRUE(db_->Write(WriteOptions(), &more).ok());
  uint64_t deleted = 0;
  ASSERT_TRUE(db_->DeleteRange(WriteOptions(), "", "\xff", &deleted).ok());
  EXPECT_GE(deleted, 2500u);
  EXPECT_TRUE(Contents().empty());
  EXPECT_EQ(Estimate(), 0u);
}

TEST_F(DeleteRangeTest, ReadOnlyIsRefused) {
  ASSERT_TRUE(db_->Put(WriteOptions(), "a", "1").ok());
  ASSERT_TRUE(db_->Close().ok());
  Options o;
  o.read_only = true;
  o.info_log = [](std::string_view) {};
  ASSERT_TRUE(DB::Open(o, dir_ + "/db", &db_).ok());
  EXPECT_FALSE(db_->DeleteRange(WriteOptions(), "a", "b").ok());
  EXPECT_EQ(Contents().size(), 1u);
}

}  // namespace db_delete_range_test
}  // namespace ringdb
