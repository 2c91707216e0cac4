// ringdb_bench --mrc: the proof that ringdb's miss-ratio curve holds. The
// phase named by --mrc has run from a cold reopen at its budget (bench.cc);
// here the curve it recorded (ringdb.cache.mrc) is read, and the same plan
// (same seeds, so the same keys; no --duration cap) is rerun from a cold
// reopen at each --mrc_grid size, measuring the pool's miss ratio.
//
// Thread-safety: main thread only, like RunEngine.
#include <cstdio>

#include "bench.h"
#include "mrc_chart.h"

namespace ringdb_bench {
namespace {

// Misses / lookups of the engine's cache in the phase; < 0 when unknown.
double MissRatio(const PhaseResult& p) {
  const double hits = p.StatDelta("cache.hits");
  const double misses = p.StatDelta("cache.misses");
  return hits >= 0 && misses >= 0 && hits + misses > 0 ? misses / (hits + misses) : -1;
}

}  // namespace

bool RunMrcSweep(KvEngine* engine, const BenchFlags& flags, EngineRunState* state,
                 const std::string& dir, const std::string& w, size_t budget,
                 const PhaseResult& recorded, MrcSweep* out, std::string* error) {
  out->workload = w;
  out->budget = budget;
  (void)engine->Property("ringdb.cache.mrc", &out->curve);
  const bench_common::MissRatioCurve curve = bench_common::ParseMissRatioCurve(out->curve);
  const std::string base = w.substr(0, w.find('@'));
  RunOptions ro;
  ro.progress = flags.progress;
  for (double factor : flags.mrc_grid) {
    MrcPoint point;
    point.factor = factor;
    // Whole pages, as the pool sizes itself.
    point.pool_bytes = factor == 1.0 ? budget
                                     : static_cast<size_t>(factor * static_cast<double>(budget)) /
                                           4096 * 4096;
    point.predicted = bench_common::PredictMissRatio(curve, static_cast<double>(point.pool_bytes));
    if (factor == 1.0) {
      point.measured = MissRatio(recorded);
      point.ops_per_second = recorded.OpsPerSecond();
    } else {
      EngineStatus s = ReopenCold(engine, point.pool_bytes, dir);
      WorkloadPlan plan;
      std::string plan_error;
      if (!s.ok()) {
        point.error = "reopen at " + std::to_string(point.pool_bytes) + " bytes: " + s.message();
      } else if (!MakePlan(base, flags.settings, state, &plan, &plan_error)) {
        point.error = plan_error;
      } else {
        const PhaseResult r = RunPlan(plan, state, ro, flags.settings,
                                      engine->Name() + " " + w + " mrc x" + std::to_string(factor));
        point.ops_per_second = r.OpsPerSecond();
        point.measured = r.errors == 0 ? MissRatio(r) : -1;
        if (r.errors > 0) point.error = r.first_error;
      }
    }
    std::printf("%-24s %-18s : mrc x%-5g pool %10zu B  predicted %.4f  measured %.4f%s%s\n",
                engine->Name().c_str(), w.c_str(), factor, point.pool_bytes, point.predicted,
                point.measured, point.error.empty() ? "" : "  ERROR: ", point.error.c_str());
    std::fflush(stdout);
    out->points.push_back(std::move(point));
  }
  EngineStatus s = ReopenCold(engine, budget, dir);
  if (!s.ok()) {
    *error = "reopen after --mrc: " + s.message();
    (void)engine->Close();
    return false;
  }
  return true;
}

}  // namespace ringdb_bench
