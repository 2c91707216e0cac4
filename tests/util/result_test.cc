// Result<T>: a value or a non-OK Status, and the two programmer errors that
// abort (an OK Status without a value; value() of an error).
#include "util/result.h"

#include <gtest/gtest.h>

#include <string>

namespace ringdb {
namespace result_test {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

TEST(ResultTest, HoldsAValueOrTheError) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  EXPECT_TRUE(r.status().ok());
  Result<int> e = Half(3);
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument());
}

TEST(ResultTest, MovesTheValueOut) {
  Result<std::string> r(std::string(100, 'x'));
  std::string s = std::move(r).value();
  EXPECT_EQ(s.size(), 100u);
}

TEST(ResultDeathTest, BuiltFromOkStatusAborts) {
  EXPECT_DEATH({ Result<int> r(Status::OK()); (void)r; }, "check failed");
}

TEST(ResultDeathTest, ValueOfAnErrorAborts) {
  Result<int> e = Half(3);
  EXPECT_DEATH({ (void)e.value(); }, "check failed");
  EXPECT_DEATH({ (void)*e; }, "check failed");
  Result<std::string> s(Status::IOError("gone"));
  EXPECT_DEATH({ (void)s->size(); }, "check failed");
}

}  // namespace result_test
}  // namespace ringdb
