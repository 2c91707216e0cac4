// Bench: runs the listed workloads, in order, on one engine: opens it,
// recreates the database for the fills, reopens it with the smaller budget
// for the "@disk" phases, measures each phase and closes and removes the
// database at the end. Engines run one after another, never overlapping.
//
// Thread-safety: main thread only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "flags.h"
#include "keys.h"
#include "kv_engine.h"
#include "runner.h"
#include "sysinfo.h"

namespace ringdb_bench {

struct EngineRun {
  std::string name;
  std::string kind;
  std::string version;
  std::map<std::string, std::string> describe;
  std::string dir;
  size_t cache_bytes = 0;       // the budget of the in-memory phases
  size_t disk_cache_bytes = 0;  // the budget of the @disk phases
  std::string error;            // the engine stopped early because of it
  std::vector<PhaseResult> phases;

  ProcSample start, end;          // before the first Open, after the last Close
  ProcSample open_before, open_after;  // around the first Open
  uint64_t user_bytes_written = 0;     // over all phases
  uint64_t db_bytes = 0;               // on disk after the last Close
  double close_seconds = 0;
  EngineStats last_stats;              // just before the last Close
};

// The budget of the @disk phases: user data (num keys + values) divided by
// mem_ratio, at least 256 KiB and at most the normal budget.
size_t DiskPhaseCacheBytes(const BenchFlags& flags);

// Runs every workload of flags.benchmarks on `engine` in `dir`, printing a
// line per phase to stdout as it ends.
EngineRun RunEngine(KvEngine* engine, const BenchFlags& flags, const KeySpace& keys,
                    const std::string& dir);

}  // namespace ringdb_bench
