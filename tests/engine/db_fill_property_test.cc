// The "ringdb.btree.fill" property (engine/db_properties.cc): its figures
// after a known load, on a cold pool after reopening, and its line in
// "ringdb.stats".
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb {
namespace db_fill_property_test {

namespace fs = std::filesystem;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%08d", i);
  return buf;
}

// Parses "name=value name=value ..." into numbers.
std::map<std::string, double> Pairs(const std::string& v) {
  std::map<std::string, double> out;
  std::istringstream in(v);
  std::string tok;
  while (in >> tok) {
    size_t eq = tok.find('=');
    EXPECT_NE(eq, std::string::npos) << tok;
    if (eq == std::string::npos) continue;
    out[tok.substr(0, eq)] = std::strtod(tok.c_str() + eq + 1, nullptr);
  }
  return out;
}

class FillPropertyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.File("db");
    options_.buffer_pool_bytes = 64 * 4096;
    options_.lock_pool_memory = false;
    options_.info_log = [](std::string_view) {};
  }
  std::map<std::string, double> Fill(DB* db) {
    std::string v;
    EXPECT_TRUE(db->GetProperty("ringdb.btree.fill", &v));
    return Pairs(v);
  }
  test::TempDir tmp_{"fillprop"};
  std::string dir_;
  Options options_;
};

TEST_F(FillPropertyTest, ReportsTheTreeAfterASequentialLoad) {
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
  auto empty = Fill(db.get());
  EXPECT_EQ(empty["entries"], 0);
  EXPECT_EQ(empty["leaf_pages"], 1);
  EXPECT_EQ(empty["user_bytes"], 0);

  const int n = 20000;
  for (int i = 0; i < n; i++) {
    ASSERT_TRUE(db->Put(WriteOptions(), Key(i), std::string(100, 'v')).ok());
  }
  for (bool reopened : {false, true}) {
    if (reopened) {  // a cold pool smaller than the tree: the walk reads it
      ASSERT_TRUE(db->Close().ok());
      db.reset();
      ASSERT_TRUE(DB::Open(options_, dir_, &db).ok());
    }
    auto f = Fill(db.get());
    EXPECT_EQ(f["entries"], n);
    EXPECT_EQ(f["user_bytes"], n * (9.0 + 100));
    EXPECT_GE(f["leaf_fill"], 0.95);
    EXPECT_LE(f["leaf_fill"], 1.0);
    EXPECT_GT(f["inner_fill"], 0.0);
    EXPECT_LE(f["inner_fill"], 1.0);
    // 30 cells of 9 + 100 bytes and more fit a 4 KiB leaf.
    EXPECT_LE(f["leaf_pages"], n / 30 + 2);
    EXPECT_GE(f["inner_pages"], 1);
    EXPECT_EQ(f["overflow_pages"], 0);
    EXPECT_EQ(f["live_page_bytes"], (1 + f["leaf_pages"] + f["inner_pages"]) * 4096);
    EXPECT_NEAR(f["user_bytes_per_page_byte"], f["user_bytes"] / f["live_page_bytes"], 1e-4);
    EXPECT_GT(f["user_bytes_per_page_byte"], 0.75);  // 109 of 4096 / 30 bytes at least
  }

  std::string names, stats;
  ASSERT_TRUE(db->GetProperty("ringdb.properties", &names));
  EXPECT_NE(names.find("ringdb.btree.fill\n"), std::string::npos) << names;
  ASSERT_TRUE(db->GetProperty("ringdb.btree.fill-summary", &stats));
  EXPECT_EQ(stats.rfind("btree: leaf fill ", 0), 0u) << stats;
  EXPECT_NE(stats.find(" per live page byte"), std::string::npos) << stats;
  // ringdb.stats stays cheap: no tree walk.
  ASSERT_TRUE(db->GetProperty("ringdb.stats", &stats));
  EXPECT_EQ(stats.find("btree: leaf fill "), std::string::npos) << stats;
  ASSERT_TRUE(db->Close().ok());
}

}  // namespace db_fill_property_test
}  // namespace ringdb
