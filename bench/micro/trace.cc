// Trace generators for pool_bench; see trace.h.
#include "bench/micro/trace.h"

#include <cmath>
#include <numeric>

namespace ringdb::bench {

ZipfianGenerator::ZipfianGenerator(uint64_t n, double theta) : n_(n), theta_(theta) {
  alpha_ = 1.0 / (1.0 - theta);
  zetan_ = 0;
  for (uint64_t i = 1; i <= n; ++i) zetan_ += 1.0 / std::pow(static_cast<double>(i), theta);
  double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
  eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
}

uint64_t ZipfianGenerator::Next(std::mt19937_64& rng) {
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  double uz = u * zetan_;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
  uint64_t r = static_cast<uint64_t>(static_cast<double>(n_) *
                                     std::pow(eta_ * u - eta_ + 1.0, alpha_));
  return r < n_ ? r : n_ - 1;
}

namespace {

// rank -> page id: r * a + c (mod n) with gcd(a, n) == 1 is a permutation.
class RankScrambler {
 public:
  explicit RankScrambler(uint64_t n) : n_(n) {
    a_ = 2654435761ull % n;
    if (a_ == 0) a_ = 1;
    while (std::gcd(a_, n) != 1) ++a_;
  }
  uint64_t operator()(uint64_t rank) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(rank) * a_ + 12345) % n_);
  }

 private:
  uint64_t n_;
  uint64_t a_;
};

}  // namespace

std::vector<uint64_t> ZipfTrace(const TraceOptions& options) {
  std::mt19937_64 rng(options.seed);
  ZipfianGenerator zipf(options.pages, options.theta);
  RankScrambler scramble(options.pages);
  std::vector<uint64_t> trace;
  trace.reserve(options.ops);
  for (uint64_t i = 0; i < options.ops; ++i) trace.push_back(scramble(zipf.Next(rng)));
  return trace;
}

std::vector<uint64_t> ScanMixTrace(const TraceOptions& options) {
  std::mt19937_64 rng(options.seed);
  ZipfianGenerator zipf(options.pages, options.theta);
  RankScrambler scramble(options.pages);
  const double share = options.scan_share <= 0 ? 0 : std::min(options.scan_share, 0.95);
  const uint64_t run =
      share == 0 ? options.ops
                 : static_cast<uint64_t>(static_cast<double>(options.scan_len) * (1 - share) / share);
  std::vector<uint64_t> trace;
  trace.reserve(options.ops);
  while (trace.size() < options.ops) {
    for (uint64_t i = 0; i < run && trace.size() < options.ops; ++i) {
      trace.push_back(scramble(zipf.Next(rng)));
    }
    uint64_t start = rng() % options.pages;
    for (uint64_t i = 0; i < options.scan_len && trace.size() < options.ops; ++i) {
      trace.push_back((start + i) % options.pages);
    }
  }
  return trace;
}

}  // namespace ringdb::bench
