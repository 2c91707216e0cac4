// The plain directory operations of io/dir_ops.h: listing, kinds of paths,
// the directory fsync, and removal.
#include "io/dir_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/util/temp_dir.h"

namespace ringdb::io {
namespace dir_ops_test {

TEST(DirOpsTest, ListsKindsAndRemoves) {
  test::TempDir tmp("dir_ops");
  const std::string dir = tmp.path() + "/d";
  EXPECT_EQ(PathKindOf(dir), PathKind::kMissing);
  EXPECT_TRUE(ListDirectoryPlain(dir).status().IsNotFound());
  ASSERT_TRUE(MakeDirectoryPlain(dir).ok());
  ASSERT_TRUE(MakeDirectoryPlain(dir).ok());  // exists already: OK
  EXPECT_EQ(PathKindOf(dir), PathKind::kDirectory);
  std::ofstream(dir + "/a") << "x";
  std::ofstream(dir + "/b") << "y";
  EXPECT_EQ(PathKindOf(dir + "/a"), PathKind::kFile);
  Result<std::vector<std::string>> names = ListDirectoryPlain(dir);
  ASSERT_TRUE(names.ok());
  std::vector<std::string> sorted = *names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SyncDirectoryPlain(dir).ok());
  EXPECT_FALSE(RemoveDirectoryPlain(dir).ok());  // not empty
  ASSERT_TRUE(UnlinkPlain(dir + "/a").ok());
  ASSERT_TRUE(UnlinkPlain(dir + "/b").ok());
  EXPECT_TRUE(UnlinkPlain(dir + "/b").IsNotFound());
  EXPECT_TRUE(RemoveDirectoryPlain(dir).ok());
  EXPECT_EQ(PathKindOf(dir), PathKind::kMissing);
  EXPECT_FALSE(SyncDirectoryPlain(dir).ok());
}

}  // namespace dir_ops_test
}  // namespace ringdb::io
