// Tests of the built-in eviction policies: invariants every policy must keep
// (run for each name in EvictionPolicyNames()), exact victims on small
// hand-made sequences per policy, and hit ratios on traces replayed through
// a small cache simulator (page -> frame over N frames) that drives the
// policy the way the buffer pool does.
#include <algorithm>
#include <cstdint>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "bufferpool/eviction/policy_util.h"
#include "ringdb/eviction_policy.h"

namespace ringdb {
namespace eviction_policy_test {

// Refuses the frames marked in `refused` (pinned, or already chosen).
class SetFilter final : public FrameFilter {
 public:
  explicit SetFilter(uint32_t n) : refused(n, false) {}
  bool CanEvict(FrameIndex frame) const override { return !refused.at(frame); }
  std::vector<bool> refused;
};

class AcceptAll final : public FrameFilter {
 public:
  bool CanEvict(FrameIndex) const override { return true; }
};

std::unique_ptr<EvictionPolicy> MakePolicy(const std::string& name, uint32_t frames) {
  std::unique_ptr<EvictionPolicy> p = NewEvictionPolicy(name);
  if (p != nullptr) p->Init(frames);
  return p;
}

// A cache of `frames` frames in front of an unbounded set of pages, with the
// policy deciding what leaves. Checks on every miss that the policy's victim
// holds a page.
class CacheSim {
 public:
  CacheSim(EvictionPolicy* policy, uint32_t frames)
      : policy_(policy), frame_page_(frames, kNoPage) {
    for (uint32_t f = frames; f > 0; --f) free_.push_back(f - 1);
  }

  // Returns true on a hit.
  bool Access(uint64_t page) {
    auto it = table_.find(page);
    if (it != table_.end()) {
      policy_->OnAccess(it->second);
      ++hits_;
      return true;
    }
    ++misses_;
    FrameIndex frame;
    if (!free_.empty()) {
      frame = free_.back();
      free_.pop_back();
    } else {
      AcceptAll all;
      EXPECT_TRUE(policy_->Victim(all, &frame));
      EXPECT_LT(frame, frame_page_.size());
      EXPECT_NE(frame_page_[frame], kNoPage) << "victim holds no page";
      table_.erase(frame_page_[frame]);
      policy_->OnRemove(frame);
    }
    frame_page_[frame] = page;
    table_[page] = frame;
    policy_->OnInsert(frame);
    return false;
  }

  bool Cached(uint64_t page) const { return table_.count(page) != 0; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  static constexpr uint64_t kNoPage = ~0ull;
  EvictionPolicy* policy_;
  std::vector<uint64_t> frame_page_;
  std::vector<FrameIndex> free_;
  std::unordered_map<uint64_t, FrameIndex> table_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

// A hot set of `hot` pages read at random, interrupted `rounds` times by a
// scan over `scan_len` pages that are read once and never again.
std::vector<uint64_t> HotSetWithScans(uint32_t hot, uint32_t hot_ops, uint32_t scan_len,
                                      uint32_t rounds, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint64_t> pick(0, hot - 1);
  std::vector<uint64_t> trace;
  uint64_t next_scan_page = 1'000'000;
  for (uint32_t r = 0; r < rounds; ++r) {
    for (uint32_t i = 0; i < hot_ops; ++i) trace.push_back(pick(rng));
    for (uint32_t i = 0; i < scan_len; ++i) trace.push_back(next_scan_page++);
  }
  for (uint32_t i = 0; i < hot_ops; ++i) trace.push_back(pick(rng));
  return trace;
}

uint64_t Hits(const std::string& name, uint32_t frames, const std::vector<uint64_t>& trace) {
  std::unique_ptr<EvictionPolicy> p = MakePolicy(name, frames);
  CacheSim sim(p.get(), frames);
  for (uint64_t page : trace) sim.Access(page);
  return sim.hits();
}

TEST(EvictionRegistryTest, NamesCreateTheirPolicy) {
  std::vector<std::string> names = EvictionPolicyNames();
  EXPECT_EQ(names, (std::vector<std::string>{"lru", "clock", "midpoint", "sieve", "s3fifo"}));
  for (const std::string& name : names) {
    std::unique_ptr<EvictionPolicy> p = NewEvictionPolicy(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(std::string(p->Name()), name);
  }
  EXPECT_EQ(NewEvictionPolicy("LRU"), nullptr);
  EXPECT_EQ(NewEvictionPolicy(""), nullptr);
  EXPECT_EQ(NewEvictionPolicy("arc"), nullptr);
}

class EveryPolicyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPolicyTest, NothingTrackedMeansNoVictim) {
  auto p = MakePolicy(GetParam(), 8);
  AcceptAll all;
  FrameIndex v = 12345;
  EXPECT_FALSE(p->Victim(all, &v));
  p->OnInsert(3);
  p->OnRemove(3);
  EXPECT_FALSE(p->Victim(all, &v));
  EXPECT_EQ(v, 12345u);
}

TEST_P(EveryPolicyTest, FalseWhenEveryFrameIsRefused) {
  const uint32_t n = 16;
  auto p = MakePolicy(GetParam(), n);
  SetFilter filter(n);
  for (FrameIndex f = 0; f < n; ++f) {
    p->OnInsert(f);
    if (f % 3 == 0) p->OnAccess(f);
    filter.refused[f] = true;
  }
  FrameIndex v;
  EXPECT_FALSE(p->Victim(filter, &v));
  // Still false on a second call (no state left half-changed).
  EXPECT_FALSE(p->Victim(filter, &v));
  filter.refused[11] = false;
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 11u);
}

TEST_P(EveryPolicyTest, PinnedAndRemovedFramesAreNeverChosen) {
  const uint32_t n = 32;
  auto p = MakePolicy(GetParam(), n);
  SetFilter filter(n);
  for (FrameIndex f = 0; f < n; ++f) p->OnInsert(f);
  for (FrameIndex f = 0; f < n; f += 2) filter.refused[f] = true;  // pinned
  for (FrameIndex f = 1; f < n; f += 4) p->OnRemove(f);            // dropped
  for (int round = 0; round < 100; ++round) {
    FrameIndex v;
    ASSERT_TRUE(p->Victim(filter, &v));
    EXPECT_EQ(v % 4, 3u) << "victim " << v << " is pinned or untracked";
    if (round % 2 == 0) p->OnAccess(v);  // sometimes the pool keeps it
  }
}

// The pool gathers a batch of victims before removing any, refusing the
// ones it already holds: the policy must name each evictable frame once and
// then report that none is left.
TEST_P(EveryPolicyTest, BatchOfVictimsNamesEachEvictableFrameOnce) {
  const uint32_t n = 24;
  auto p = MakePolicy(GetParam(), n);
  SetFilter filter(n);
  for (FrameIndex f = 0; f < n; ++f) p->OnInsert(f);
  for (FrameIndex f = 0; f < n; f += 5) p->OnAccess(f);
  for (FrameIndex f = 0; f < n; f += 7) filter.refused[f] = true;
  uint32_t evictable = 0;
  for (FrameIndex f = 0; f < n; ++f) evictable += filter.refused[f] ? 0 : 1;
  std::vector<FrameIndex> chosen;
  FrameIndex v;
  while (p->Victim(filter, &v)) {
    ASSERT_LT(v, n);
    ASSERT_FALSE(filter.refused[v]) << "frame " << v << " named twice or pinned";
    filter.refused[v] = true;
    chosen.push_back(v);
    ASSERT_LE(chosen.size(), evictable);
  }
  EXPECT_EQ(chosen.size(), evictable);
  for (FrameIndex f : chosen) p->OnRemove(f);
}

// Random inserts, accesses, removals, pins and victim requests against a
// model of which frames are tracked and pinned.
TEST_P(EveryPolicyTest, RandomOperationsKeepInvariants) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    const uint32_t n = 1 + seed * 7;
    auto p = MakePolicy(GetParam(), n);
    SetFilter pinned(n);
    std::vector<bool> tracked(n, false);
    std::mt19937 rng(seed);
    auto random_frame = [&] { return static_cast<FrameIndex>(rng() % n); };
    for (int op = 0; op < 20000; ++op) {
      FrameIndex f = random_frame();
      switch (rng() % 6) {
        case 0:
          if (!tracked[f]) {
            p->OnInsert(f);
            tracked[f] = true;
          }
          break;
        case 1:
        case 2:
          if (tracked[f]) p->OnAccess(f);
          break;
        case 3:
          if (tracked[f] && rng() % 4 == 0) {
            p->OnRemove(f);
            tracked[f] = false;
          }
          break;
        case 4:
          pinned.refused[f] = rng() % 3 == 0;
          break;
        default: {
          bool any_evictable = false;
          for (FrameIndex g = 0; g < n; ++g) any_evictable |= tracked[g] && !pinned.refused[g];
          FrameIndex v;
          bool found = p->Victim(pinned, &v);
          ASSERT_EQ(found, any_evictable) << "seed " << seed << " op " << op;
          if (!found) break;
          ASSERT_LT(v, n);
          ASSERT_TRUE(tracked[v]) << "untracked victim " << v << " seed " << seed;
          ASSERT_FALSE(pinned.refused[v]) << "pinned victim " << v << " seed " << seed;
          if (rng() % 4 != 0) {
            p->OnRemove(v);
            tracked[v] = false;
          }
        }
      }
    }
  }
}

// A working set that fits costs only its first misses, whatever the policy.
TEST_P(EveryPolicyTest, WorkingSetThatFitsOnlyMissesOnce) {
  const uint32_t frames = 64;
  auto p = MakePolicy(GetParam(), frames);
  CacheSim sim(p.get(), frames);
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i) sim.Access(rng() % frames);
  EXPECT_EQ(sim.misses(), frames);
}

// Hits of a textbook LRU cache of `frames` pages (a list and a map, written
// here, independent of bufferpool/), the yardstick for the policies.
uint64_t ReferenceLruHits(uint32_t frames, const std::vector<uint64_t>& trace) {
  std::list<uint64_t> order;  // Most recent first.
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where;
  uint64_t hits = 0;
  for (uint64_t page : trace) {
    auto w = where.find(page);
    if (w != where.end()) {
      ++hits;
      order.erase(w->second);
    } else if (order.size() == frames) {
      where.erase(order.back());
      order.pop_back();
    }
    order.push_front(page);
    where[page] = order.begin();
  }
  return hits;
}

// With a hot set that fits, a hot page must survive a sweep of one-time
// pages at least as well as under LRU: no policy may be worse than a
// reference LRU on a hot-set-plus-scans trace by more than a small margin,
// and "lru" itself must be exactly LRU.
TEST_P(EveryPolicyTest, ScansDoNotMakeItWorseThanLru) {
  std::vector<uint64_t> trace = HotSetWithScans(32, 200, 160, 50, 3);
  const uint64_t lru = ReferenceLruHits(64, trace);
  ASSERT_GT(lru, 0u);
  ASSERT_LT(lru, trace.size());
  const uint64_t mine = Hits(GetParam(), 64, trace);
  if (GetParam() == "lru") {
    EXPECT_EQ(mine, lru) << "the lru policy is not LRU";
    // And on a trace with reuse at every distance, not just this one.
    std::mt19937 rng(5);
    std::vector<uint64_t> mixed;
    for (int i = 0; i < 20000; ++i) mixed.push_back(rng() % (i % 3 == 0 ? 200 : 70));
    EXPECT_EQ(Hits("lru", 64, mixed), ReferenceLruHits(64, mixed));
  } else {
    EXPECT_GE(mine, lru * 95 / 100) << GetParam() << " " << mine << " vs lru " << lru;
  }
}

INSTANTIATE_TEST_SUITE_P(Builtin, EveryPolicyTest, ::testing::ValuesIn(EvictionPolicyNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(LruPolicyTest, EvictsLeastRecentlyUsed) {
  auto p = MakePolicy("lru", 4);
  SetFilter filter(4);
  for (FrameIndex f = 0; f < 4; ++f) p->OnInsert(f);
  p->OnAccess(0);
  p->OnAccess(2);  // recency, newest first: 2 0 3 1
  FrameIndex v;
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 1u) << "Victim must not change the order by itself";
  p->OnRemove(1);
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 3u);
  filter.refused[3] = true;
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 0u);
  p->OnInsert(1);  // newest: 1 2 0 3
  filter.refused[3] = false;
  p->OnAccess(3);  // 3 1 2 0
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 0u);
}

TEST(ClockPolicyTest, ReferencedFramesGetASecondChance) {
  auto p = MakePolicy("clock", 4);
  AcceptAll all;
  for (FrameIndex f = 0; f < 4; ++f) p->OnInsert(f);  // all referenced
  FrameIndex v;
  ASSERT_TRUE(p->Victim(all, &v));  // one sweep clears every bit
  EXPECT_EQ(v, 0u);
  p->OnRemove(0);
  p->OnInsert(0);   // referenced again
  p->OnAccess(1);   // referenced again
  ASSERT_TRUE(p->Victim(all, &v));  // hand at 1: second chance, then 2
  EXPECT_EQ(v, 2u);
  p->OnRemove(2);
  p->OnInsert(2);
  ASSERT_TRUE(p->Victim(all, &v));  // hand at 3, not referenced
  EXPECT_EQ(v, 3u);
  p->OnRemove(3);
  p->OnInsert(3);
  ASSERT_TRUE(p->Victim(all, &v));  // 0 loses its bit, 1 lost it before
  EXPECT_EQ(v, 1u);
}

TEST(SievePolicyTest, VisitedFramesStayAndTheHandMovesOn) {
  auto p = MakePolicy("sieve", 4);
  AcceptAll all;
  for (FrameIndex f = 0; f < 4; ++f) p->OnInsert(f);  // queue, newest first: 3 2 1 0
  p->OnAccess(0);
  p->OnAccess(2);
  FrameIndex v;
  ASSERT_TRUE(p->Victim(all, &v));  // 0 visited: kept; 1 not
  EXPECT_EQ(v, 1u);
  p->OnRemove(1);
  p->OnInsert(1);  // queue: 1 3 2 0, hand at 2
  ASSERT_TRUE(p->Victim(all, &v));  // 2 visited: kept; 3 not
  EXPECT_EQ(v, 3u);
  p->OnRemove(3);
  p->OnInsert(3);  // queue: 3 1 2 0, hand at 1
  // LRU would now evict 0; SIEVE's hand is past it and names 1.
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 1u);
}

TEST(SievePolicyTest, OnlyUnvisitedFrameIsTheVictim) {
  auto p = MakePolicy("sieve", 6);
  AcceptAll all;
  for (FrameIndex f = 0; f < 6; ++f) p->OnInsert(f);
  for (FrameIndex f : {0u, 1u, 2u, 3u, 5u}) p->OnAccess(f);
  FrameIndex v;
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 4u);
}

// Frames fill in the order 0..7 (requests 1..8); the list, young | old, is
// then 1 2 3 4 6 | 7 5 0 (new frames enter at the head of the old sublist,
// which holds 3/8 of the list's current length).
TEST(MidpointPolicyTest, OldPagesArePromotedOnlyAfterTheWindow) {
  auto p = NewMidpointPolicy(MidpointOptions{3, 3});
  p->Init(8);
  AcceptAll all;
  for (FrameIndex f = 0; f < 8; ++f) p->OnInsert(f);
  FrameIndex v;
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 0u);
  p->OnAccess(0);  // request 9, 8 after 0 entered: promoted. 0 1 2 3 4 | 6 7 5
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 5u);
  p->OnAccess(7);  // request 10, 2 after 7 entered: inside the window, stays
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 5u);
  p->OnRemove(5);
  p->OnInsert(5);  // request 11. 0 1 2 3 4 | 5 6 7
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 7u);
  p->OnAccess(7);  // request 12, 4 after: promoted. 7 0 1 2 3 | 4 5 6
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 6u);
}

TEST(MidpointPolicyTest, RepeatedTouchesInsideTheWindowStayOld) {
  auto p = NewMidpointPolicy(MidpointOptions{3, 3});
  p->Init(8);
  AcceptAll all;
  for (FrameIndex f = 0; f < 8; ++f) p->OnInsert(f);
  p->OnAccess(0);  // request 9: 0 1 2 3 4 | 6 7 5
  p->OnRemove(5);
  p->OnInsert(5);  // request 10: 0 1 2 3 4 | 5 6 7
  p->OnAccess(5);  // requests 11 and 12: 1 and 2 after 5 entered
  p->OnAccess(5);
  p->OnRemove(7);
  p->OnRemove(6);  // 0 1 2 3 | 4 5
  FrameIndex v;
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 5u);
  p->OnAccess(5);  // request 13, 3 after: promoted. 5 0 1 2 | 3 4
  ASSERT_TRUE(p->Victim(all, &v));
  EXPECT_EQ(v, 4u);
}

// With the pool full, a hot set that fits in the young sublist survives a
// scan of one-time pages four times the pool's size; under LRU the scan
// flushes it.
TEST(MidpointPolicyTest, OneTimeScanDoesNotFlushTheHotSet) {
  const uint32_t frames = 32;
  auto mid = MakePolicy("midpoint", frames);
  auto lru = MakePolicy("lru", frames);
  CacheSim mid_sim(mid.get(), frames), lru_sim(lru.get(), frames);
  for (CacheSim* sim : {&mid_sim, &lru_sim}) {
    for (uint64_t page = 1000; page < 1016; ++page) sim->Access(page);
    for (int round = 0; round < 4; ++round) {
      for (uint64_t page = 0; page < 16; ++page) sim->Access(page);
    }
    for (uint64_t page = 100; page < 100 + 4 * frames; ++page) sim->Access(page);
  }
  for (uint64_t page = 0; page < 16; ++page) {
    EXPECT_TRUE(mid_sim.Cached(page)) << page;
    EXPECT_FALSE(lru_sim.Cached(page)) << page;
  }
}

// Pages a scan reads once leave first under the scan-resistant policies, so
// the hot set that LRU must read again after every scan stays cached.
TEST(ScanResistanceTest, BeatsLruOnHotSetWithScans) {
  std::vector<uint64_t> trace = HotSetWithScans(32, 200, 160, 50, 11);
  uint64_t lru = ReferenceLruHits(64, trace);
  for (const char* name : {"midpoint", "sieve", "s3fifo"}) {
    uint64_t hits = Hits(name, 64, trace);
    EXPECT_GT(hits, lru + trace.size() / 20) << name << " " << hits << " lru " << lru;
  }
}

TEST(S3FifoPolicyTest, SmallQueueFiltersPagesUsedOnce) {
  auto p = MakePolicy("s3fifo", 10);  // small queue: 1 frame
  SetFilter filter(10);
  for (FrameIndex f = 0; f < 10; ++f) p->OnInsert(f);  // all in S, 0 oldest
  p->OnAccess(0);
  p->OnAccess(1);
  p->OnAccess(1);
  FrameIndex v;
  ASSERT_TRUE(p->Victim(filter, &v));  // 0 and 1 move to M; 2 was not used
  EXPECT_EQ(v, 2u);
  p->OnRemove(2);
  p->OnInsert(2);
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 3u);
  // Only M is left to choose from: its counters were cleared on the move.
  for (FrameIndex f = 2; f < 10; ++f) filter.refused[f] = true;
  p->OnAccess(1);
  ASSERT_TRUE(p->Victim(filter, &v));
  EXPECT_EQ(v, 0u);
  filter.refused[0] = true;
  ASSERT_TRUE(p->Victim(filter, &v));  // 1 used once in M: one more pass
  EXPECT_EQ(v, 1u);
}

TEST(FrameListTest, LinksAndUnlinks) {
  FrameList list;
  list.Init(5);
  list.PushFront(1);
  list.PushFront(2);
  list.PushBack(0);
  list.InsertBefore(0, 4);  // 2 1 4 0
  EXPECT_EQ(list.size(), 4u);
  std::vector<FrameIndex> order;
  for (FrameIndex f = list.front(); f != FrameList::kNil; f = list.toward_back(f)) {
    order.push_back(f);
  }
  EXPECT_EQ(order, (std::vector<FrameIndex>{2, 1, 4, 0}));
  list.Remove(2);
  list.MoveToFront(0);  // 0 1 4
  EXPECT_EQ(list.front(), 0u);
  EXPECT_EQ(list.back(), 4u);
  EXPECT_EQ(list.toward_front(4), 1u);
  EXPECT_FALSE(list.contains(2));
  EXPECT_FALSE(list.contains(3));
  EXPECT_EQ(list.size(), 3u);
}

}  // namespace eviction_policy_test
}  // namespace ringdb
