// Reporting: the table on stdout, the JSON file and the gnuplot chart, all
// from one RunReport.
//
// Thread-safety: main thread only, after every engine has run.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench.h"
#include "fio.h"
#include "flags.h"
#include "sysinfo.h"

namespace ringdb_bench {

struct RunReport {
  MachineInfo machine;
  std::string git_commit;
  std::string ringdb_version;  // empty when ringdb was not built in
  std::string rocksdb_version;
  std::string lmdb_version;  // empty when built without LMDB
  std::string started_at;      // UTC, ISO 8601
  double total_seconds = 0;
  const BenchFlags* flags = nullptr;
  std::vector<FioResult> fio;
  std::string fio_note;        // why fio did not run
  std::vector<EngineRun> engines;
};

// The per-phase table, the ringdb/RocksDB ratios, per-engine totals and
// the fio ceiling.
void PrintReport(const RunReport& report, std::FILE* out);

bool WriteJson(const RunReport& report, const std::string& path, std::string* error);

// Draws the ops/s chart into `png` and the ratio chart into
// RatioChartPath(png), writing <png>.dat and <png>.gp next to each and
// running gnuplot.
bool DrawChart(const RunReport& report, const std::string& png, std::string* error);

// Whether the run has a ratio chart (ringdb and RocksDB or LMDB ran).
bool HasRatioChart(const RunReport& report);

// "out-ratio.png" for "out.png": where DrawChart puts the ratio chart.
std::string RatioChartPath(const std::string& png);

}  // namespace ringdb_bench
