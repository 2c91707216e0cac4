// MissRatioCurve: the live workload's LRU miss ratio at every cache size,
// and every built-in policy's miss ratio at the pool's size, estimated from
// a spatially hashed sample of page accesses (SHARDS: Waldspurger et al.,
// FAST 2015, and its mini-simulations, USENIX ATC 2017).
//
// Sampling: an access to page p is kept when hash(p) mod 2^24 falls under
// the threshold T; the rate is R = T / 2^24. Because the test is on the
// page, every access to a sampled page is kept, so reuse distances measured
// in the sample, divided by R, estimate those of the full stream. The hit
// path pays one hash and one compare (Record); a kept access is appended
// to one of kStripes small per-thread-stripe buffers under that stripe's
// own mutex, and a full buffer is processed by the thread that filled it
// under the curve's mutex mu_ (once every kSlots kept accesses).
//
// Fixed-size SHARDS: at most max_samples distinct sampled pages are
// tracked. When one more would exceed that, T is lowered to the largest
// tracked hash and every page at or above it is dropped (from the reuse
// structure and the mini-simulations); the histogram is rescaled by
// R_new / R_old so old and new references weigh the same. Memory is thus
// bounded whatever the database size: about 100 bytes per tracked page
// (hash map entry, heap entry, Fenwick cells), plus the histogram (32 KiB),
// plus the mini-simulations (about 100 bytes per simulated frame, five of
// them of pool_frames * R frames each). With the defaults (max_samples
// 16384, a pool of F frames) that is about 1.6 MiB + 5 * 100 * F * R bytes.
//
// Reuse distances: every tracked page has the logical time of its last
// sampled access; a Fenwick tree over times counts pages accessed since,
// which is the LRU stack distance. Times are renumbered densely when they
// reach 4 * max_samples, so the tree stays bounded.
//
// The rate: initial_rate, or when 0, the larger of 1% and the rate that
// gives the mini-simulations min_sim_frames frames (capped at 1), so small
// pools are simulated with enough frames to be meaningful.
//
// SHARDS_adj: a skewed workload puts more (or fewer) accesses in the
// sample than accesses * R, mostly accesses to a few hot pages, which bias
// the curve toward their (hit) distances. When the owner supplies the count
// of all accesses (SetAccessCounter), the difference between accesses * R
// and the sampled count is added to the smallest-distance bin and the
// total is taken as accesses * R; the mini-simulations' miss counts are
// divided by the same expected count.
//
// Mini-simulations: the same sampled stream is fed to a PolicySimulator
// per built-in policy with pool_frames * R frames. When the rate is
// lowered they restart at the new size (their counts restart too).
//
// Thread-safety: Record from any thread at any time; every other method
// from any thread (they take mu_).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "bufferpool/eviction/policy_sim.h"
#include "bufferpool/striped_counter.h"
#include "util/thread_annotations.h"

namespace ringdb {

struct MrcOptions {
  // Sampling rate in (0, 1]; 0 picks one from the pool size (see above).
  double initial_rate = 0;
  // Distinct sampled pages tracked at most (fixed-size SHARDS).
  uint32_t max_samples = 16384;
  // With initial_rate 0: the rate is raised so mini-simulations get at
  // least this many frames.
  uint32_t min_sim_frames = 256;
  // Run the per-policy mini-simulations.
  bool simulate_policies = true;
};

struct MrcPoint {
  uint64_t frames = 0;
  double miss_ratio = 0;
};

struct PolicyEstimate {
  std::string name;
  double miss_ratio = 0;
  uint64_t accesses = 0;  // sampled accesses it has seen
};

class MissRatioCurve {
 public:
  static constexpr uint32_t kHashBits = 24;
  static constexpr uint64_t kHashSpace = uint64_t{1} << kHashBits;
  static constexpr uint32_t kStripes = 16;
  static constexpr uint32_t kSlots = 64;

  MissRatioCurve(uint32_t pool_frames, const MrcOptions& options);
  ~MissRatioCurve();
  MissRatioCurve(const MissRatioCurve&) = delete;
  MissRatioCurve& operator=(const MissRatioCurve&) = delete;

  // `count` returns how many accesses (Record calls) were made so far, from
  // any thread, cheaply; it enables the SHARDS_adj correction. Call once,
  // before any Record.
  void SetAccessCounter(std::function<uint64_t()> count) EXCLUDES(mu_);

  // One request for `page`. Cheap unless the page is sampled.
  void Record(uint64_t page) {
    uint32_t h = Hash(page);
    if (h >= threshold_.load(std::memory_order_relaxed)) return;
    RecordSampled(page);
  }

  // The LRU miss ratio at `frames` frames (linear between histogram bins).
  double MissRatioAt(uint64_t frames) EXCLUDES(mu_);
  // Points at sizes pool_frames * 2^(k/4) for k = -12..12 (1/8x to 8x),
  // increasing.
  std::vector<MrcPoint> Curve() EXCLUDES(mu_);
  // Every built-in policy's simulated miss ratio at the pool's size.
  std::vector<PolicyEstimate> Policies() EXCLUDES(mu_);
  // Sampled accesses processed so far (buffered ones are processed first).
  uint64_t samples() EXCLUDES(mu_);
  double rate() const {
    return static_cast<double>(threshold_.load(std::memory_order_relaxed)) / kHashSpace;
  }
  // Approximate heap bytes held.
  size_t MemoryBytes() EXCLUDES(mu_);
  // Forgets everything sampled (the rate returns to its initial value).
  void Reset() EXCLUDES(mu_);

  // Fibonacci hashing: one multiply, the top kHashBits bits. Sequential
  // page ids land evenly spread, which suits spatial sampling.
  static uint32_t Hash(uint64_t page) {
    return static_cast<uint32_t>((page * 0x9E3779B97F4A7C15ull) >> (64 - kHashBits));
  }

 private:
  struct Tracked {
    uint32_t time;
    uint32_t hash;
  };
  struct alignas(64) Stripe {
    Mutex mu;
    uint32_t n GUARDED_BY(mu) = 0;
    uint64_t pages[kSlots] GUARDED_BY(mu);
  };

  static uint32_t ThreadStripeIndex() { return ThreadStripe() % kStripes; }
  void RecordSampled(uint64_t page) EXCLUDES(mu_);
  void DrainAll() EXCLUDES(mu_);
  void Process(uint64_t page) REQUIRES(mu_);
  void LowerThreshold() REQUIRES(mu_);
  void Renumber() REQUIRES(mu_);
  void ResetLocked() REQUIRES(mu_);
  void StartSims() REQUIRES(mu_);
  double MissRatioLocked(double frames) REQUIRES(mu_);
  // Accesses * R since `since` (a counter value), or -1 without a counter.
  double ExpectedSamples(uint64_t since) REQUIRES(mu_);
  void FenwickAdd(uint32_t i, int32_t d) REQUIRES(mu_);
  uint32_t FenwickPrefix(uint32_t i) REQUIRES(mu_);  // sum over [0, i)

  const uint32_t pool_frames_;
  const MrcOptions options_;
  uint32_t initial_threshold_ = 0;
  double bin_frames_ = 1;  // histogram bin width, in frames
  std::atomic<uint32_t> threshold_{0};
  Stripe stripes_[kStripes];

  Mutex mu_;
  std::unordered_map<uint64_t, Tracked> tracked_ GUARDED_BY(mu_);
  std::priority_queue<std::pair<uint32_t, uint64_t>> by_hash_ GUARDED_BY(mu_);  // max first
  std::vector<uint32_t> fenwick_ GUARDED_BY(mu_);  // over times [0, 4 * max_samples)
  uint32_t clock_ GUARDED_BY(mu_) = 0;
  // Reference weights by scaled stack distance: hist_[b] holds distances in
  // (b * bin_frames_, (b + 1) * bin_frames_]; the last bin everything beyond.
  std::vector<double> hist_ GUARDED_BY(mu_);
  double cold_ GUARDED_BY(mu_) = 0;   // first references (misses at any size)
  double total_ GUARDED_BY(mu_) = 0;  // all references, weighted
  uint64_t samples_ GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<PolicySimulator>> sims_ GUARDED_BY(mu_);
  std::function<uint64_t()> access_count_ GUARDED_BY(mu_);
  uint64_t accesses_at_reset_ GUARDED_BY(mu_) = 0;  // counter at Reset
  uint64_t accesses_at_sims_ GUARDED_BY(mu_) = 0;   // counter when sims started
};

}  // namespace ringdb
