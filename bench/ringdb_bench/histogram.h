// Histogram: latencies in nanoseconds in logarithmic buckets (16 linear
// sub-buckets per power of two, so a percentile is within ~6%), cheap to
// add to and to merge. One per thread; merged after the threads join.
//
// Thread-safety: none; each thread owns its histogram.
#pragma once

#include <array>
#include <cstdint>

namespace ringdb_bench {

class Histogram {
 public:
  void Add(uint64_t nanos);
  void Merge(const Histogram& other);

  uint64_t Count() const { return count_; }
  double MeanNanos() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  uint64_t MaxNanos() const { return max_; }
  // The p-th percentile (0 < p <= 100) in nanoseconds, interpolated within
  // its bucket; 0 when empty.
  double PercentileNanos(double p) const;

 private:
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = 64 * kSub;
  static int BucketOf(uint64_t v);
  static uint64_t BucketLow(int b);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace ringdb_bench
