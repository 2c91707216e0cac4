// Page-access traces for the buffer-pool micro-benchmark: a Zipfian one and
// a Zipfian one cut by long sequential scans. Deterministic for a seed.
//
// Thread-safety: plain functions on values; call from any thread.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace ringdb::bench {

// Draws ranks in [0, n) with P(rank k) proportional to 1 / (k + 1)^theta,
// by the method of Gray et al. ("Quickly generating billion-record
// synthetic databases", SIGMOD '94) also used by YCSB. Construction is
// O(n); each draw is O(1). Require: n >= 2, 0 < theta < 1.
class ZipfianGenerator {
 public:
  ZipfianGenerator(uint64_t n, double theta);
  uint64_t Next(std::mt19937_64& rng);

 private:
  uint64_t n_;
  double theta_;
  double alpha_;
  double zetan_;
  double eta_;
};

struct TraceOptions {
  uint64_t pages = 10240;  // page ids are [0, pages)
  uint64_t ops = 100000;
  double theta = 0.99;
  uint64_t seed = 42;
  // Scan-mixed trace: scans of scan_len consecutive pages (wrapping at
  // `pages`) make up scan_share of all accesses, alternating with runs of
  // Zipfian accesses.
  uint64_t scan_len = 2048;
  double scan_share = 0.3;
};

// Zipfian page ids. Ranks are spread over the id space by a fixed
// permutation, so the hot pages are not neighbours in the file.
std::vector<uint64_t> ZipfTrace(const TraceOptions& options);

// Runs of ZipfTrace-like accesses alternating with sequential scans that
// start at random pages.
std::vector<uint64_t> ScanMixTrace(const TraceOptions& options);

}  // namespace ringdb::bench
