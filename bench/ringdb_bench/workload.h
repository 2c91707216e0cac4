// Workloads: what each named benchmark does, as a plan the runner executes.
//
// A plan is a per-thread operation (one call = one latency sample) with a
// count per thread, plus an optional unmeasured background thread (the
// writer of readwhilewriting). Plans for the same name and settings make
// the same key choices for every engine: each thread's random stream is
// seeded from --seed, the workload name and the thread number.
//
// Thread-safety: a plan's op is called concurrently from its threads, each
// with its own ThreadCtx; EngineRunState is shared and atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "histogram.h"
#include "keys.h"
#include "kv_engine.h"

namespace ringdb_bench {

// The run's settings that shape workloads (from the flags).
struct BenchSettings {
  uint64_t num = 0;             // keys loaded by the fills
  uint64_t reads = 0;           // operations of read and YCSB workloads
  uint64_t deletes = 0;         // operations of deleterandom
  int threads = 1;
  int fillsync_threads = 4;
  bool sync = false;            // WriteOptions::sync of every write but fillsync's
  int batch_size = 1;           // writes per WriteBatch in the fills
  int multiget_batch = 32;
  int seek_nexts = 100;
  int readseq_chunk = 1000;     // entries per Scan call of readseq
  double duration_seconds = 0;  // cap per workload; 0: none
  double zipf_theta = 0.99;
  uint64_t seed = 0;
  bool verify = true;           // compare every value read with the expected
  bool hold_snapshot = false;   // each phase runs with one snapshot held (--hold_snapshot)
};

// State of one engine across its workloads.
struct EngineRunState {
  KvEngine* engine = nullptr;
  const KeySpace* keys = nullptr;
  // Keys [0, key_count) have been written (YCSB D and E insert above num).
  std::atomic<uint64_t> key_count{0};
};

// Per-thread counters and scratch space.
struct ThreadCtx {
  ThreadCtx(int tid_in, uint64_t seed) : tid(tid_in), rng(seed) {}

  int tid;
  Rng rng;
  Histogram hist;
  // Set by an op: how many user-level operations the call counted as
  // (32 for a MultiGet batch, the entries of a readseq chunk). Default 1.
  uint64_t ops_in_call = 1;
  uint64_t ops = 0;
  uint64_t found = 0;
  uint64_t not_found = 0;
  uint64_t errors = 0;
  uint64_t wrong_values = 0;
  uint64_t user_bytes_written = 0;  // keys + values put, keys deleted
  uint64_t user_bytes_read = 0;
  std::string first_error;

  std::string key;
  std::string value;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<EngineStatus> statuses;
  KvBatch batch;

  // Helpers that do one engine call and count its outcome.
  void Get(EngineRunState& st, uint64_t index, bool verify);
  void Put(EngineRunState& st, uint64_t index, bool sync);
  void Delete(EngineRunState& st, uint64_t index, bool sync);
  void Scan(EngineRunState& st, uint64_t start_index, size_t count);
  void Record(const EngineStatus& s);
};

struct WorkloadPlan {
  std::string name;          // base name, e.g. "readrandom"
  std::string unit = "op";   // what one latency sample covers
  bool fresh_db = false;     // start from an empty database
  bool writes = false;
  // Engine upkeep rather than user operations (compact): one call, no keys
  // read or written; its figure is the time it took, not a rate of ops.
  bool maintenance = false;
  int threads = 1;
  uint64_t calls_per_thread = 0;
  uint64_t planned_ops = 0;  // for progress: calls * ops per call, all threads
  std::function<void(ThreadCtx&, uint64_t call)> op;
  // Runs on its own thread until `stop` is set; not timed. Its counters are
  // reported apart (e.g. the writer of readwhilewriting).
  std::function<void(ThreadCtx&, const std::atomic<bool>& stop)> background;
};

// Builds the plan for `name` (without any "@disk" suffix). Returns false and
// sets *error for an unknown name.
bool MakePlan(const std::string& name, const BenchSettings& settings, EngineRunState* state,
              WorkloadPlan* plan, std::string* error);

// The YCSB core workloads A-F ("ycsba".."ycsbf"); called by MakePlan.
bool MakeYcsbPlan(const std::string& name, const BenchSettings& settings,
                  EngineRunState* state, WorkloadPlan* plan);

// Every name MakePlan accepts, in the default order (then compact, which
// the default leaves out), with a line each.
std::vector<std::pair<std::string, std::string>> WorkloadNames();

// The per-thread seed for `workload` (same for every engine).
uint64_t ThreadSeed(uint64_t seed, const std::string& workload, int tid);

}  // namespace ringdb_bench
