// Runner: executes a WorkloadPlan on its threads, times every call, merges
// the threads' histograms and brackets the phase with /proc samples and the
// engine's own counters. Draws the progress bar when asked.
//
// Thread-safety: RunPlan is called from the main thread; it starts and joins
// the workload's threads itself.
#pragma once

#include <string>
#include <vector>

#include "histogram.h"
#include "kv_engine.h"
#include "sysinfo.h"
#include "workload.h"

namespace ringdb_bench {

// One engine x one workload.
struct PhaseResult {
  std::string workload;  // as listed in --benchmarks, e.g. "readrandom@disk"
  std::string engine;    // KvEngine::Name()
  std::string unit;      // what one latency sample covers
  int threads = 0;
  bool maintenance = false;  // WorkloadPlan::maintenance (compact): 1 op, judged by its seconds
  size_t cache_bytes = 0;
  bool ran = false;
  std::string skip_reason;  // when !ran
  // Skipped because the engine lacks what the phase needs (@disk without a
  // budget, compact without compaction): not an error.
  bool unsupported = false;

  uint64_t ops = 0;  // user operations (keys read or written, entries scanned)
  uint64_t calls = 0;
  double seconds = 0;
  bool capped = false;  // stopped by --duration
  Histogram hist;       // nanoseconds per call

  uint64_t found = 0, not_found = 0, errors = 0, wrong_values = 0;
  std::string first_error;
  uint64_t user_bytes_written = 0;
  uint64_t user_bytes_read = 0;
  uint64_t background_ops = 0;  // e.g. the writes of readwhilewriting

  // Sanity checks that failed (e.g. sync writes but the engine counted no
  // log sync): the figures of this phase are then suspect.
  std::vector<std::string> warnings;

  ProcSample before, after;
  // After the untimed flush that followed a writing phase (--flush_writes):
  // its device bytes belong to the phase.
  bool flushed = false;
  ProcSample after_flush;
  double flush_seconds = 0;
  // What prepared the engine's cache before the phase (--warmup), e.g.
  // "scan" or "cold"; empty for none.
  std::string warmup;
  bool peak_reset = false;  // after.hwm_bytes is this phase's peak
  EngineStats stats_before, stats_after;
  // Page cache held by the database's files at the end of the phase
  // (PageCacheBytesOf), set by RunEngine.
  uint64_t db_page_cache_bytes = 0;
  // The database's files just before the timed part (after any reopen and
  // warm-up) and at the end of the phase, after its flush when flushed
  // (DiskUsageOf), set by RunEngine.
  DiskUsage disk_before, disk_after;

  double OpsPerSecond() const { return seconds > 0 ? ops / seconds : 0; }
  // Device bytes written by the phase, including its flush when flushed.
  double DevWritten() const;
  double DevRead() const;
  // Device bytes written / user bytes written; < 0 when nothing was written.
  double WriteAmp() const;
  // Engine cache hit ratio in the phase from the hit/miss counters; < 0
  // when the engine does not report them or nothing was looked up.
  double CacheHitRatio() const;
  double StatDelta(const std::string& key) const;
};

struct RunOptions {
  bool progress = false;
  double duration_seconds = 0;
};

// Runs `plan` against the engine in `state`. Fills every field but
// workload, engine and cache_bytes.
PhaseResult RunPlan(const WorkloadPlan& plan, EngineRunState* state, const RunOptions& options,
                    const BenchSettings& settings, const std::string& label);

}  // namespace ringdb_bench
