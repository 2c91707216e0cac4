// PolicySimulator (a policy driven alone over page ids) and s3fifo's ghost
// entries, which need the page ids the simulator (or the pool) gives it.
#include "bufferpool/eviction/policy_sim.h"

#include <gtest/gtest.h>

namespace ringdb {
namespace policy_sim_test {

TEST(PolicySimulatorTest, LruSimulatorMatchesExactLruOnACycle) {
  auto sim = PolicySimulator::Create("lru", 50);
  ASSERT_NE(sim, nullptr);
  EXPECT_EQ(PolicySimulator::Create("nope", 50), nullptr);
  for (int pass = 0; pass < 10; pass++) {
    for (uint64_t p = 0; p < 40; p++) sim->Access(p);
  }
  EXPECT_EQ(sim->misses(), 40u);
  EXPECT_EQ(sim->hits(), 360u);
}

// S3-FIFO's ghost queue: a page evicted from the small queue and requested
// again enters the main queue, so it survives a scan that flushes S.
TEST(PolicySimulatorTest, S3FifoGhostsLetReturningPagesIntoMain) {
  auto sim = PolicySimulator::Create("s3fifo", 20);  // S holds 2 frames
  ASSERT_NE(sim, nullptr);
  uint64_t next = 1000;
  // Fill the cache with single-use pages, request page 1 once (it enters
  // S behind 19 others) and push it out of S with 25 more: as a ghost it
  // enters M when it comes back.
  for (int i = 0; i < 20; i++) sim->Access(next++);
  sim->Access(1);
  for (int i = 0; i < 25; i++) sim->Access(next++);
  EXPECT_FALSE(sim->Access(1));
  // 25 more single-use pages pass through S; page 1, in M, stays (without
  // the ghost it would have re-entered S and left it again).
  for (int i = 0; i < 25; i++) sim->Access(next++);
  EXPECT_TRUE(sim->Access(1));
}

}  // namespace policy_sim_test
}  // namespace ringdb
