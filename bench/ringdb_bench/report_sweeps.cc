// The report's two sweeps on stdout: memory per engine row and workload
// (the direct-I/O comparison of --io_backends: RSS, page-cache growth and
// their sum beside ops/s), and --mrc's predicted against measured miss
// ratios. Main thread only, after every engine has run.
#include <algorithm>
#include <cmath>

#include "report.h"

namespace ringdb_bench {

PhaseMemory MemoryOf(const EngineRun& e, const PhaseResult& p) {
  PhaseMemory m;
  m.anon_rss_bytes = static_cast<double>(p.after.rss_anon_bytes);
  m.page_cache_growth_bytes = static_cast<double>(p.db_page_cache_bytes) -
                              static_cast<double>(e.start_db_page_cache_bytes);
  m.total_bytes = m.anon_rss_bytes + std::max(0.0, m.page_cache_growth_bytes);
  return m;
}

void PrintMemory(const RunReport& r, std::FILE* out) {
  std::fprintf(out, "\nMemory per engine row (anon RSS: the process's anonymous resident memory "
                    "at the end of the phase (RssAnon: the pool, heaps; not mapped files); db pc: "
                    "page cache held by the database's files (mincore) at the end of the phase, "
                    "growth since before the engine opened (LMDB's mapped pages count here); "
                    "total: the two, the growth when positive):\n");
  std::fprintf(out, "%-17s %-24s %11s %11s %12s %10s\n", "workload", "engine", "ops/s", "anonRSS MiB",
               "db pc MiB", "total MiB");
  for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
    for (const EngineRun& e : r.engines) {
      if (i >= e.phases.size() || !e.phases[i].ran) continue;
      const PhaseResult& p = e.phases[i];
      const PhaseMemory m = MemoryOf(e, p);
      char ops[32] = "-";  // compact: one op, judged by its time
      if (!p.maintenance) std::snprintf(ops, sizeof(ops), "%.0f", p.OpsPerSecond());
      std::fprintf(out, "%-17s %-24s %11s %11.1f %+12.1f %10.1f\n",
                   r.flags->benchmarks[i].c_str(), e.name.c_str(), ops,
                   m.anon_rss_bytes / kMiB, m.page_cache_growth_bytes / kMiB, m.total_bytes / kMiB);
    }
  }
}

void PrintMrc(const RunReport& r, std::FILE* out) {
  for (const EngineRun& e : r.engines) {
    for (const MrcSweep& m : e.mrc) {
      std::fprintf(out,
                   "\nMiss-ratio curve of %s on %s (--mrc): recorded at %zu bytes from a cold "
                   "open; each size measured by a cold rerun of the same operations:\n",
                   e.name.c_str(), m.workload.c_str(), m.budget);
      std::fprintf(out, "%8s %14s %10s %10s %8s %11s\n", "factor", "pool bytes", "predicted",
                   "measured", "error", "ops/s");
      for (const MrcPoint& p : m.points) {
        if (p.measured < 0) {
          std::fprintf(out, "%8g %14zu %10.4f %10s %8s %11s  rerun failed: %s\n", p.factor,
                       p.pool_bytes, p.predicted, "-", "-", "-", p.error.c_str());
          continue;
        }
        std::fprintf(out, "%8g %14zu %10.4f %10.4f %+8.4f %11.0f\n", p.factor, p.pool_bytes,
                     p.predicted, p.measured, p.predicted - p.measured, p.ops_per_second);
      }
    }
  }
}

}  // namespace ringdb_bench
