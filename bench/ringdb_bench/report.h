// Reporting: the tables on stdout, the JSON file and the gnuplot charts,
// all from one RunReport.
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

// Memory a phase used, for the direct-I/O comparison (--io_backends):
// anonymous RSS at its end (RssAnon: mapped files, e.g. LMDB's, are page
// cache and counted once, below), the growth of the page cache held by the database's own
// files (PageCacheBytesOf) from before the engine's first Open to the
// phase's end, and their sum (the growth counted as 0 when negative).
struct PhaseMemory {
  double anon_rss_bytes = 0;
  double page_cache_growth_bytes = 0;
  double total_bytes = 0;
};
PhaseMemory MemoryOf(const EngineRun& engine, const PhaseResult& phase);

// The memory table and the --mrc tables (report_sweeps.cc); PrintReport
// calls them.
void PrintMemory(const RunReport& report, std::FILE* out);
void PrintMrc(const RunReport& report, std::FILE* out);

// Draws the charts (chart.cc) into `png` and beside it, ChartPath(png, X):
// "ratio" when HasRatioChart, "memory" (ops/s against total memory),
// "mrc" when HasMrcChart. *drawn receives the files drawn. Writes <file>.dat
// and <file>.gp next to each and runs gnuplot.
bool DrawChart(const RunReport& report, const std::string& png, std::vector<std::string>* drawn,
               std::string* error);

// Whether the run has a ratio chart (ringdb and RocksDB or LMDB ran).
bool HasRatioChart(const RunReport& report);
// Whether it has a miss-ratio-curve chart (--mrc ran on a ringdb row).
bool HasMrcChart(const RunReport& report);

// "out-ratio.png" for ("out.png", "ratio"): where DrawChart puts its other
// charts.
std::string ChartPath(const std::string& png, const std::string& suffix);

}  // namespace ringdb_bench
