// The shell's default pool under RLIMIT_MEMLOCK (tools/shell_memlock.h).
#include "shell_memlock.h"

#include <gtest/gtest.h>

namespace ringdb::shell {
namespace shell_memlock_test {

constexpr size_t kDefault = 64 << 20;

TEST(ChooseDefaultPoolTest, KeepsTheDefaultWhenItCanBeLocked) {
  std::string note;
  EXPECT_EQ(ChooseDefaultPool(kUnlimitedLock, kDefault, &note), kDefault);
  EXPECT_EQ(note, "");
  EXPECT_EQ(ChooseDefaultPool(1ull << 30, kDefault, &note), kDefault);
  EXPECT_EQ(note, "");
}

TEST(ChooseDefaultPoolTest, ANormalUsersEightMiBGiveASevenMiBPoolAndSaySo) {
  std::string note;
  EXPECT_EQ(ChooseDefaultPool(8 << 20, kDefault, &note), 7u << 20);
  EXPECT_EQ(note, "pool 7 MiB: what RLIMIT_MEMLOCK (8 MiB) lets this process lock, instead of "
                  "the default 64 MiB (--pool SIZE to choose)");
  // Whole 64 KiB, headroom of an eighth below 8 MiB.
  EXPECT_EQ(ChooseDefaultPool(4 << 20, kDefault, &note), 3584u << 10);
  EXPECT_EQ(ChooseDefaultPool((64 << 20) + 100, kDefault, &note), 63u << 20);
}

TEST(ChooseDefaultPoolTest, TooLittleToLockLeavesTheEngineDefault) {
  std::string note = "stale";
  EXPECT_EQ(ChooseDefaultPool(512 << 10, kDefault, &note), 0u);
  EXPECT_EQ(note, "");
}

}  // namespace shell_memlock_test
}  // namespace ringdb::shell
