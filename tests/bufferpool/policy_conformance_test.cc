// One conformance test run against every built-in eviction policy: random
// enter / touch / pin / unpin / leave sequences checked against the
// simplest model of what Victim must answer: it returns true exactly when
// some tracked frame passes the filter, and it never names a refused or
// untracked frame. Heavy touching drives the policies' counters and bits
// to their limits, where second-chance walks are easy to get wrong.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ringdb/eviction_policy.h"

namespace ringdb {
namespace policy_conformance_test {

class PinFilter final : public FrameFilter {
 public:
  explicit PinFilter(uint32_t n) : pinned(n, false) {}
  bool CanEvict(FrameIndex frame) const override { return !pinned.at(frame); }
  std::vector<bool> pinned;
};

class PolicyConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PolicyConformanceTest, VictimExistsExactlyWhenAnUnpinnedFrameDoes) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    const uint32_t n = 2 + rng() % 40;
    std::unique_ptr<EvictionPolicy> p = NewEvictionPolicy(GetParam());
    ASSERT_NE(p, nullptr);
    p->Init(n);
    PinFilter filter(n);
    std::vector<bool> tracked(n, false);
    // Each seed leans toward a different mix: some keep most frames pinned,
    // some touch a lot.
    const uint32_t pin_pct = rng() % 90;
    const uint32_t touch_weight = 1 + rng() % 6;
    for (int op = 0; op < 4000; ++op) {
      const FrameIndex f = static_cast<FrameIndex>(rng() % n);
      const uint32_t r = rng() % (6 + touch_weight);
      if (r == 0) {  // enter
        if (!tracked[f]) {
          p->OnInsert(f);
          tracked[f] = true;
        }
      } else if (r == 1) {  // leave
        if (tracked[f]) {
          p->OnRemove(f);
          tracked[f] = false;
        }
      } else if (r == 2 || r == 3) {  // pin or unpin
        filter.pinned[f] = rng() % 100 < pin_pct;
      } else if (r == 4 || r == 5) {  // ask for a victim, maybe evict it
        bool any = false;
        for (FrameIndex g = 0; g < n; ++g) any = any || (tracked[g] && !filter.pinned[g]);
        FrameIndex v = n;
        const bool found = p->Victim(filter, &v);
        ASSERT_EQ(found, any) << GetParam() << " seed " << seed << " op " << op
                              << ": Victim must be true exactly when an unpinned frame exists";
        if (!found) continue;
        ASSERT_LT(v, n);
        ASSERT_TRUE(tracked[v]) << "untracked victim " << v << " seed " << seed;
        ASSERT_FALSE(filter.pinned[v]) << "pinned victim " << v << " seed " << seed;
        if (rng() % 3 != 0) {
          p->OnRemove(v);
          tracked[v] = false;
        }
      } else {  // touch (several times: counters saturate)
        if (tracked[f]) {
          for (uint32_t k = rng() % 4; k < 4; ++k) p->OnAccess(f);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Builtin, PolicyConformanceTest,
                         ::testing::ValuesIn(EvictionPolicyNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace policy_conformance_test
}  // namespace ringdb
