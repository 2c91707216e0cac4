// MissRatioCurve: the live workload's LRU miss ratio at every cache size,
// and every built-in policy's miss ratio at the pool's size, estimated from
// a spatially hashed sample of page accesses (SHARDS: Waldspurger et al.,
// FAST 2015, and its mini-simulations, USENIX ATC 2017).
//
// Sampling: an access to page p is kept when hash(p) mod 2^24 falls under
// the threshold T; the rate is R = T / 2^24. Because the test is on the
// page, every access to a sampled page is kept, so reuse distances measured
// in the sample, divided by R, estimate those of the full stream.
//
// The hit path: an unsampled access pays one multiply and one compare
// (Record) and writes nothing. A kept access is appended to one of
// kStripes small per-thread-stripe buffers under that stripe's own mutex
// (a one-exchange flag: threads map to different stripes); a full buffer (every
// kSlots kept accesses) is moved to the pending queue, and a background
// worker thread, woken once kWakeAt accesses wait, processes the queue
// under the curve's mutex mu_. So the
// thread that hits never computes a reuse distance or runs a simulation.
// When the worker falls behind by kMaxPending accesses, the thread that
// filled a buffer processes the queue itself (back-pressure instead of
// dropped samples). Queries process everything buffered first, so a single
// recording thread's accesses are always processed in order.
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
// Memory besides the above: the stripes (16 * 576 bytes) and the pending
// queue (at most kMaxPending ids, 512 KiB, twice while being swapped).
//
// Thread-safety: Record from any thread at any time; every other method
// from any thread (they take mu_). Lock order: mu_, then queue_mu_, then a
// stripe's flag.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <thread>
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
  // Process sampled accesses on a background thread (false: on the thread
  // that fills a buffer, under mu_).
  bool background = true;
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
  static constexpr size_t kWakeAt = 16 * kSlots;     // queued accesses that wake the worker
  static constexpr size_t kMaxPending = 64 * 1024;  // accesses queued at most

  MissRatioCurve(uint32_t pool_frames, const MrcOptions& options);
  ~MissRatioCurve();
  MissRatioCurve(const MissRatioCurve&) = delete;
  MissRatioCurve& operator=(const MissRatioCurve&) = delete;

  // `count` returns how many accesses (Record calls) were made so far, from
  // any thread, cheaply; it enables the SHARDS_adj correction. Call once,
  // before any Record.
  void SetAccessCounter(std::function<uint64_t()> count) EXCLUDES(mu_);

  // One request for `page`. Cheap unless the page is sampled; never waits
  // for the processing of samples unless the worker is kMaxPending behind.
  void Record(uint64_t page) {
    uint32_t h = Hash(page);
    if (h >= threshold_.load(std::memory_order_relaxed)) return;
    RecordSampled(page);
  }
  // False when no access to `page` can be sampled before the next Reset
  // (the threshold only falls between resets): an owner may remember this
  // per cached page and skip Record for such pages.
  bool MaySample(uint64_t page) const { return Hash(page) < initial_threshold_; }

  // The LRU miss ratio at `frames` frames (linear between histogram bins).
  double MissRatioAt(uint64_t frames) EXCLUDES(mu_);
  // Points at sizes pool_frames * 2^(k/4) for k = -12..12 (1/8x to 8x),
  // increasing.
  std::vector<MrcPoint> Curve() EXCLUDES(mu_);
  // Every built-in policy's simulated miss ratio at the pool's size.
  std::vector<PolicyEstimate> Policies() EXCLUDES(mu_);
  // Sampled accesses processed so far (buffered ones are processed first).
  uint64_t samples() EXCLUDES(mu_);
  // The sampling rate after every buffered access is processed.
  double rate() EXCLUDES(mu_);
  // Approximate heap bytes held.
  size_t MemoryBytes() EXCLUDES(mu_);
  // Forgets everything sampled (the rate returns to its initial value).
  void Reset() EXCLUDES(mu_);
  // The pool now has `frames` frames (an online resize): the curve is
  // reported around the new size and the mini-simulations restart at it.
  // The histogram is kept (it does not depend on the pool size) as long as
  // frames stays within the range it covers (8x the size at construction).
  void SetPoolFrames(uint32_t frames) EXCLUDES(mu_);

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
  // A small buffer of kept accesses. Mostly used by one thread (threads
  // map to stripes by ThreadStripe), so its lock is a flag taken with one
  // exchange instead of a mutex; a second thread on the stripe spins.
  struct alignas(64) Stripe {
    std::atomic<bool> busy{false};
    uint32_t n = 0;  // guarded by busy
    uint64_t pages[kSlots];
    void Lock() {
      while (busy.exchange(true, std::memory_order_acquire)) {
        while (busy.load(std::memory_order_relaxed)) std::this_thread::yield();
      }
    }
    void Unlock() { busy.store(false, std::memory_order_release); }
  };

  // The rate as of the accesses processed so far.
  double CurrentRate() const {
    return static_cast<double>(threshold_.load(std::memory_order_relaxed)) / kHashSpace;
  }
  static uint32_t ThreadStripeIndex() { return ThreadStripe() % kStripes; }
  void RecordSampled(uint64_t page) EXCLUDES(mu_, queue_mu_);
  // Hands a full stripe buffer to the worker (or processes the queue when
  // it is kMaxPending long or there is no worker).
  void Enqueue(const uint64_t* pages, uint32_t n) EXCLUDES(mu_, queue_mu_);
  // Processes the pending queue, then every stripe's buffer.
  void DrainAll() EXCLUDES(mu_, queue_mu_);
  void ProcessPendingLocked() REQUIRES(mu_) EXCLUDES(queue_mu_);
  void WorkerLoop() EXCLUDES(mu_, queue_mu_);
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

  uint32_t pool_frames_ GUARDED_BY(mu_);
  const MrcOptions options_;
  uint32_t initial_threshold_ = 0;
  double bin_frames_ = 1;  // histogram bin width, in frames
  std::atomic<uint32_t> threshold_{0};
  Stripe stripes_[kStripes];

  Mutex queue_mu_;
  std::condition_variable_any queue_cv_;  // pending_ grew or stop_ was set
  std::vector<uint64_t> pending_ GUARDED_BY(queue_mu_);
  bool stop_ GUARDED_BY(queue_mu_) = false;
  std::thread worker_;

  Mutex mu_;
  std::vector<uint64_t> work_ GUARDED_BY(mu_);  // pending_ swapped out
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
