// MissRatioCurve and PolicySimulator: the curve on traces whose LRU miss
// ratios are known exactly, the bounded (fixed-size) sampling, and the
// accuracy on fixed Zipfian traces: the sampled curve against an exact LRU
// simulation at 1/4x, 1x and 4x the pool, and each policy's mini-simulation
// against a full-size simulation of the same policy.
#include "bufferpool/mrc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <list>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bufferpool/eviction/policy_sim.h"
#include "bufferpool/zipf_test_util.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {
namespace mrc_test {

// The exact LRU miss ratio of `trace` with `frames` frames.
double ExactLru(const std::vector<uint64_t>& trace, size_t frames) {
  std::list<uint64_t> order;  // front: most recent
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where;
  uint64_t misses = 0;
  for (uint64_t p : trace) {
    auto it = where.find(p);
    if (it != where.end()) {
      order.splice(order.begin(), order, it->second);
      continue;
    }
    misses++;
    if (order.size() == frames) {
      where.erase(order.back());
      order.pop_back();
    }
    order.push_front(p);
    where[p] = order.begin();
  }
  return static_cast<double>(misses) / static_cast<double>(trace.size());
}

std::vector<uint64_t> ZipfTrace(uint64_t pages, double theta, size_t length, uint64_t seed) {
  test::Zipf z(pages, theta, seed);
  std::vector<uint64_t> trace(length);
  // Ranks are scattered over page ids so that hot pages are not neighbours.
  for (uint64_t& p : trace) p = (z.Next() * 0x9E3779B1ull) % (pages * 7919);
  return trace;
}

TEST(MissRatioCurveTest, CyclicTraceIsExactAtFullRate) {
  MrcOptions o;
  o.initial_rate = 1.0;
  MissRatioCurve mrc(100, o);
  // 20 passes over 100 pages: with 100 frames only the first pass misses;
  // with fewer, LRU misses every access.
  for (int pass = 0; pass < 20; pass++) {
    for (uint64_t p = 0; p < 100; p++) mrc.Record(p);
  }
  EXPECT_EQ(mrc.samples(), 2000u);
  EXPECT_NEAR(mrc.MissRatioAt(100), 0.05, 1e-9);
  EXPECT_NEAR(mrc.MissRatioAt(200), 0.05, 1e-9);
  EXPECT_NEAR(mrc.MissRatioAt(99), 1.0, 1e-9);
  EXPECT_NEAR(mrc.MissRatioAt(12), 1.0, 1e-9);
}

TEST(MissRatioCurveTest, CurveCoversEighthToEightTimesInIncreasingOrder) {
  MrcOptions o;
  o.initial_rate = 1.0;
  MissRatioCurve mrc(1024, o);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; i++) mrc.Record(rng() % 4096);
  std::vector<MrcPoint> curve = mrc.Curve();
  ASSERT_GE(curve.size(), 16u);
  EXPECT_EQ(curve.front().frames, 128u);
  EXPECT_EQ(curve.back().frames, 8192u);
  for (size_t i = 1; i < curve.size(); i++) {
    EXPECT_GT(curve[i].frames, curve[i - 1].frames);
    EXPECT_LE(curve[i].miss_ratio, curve[i - 1].miss_ratio + 1e-12);
  }
  // Uniform over 4096 pages: LRU at c frames misses about 1 - c / 4096.
  EXPECT_NEAR(curve[12].miss_ratio, 0.75, 0.02);  // 1024 frames
  EXPECT_NEAR(curve.back().miss_ratio, 4096.0 / 200000, 0.002);  // only cold misses
}

TEST(MissRatioCurveTest, FixedSizeSamplingBoundsTrackedPagesAndLowersTheRate) {
  MrcOptions o;
  o.initial_rate = 1.0;
  o.max_samples = 256;
  MissRatioCurve mrc(64, o);
  // Two passes over 20000 distinct pages: far more than 256 are sampled
  // at rate 1, so the threshold must come down to about 256 / 20000.
  for (int pass = 0; pass < 2; pass++) {
    for (uint64_t p = 0; p < 20000; p++) mrc.Record(p);
  }
  EXPECT_LT(mrc.rate(), 0.02);
  EXPECT_GT(mrc.rate(), 0.005);
  // Memory stays bounded by max_samples, not by the 20000 pages.
  EXPECT_LT(mrc.MemoryBytes(), size_t{200} << 10);
  // Every access misses at 8x the pool (512 frames << 20000 pages).
  EXPECT_NEAR(mrc.MissRatioAt(512), 1.0, 0.01);
  uint64_t before = mrc.samples();
  EXPECT_GT(before, 0u);
  mrc.Reset();
  EXPECT_EQ(mrc.samples(), 0u);
  EXPECT_EQ(mrc.rate(), 1.0);
}

TEST(MissRatioCurveTest, ConcurrentRecordersAreAllCounted) {
  MrcOptions o;
  o.initial_rate = 1.0;
  MissRatioCurve mrc(256, o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&mrc, t] {
      for (uint64_t i = 0; i < 20000; i++) mrc.Record((i * 31 + t) % 1000);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mrc.samples(), 80000u);
}

struct AccuracyCase {
  double theta;
  uint64_t seed;
};

class MrcAccuracyTest : public ::testing::TestWithParam<AccuracyCase> {};

// The targets: within 0.02 at the pool size and 0.03 at 1/4x and
// 4x of an exact LRU run; each policy's mini-simulation within 0.015 of a
// full-size simulation of that policy.
TEST_P(MrcAccuracyTest, PredictionsMatchExactSimulations) {
  constexpr uint32_t kFrames = 2048;
  constexpr uint64_t kPages = 10 * kFrames;
  const AccuracyCase c = GetParam();
  std::vector<uint64_t> trace = ZipfTrace(kPages, c.theta, 1500000, c.seed);

  MissRatioCurve mrc(kFrames, MrcOptions());
  std::atomic<uint64_t> accesses{0};
  mrc.SetAccessCounter([&accesses] { return accesses.load(); });
  for (uint64_t p : trace) {
    accesses.fetch_add(1, std::memory_order_relaxed);
    mrc.Record(p);
  }
  std::printf("theta %.2f: rate %.4f, %llu samples, %zu bytes\n", c.theta, mrc.rate(),
              static_cast<unsigned long long>(mrc.samples()), mrc.MemoryBytes());
  for (double factor : {0.25, 1.0, 4.0}) {
    size_t frames = static_cast<size_t>(kFrames * factor);
    double exact = ExactLru(trace, frames);
    double predicted = mrc.MissRatioAt(frames);
    std::printf("  lru %5zu frames: exact %.4f predicted %.4f (error %+.4f)\n", frames, exact,
                predicted, predicted - exact);
    EXPECT_NEAR(predicted, exact, factor == 1.0 ? 0.02 : 0.03) << frames << " frames";
  }
  for (const PolicyEstimate& est : mrc.Policies()) {
    auto full = PolicySimulator::Create(est.name, kFrames);
    ASSERT_NE(full, nullptr);
    for (uint64_t p : trace) full->Access(p);
    std::printf("  %-8s full %.4f mini %.4f (error %+.4f)\n", est.name.c_str(),
                full->MissRatio(), est.miss_ratio, est.miss_ratio - full->MissRatio());
    EXPECT_NEAR(est.miss_ratio, full->MissRatio(), 0.015) << est.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Zipf, MrcAccuracyTest,
                         ::testing::Values(AccuracyCase{0.9, 1}, AccuracyCase{0.99, 2}),
                         [](const auto& info) {
                           return info.param.theta < 0.95 ? std::string("Theta090")
                                                          : std::string("Theta099");
                         });

}  // namespace mrc_test
}  // namespace ringdb
