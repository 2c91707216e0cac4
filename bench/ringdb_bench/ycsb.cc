// The YCSB core workloads A-F over the keys the fills loaded, with YCSB's
// request distributions: scrambled Zipfian (theta --zipf_theta, 0.99 by
// default) for A, B, C, E and F, "latest" for D. Inserts (D, E) append keys
// after the largest one written so far, as YCSB does.
#include <algorithm>
#include <memory>

#include "workload.h"

namespace ringdb_bench {
namespace {

struct Mix {
  double read = 0, update = 0, insert = 0, scan = 0, rmw = 0;
  bool latest = false;
};

bool MixOf(const std::string& name, Mix* m) {
  if (name == "ycsba") { m->read = 0.5; m->update = 0.5; return true; }
  if (name == "ycsbb") { m->read = 0.95; m->update = 0.05; return true; }
  if (name == "ycsbc") { m->read = 1.0; return true; }
  if (name == "ycsbd") { m->read = 0.95; m->insert = 0.05; m->latest = true; return true; }
  if (name == "ycsbe") { m->scan = 0.95; m->insert = 0.05; return true; }
  if (name == "ycsbf") { m->read = 0.5; m->rmw = 0.5; return true; }
  return false;
}

constexpr size_t kMaxScanLength = 100;  // YCSB's default maxscanlength

// One thread's generators. Built once per workload and copied per thread
// (zeta over the item count is computed once).
struct Generators {
  Generators(uint64_t items, double theta) : zipf(items, theta), latest(items, theta) {}
  ScrambledZipfian zipf;
  SkewedLatest latest;
};

}  // namespace

bool MakeYcsbPlan(const std::string& name, const BenchSettings& s, EngineRunState* st,
                  WorkloadPlan* plan) {
  Mix mix;
  if (!MixOf(name, &mix)) return false;
  const int threads = std::max(1, s.threads);
  const uint64_t items = std::max<uint64_t>(1, st->key_count.load());
  auto proto = std::make_shared<const Generators>(items, s.zipf_theta);
  auto per_thread = std::make_shared<std::vector<std::unique_ptr<Generators>>>();
  for (int i = 0; i < threads; i++) per_thread->push_back(std::make_unique<Generators>(*proto));

  plan->threads = threads;
  plan->calls_per_thread = std::max<uint64_t>(1, (s.reads + threads - 1) / threads);
  plan->planned_ops = plan->calls_per_thread * threads;
  plan->writes = mix.update > 0 || mix.insert > 0 || mix.rmw > 0;
  if (mix.scan > 0) plan->unit = "op (scan: Seek + 1-100 Next)";
  if (mix.rmw > 0) plan->unit = "op (rmw: Get + Put)";
  const bool sync = s.sync;
  const bool verify = s.verify;
  plan->op = [st, mix, per_thread, sync, verify](ThreadCtx& t, uint64_t) {
    Generators& g = *(*per_thread)[t.tid];
    const double r = t.rng.NextDouble();
    if (r < mix.insert) {
      const uint64_t k = st->key_count.fetch_add(1, std::memory_order_relaxed);
      t.Put(*st, k, sync);
      return;
    }
    // Keys acknowledged so far; a thread may pick one another thread is
    // still inserting, which then reads as not found.
    const uint64_t live = st->key_count.load(std::memory_order_relaxed);
    const uint64_t k = mix.latest ? g.latest.Next(t.rng, live) : g.zipf.Next(t.rng);
    if (mix.scan > 0) {
      t.Scan(*st, k, 1 + t.rng.Uniform(kMaxScanLength));
      return;
    }
    const double rest = (r - mix.insert) / (1.0 - mix.insert);
    if (rest < mix.read / (1.0 - mix.insert)) {
      t.Get(*st, k, verify);
    } else if (mix.update > 0) {
      t.Put(*st, k, sync);
    } else {  // read-modify-write: the value is rewritten whole
      t.Get(*st, k, verify);
      t.Put(*st, k, sync);
    }
  };
  return true;
}

}  // namespace ringdb_bench
