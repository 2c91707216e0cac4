// The device's ceiling: 4 KiB random reads with O_DIRECT through io_uring,
// measured by fio on a file in the bench's directory, at queue depths 1 and
// 32. Quoted beside the engines' figures.
//
// Thread-safety: call from the main thread, before any engine runs.
#pragma once

#include <string>
#include <vector>

namespace ringdb_bench {

struct FioResult {
  int iodepth = 0;
  bool ok = false;
  double read_iops = 0;
  double lat_mean_us = 0;  // completion latency mean
  std::string error;
};

// Runs fio once per depth on a 256 MiB file in `dir` (removed afterwards).
std::vector<FioResult> RunFio(const std::string& dir, double runtime_seconds);

}  // namespace ringdb_bench
