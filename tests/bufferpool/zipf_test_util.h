// Zipf: a Zipfian rank generator with a fixed seed, shared by the cache
// insight tests (tests/bufferpool/mrc_test.cc, tests/engine/
// cache_insight_test.cc).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace ringdb {
namespace test {

// Zipfian ranks in [0, n) (Gray et al., "Quickly generating billion-record
// synthetic databases", as in YCSB), from a fixed seed.
class Zipf {
 public:
  Zipf(uint64_t n, double theta, uint64_t seed) : n_(n), theta_(theta), rng_(seed) {
    for (uint64_t i = 1; i <= n; i++) zetan_ += 1.0 / std::pow(static_cast<double>(i), theta);
    double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
  }
  uint64_t Next() {
    double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
    uint64_t r = static_cast<uint64_t>(static_cast<double>(n_) *
                                       std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return r < n_ ? r : n_ - 1;
  }

 private:
  uint64_t n_;
  double theta_;
  std::mt19937_64 rng_;
  double zetan_ = 0, alpha_ = 0, eta_ = 0;
};

}  // namespace test
}  // namespace ringdb
