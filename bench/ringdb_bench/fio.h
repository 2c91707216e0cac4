// The device's ceiling: 4 KiB random reads with O_DIRECT through io_uring,
// measured by fio on a file in the bench's directory: one reader at queue
// depth 1, --threads readers at depth 1 each (the depth of --threads
// threads doing one point read at a time, as readrandom@disk), and one
// reader at depth 32 (as multiget@disk's batches). Quoted beside the
// engines' figures.
//
// Thread-safety: call from the main thread, before any engine runs.
#pragma once

#include <string>
#include <vector>

namespace ringdb_bench {

struct FioResult {
  int iodepth = 0;  // per job
  int jobs = 1;     // readers at once, each at iodepth
  bool ok = false;
  double read_iops = 0;
  double lat_mean_us = 0;  // completion latency mean
  std::string error;
};

// Runs fio once per (depth, jobs) above on a 256 MiB file in `dir`
// (removed afterwards); the jobs = threads run is left out for one thread.
std::vector<FioResult> RunFio(const std::string& dir, double runtime_seconds, int threads);

// "QD1", "QD32", or "2 x QD1" for two readers at depth 1.
std::string FioLabel(const FioResult& r);

// The run of `jobs` readers at depth `iodepth`, or null when not measured.
const FioResult* FindFio(const std::vector<FioResult>& results, int iodepth, int jobs);

}  // namespace ringdb_bench
