#include "histogram.h"

#include <algorithm>
#include <bit>

namespace ringdb_bench {

// Values below kSub get one bucket each; above, bucket = (exponent, the next
// kSubBits bits of the mantissa).
int Histogram::BucketOf(uint64_t v) {
  if (v < kSub) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(v);
  int shift = msb - kSubBits;
  int sub = static_cast<int>((v >> shift) & (kSub - 1));
  return (shift + 1) * kSub + sub;
}

uint64_t Histogram::BucketLow(int b) {
  if (b < kSub) return static_cast<uint64_t>(b);
  int shift = b / kSub - 1;
  uint64_t sub = static_cast<uint64_t>(b % kSub);
  return (static_cast<uint64_t>(kSub) + sub) << shift;
}

void Histogram::Add(uint64_t nanos) {
  buckets_[BucketOf(nanos)]++;
  count_++;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; i++) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double Histogram::PercentileNanos(double p) const {
  if (count_ == 0) return 0;
  const double target = count_ * (p / 100.0);
  double seen = 0;
  for (int b = 0; b < kBuckets; b++) {
    if (buckets_[b] == 0) continue;
    if (seen + buckets_[b] >= target) {
      double low = static_cast<double>(BucketLow(b));
      double high = b + 1 < kBuckets ? static_cast<double>(BucketLow(b + 1)) : low;
      double frac = (target - seen) / buckets_[b];
      double v = low + (high - low) * frac;
      return std::clamp(v, static_cast<double>(min_), static_cast<double>(max_));
    }
    seen += buckets_[b];
  }
  return static_cast<double>(max_);
}

}  // namespace ringdb_bench
