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

inline constexpr double kMiB = 1024.0 * 1024.0;

// ringdb_bench --mrc: the curve a phase predicted and the miss ratio the
// same phase measured when rerun at each size of the grid.
struct MrcPoint {
  double factor = 0;        // of the phase's budget
  size_t pool_bytes = 0;
  double predicted = 0;     // the curve at pool_bytes (PredictMissRatio)
  double measured = -1;     // misses / lookups of the rerun; < 0 when it failed
  double ops_per_second = 0;
  std::string error;        // why the rerun failed
};

struct MrcSweep {
  std::string workload;     // the --mrc phase
  size_t budget = 0;        // the pool it ran and recorded the curve at
  std::string curve;        // ringdb.cache.mrc after the recorded run
  std::vector<MrcPoint> points;
};

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
  uint64_t start_db_page_cache_bytes = 0;  // PageCacheBytesOf(dir) before the first Open
  ProcSample open_before, open_after;  // around the first Open
  uint64_t user_bytes_written = 0;     // over all phases
  uint64_t db_bytes = 0;               // on disk after the last Close
  double close_seconds = 0;
  EngineStats last_stats;              // just before the last Close
  std::vector<MrcSweep> mrc;           // --mrc (ringdb only): at most one
};

// The budget of the @disk phases: user data (num keys + values) divided by
// mem_ratio, at least 256 KiB and at most the normal budget.
size_t DiskPhaseCacheBytes(const BenchFlags& flags);

// Runs every workload of flags.benchmarks on `engine` in `dir`, printing a
// line per phase to stdout as it ends. The phase named by --mrc runs from a
// cold reopen without the --duration cap and is then rerun at each
// --mrc_grid size (bench_mrc.cc).
EngineRun RunEngine(KvEngine* engine, const BenchFlags& flags, const KeySpace& keys,
                    const std::string& dir);

// Closes the engine, drops its files from the page cache and opens it again
// with `cache_bytes`: the same cold start for every engine (--warmup=cold,
// --mrc).
EngineStatus ReopenCold(KvEngine* engine, size_t cache_bytes, const std::string& dir);

// --mrc, after `recorded` (the phase `w`, run from a cold reopen at
// `budget`): reads the curve, then for each grid factor reruns the plan
// from a cold reopen at that size and measures its miss ratio; reopens at
// `budget` at the end. False (with *error) when the engine could not be
// reopened: it is then closed.
bool RunMrcSweep(KvEngine* engine, const BenchFlags& flags, EngineRunState* state,
                 const std::string& dir, const std::string& w, size_t budget,
                 const PhaseResult& recorded, MrcSweep* out, std::string* error);

}  // namespace ringdb_bench
