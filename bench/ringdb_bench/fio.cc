#include "fio.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "sysinfo.h"

namespace ringdb_bench {
namespace {

// The number after `"name" :` at or after `from` in fio's JSON; false when
// absent. fio's JSON layout is stable enough for this (jobs[0].read.iops).
bool NumberAfter(const std::string& json, size_t from, const std::string& name, double* out) {
  size_t k = json.find("\"" + name + "\"", from);
  if (k == std::string::npos) return false;
  size_t colon = json.find(':', k);
  if (colon == std::string::npos) return false;
  char* end = nullptr;
  *out = std::strtod(json.c_str() + colon + 1, &end);
  return end != json.c_str() + colon + 1;
}

}  // namespace

std::vector<FioResult> RunFio(const std::string& dir, double runtime_seconds, int threads) {
  std::vector<FioResult> results;
  const std::string file = (std::filesystem::path(dir) / "fio.randread.tmp").string();
  std::vector<std::pair<int, int>> runs = {{1, 1}};  // (depth, jobs)
  if (threads > 1) runs.push_back({1, threads});
  runs.push_back({32, 1});
  for (const auto& [depth, jobs] : runs) {
    FioResult r;
    r.iodepth = depth;
    r.jobs = jobs;
    const int runtime = std::max(1, static_cast<int>(runtime_seconds + 0.5));
    // --group_reporting sums the jobs' IOPS into jobs[0].
    std::string cmd = "fio --name=randread --filename=" + ShellQuote(file) +
                      " --size=256M --rw=randread --bs=4k --direct=1 --ioengine=io_uring"
                      " --iodepth=" + std::to_string(depth) +
                      " --numjobs=" + std::to_string(jobs) +
                      " --time_based --runtime=" + std::to_string(runtime) +
                      " --group_reporting --output-format=json 2>&1";
    int rc = 0;
    std::string out = RunCommand(cmd, &rc);
    size_t read_at = out.find("\"read\"");
    double iops = 0;
    if (rc != 0 || read_at == std::string::npos || !NumberAfter(out, read_at, "iops", &iops)) {
      r.error = "fio failed (exit " + std::to_string(rc) + "): " + out.substr(0, 300);
    } else {
      r.ok = true;
      r.read_iops = iops;
      size_t clat = out.find("\"clat_ns\"", read_at);
      double mean = 0;
      if (clat != std::string::npos && NumberAfter(out, clat, "mean", &mean)) {
        r.lat_mean_us = mean / 1000.0;
      }
    }
    results.push_back(r);
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
  return results;
}

std::string FioLabel(const FioResult& r) {
  std::string qd = "QD" + std::to_string(r.iodepth);
  return r.jobs > 1 ? std::to_string(r.jobs) + " x " + qd : qd;
}

const FioResult* FindFio(const std::vector<FioResult>& results, int iodepth, int jobs) {
  for (const FioResult& r : results) {
    if (r.ok && r.iodepth == iodepth && r.jobs == jobs) return &r;
  }
  return nullptr;
}

}  // namespace ringdb_bench
