// mrc_check: the proof that the cache's predictions hold (issue 12's
// accuracy targets), through the public API.
//
// 1. Loads --keys keys of --value_size bytes (about --data_ratio x --pool
//    of data), closes.
// 2. Opens cold with a pool of --pool bytes and the lru policy and runs the
//    phase: --reads Zipfian (--theta) point reads from a fixed seed. Records
//    the predicted curve (ringdb.cache.mrc) and the simulated miss ratio of
//    every policy (ringdb.cache.policies) at that size, and the measured
//    miss ratio (ringdb.pool.hits / misses over the phase).
// 3. For each factor of --grid, opens cold with a pool of factor x --pool
//    (lru) and reruns the same phase: the measured miss ratio at that size
//    beside the curve's prediction (linear between the curve's points).
// 4. For each policy, opens cold at --pool with that policy and reruns the
//    phase: measured beside simulated.
// Prints both tables (with the errors) and, with --chart=FILE.png, draws the
// predicted curve against the measured points with gnuplot.
//   mrc_check [--pool=4194304] [--theta=0.99] [--reads=300000] [--chart=mrc.png]
#include <gflags/gflags.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/micro/trace.h"
#include "bench_util.h"
#include "mrc_chart.h"
#include "ringdb/db.h"
#include "ringdb/eviction_policy.h"
#include "ringdb/write_batch.h"

DEFINE_uint64(pool, 4 << 20, "buffer pool bytes of the recorded phase");
DEFINE_double(data_ratio, 10, "user data / pool (sets the key count when --keys is 0)");
DEFINE_uint64(keys, 0, "keys to load; 0: from --data_ratio");
DEFINE_uint32(value_size, 100, "value bytes");
DEFINE_double(theta, 0.99, "Zipfian skew of the reads");
DEFINE_uint64(reads, 300000, "point reads per phase");
DEFINE_uint64(seed, 7, "seed of the reads");
DEFINE_string(grid, "0.25,0.5,1,2,4", "pool sizes to rerun the phase at, as factors of --pool");
DEFINE_string(policies, "all", "policies to rerun at --pool (comma-separated, or all)");
DEFINE_string(dir, "/tmp/ringdb_mrc_check", "database directory (removed at the end)");
DEFINE_string(chart, "", "draw predicted against measured into this PNG (gnuplot)");

namespace {

using ringdb::DB;
using ringdb::Options;
using ringdb::Status;

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%012llu", static_cast<unsigned long long>(i));
  return buf;
}

using bench_common::SplitList;

// Zipfian keys (bench/micro/trace.h), ranks scattered over the key space by
// a multiplier so that hot keys do not share leaves.
class ZipfKeys {
 public:
  ZipfKeys(uint64_t n, double theta, uint64_t seed) : n_(n), zipf_(n, theta), rng_(seed) {}
  uint64_t Next() { return (zipf_.Next(rng_) * 7919) % n_; }

 private:
  uint64_t n_;
  ringdb::bench::ZipfianGenerator zipf_;
  std::mt19937_64 rng_;
};

bool Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "mrc_check: %s: %s\n", what.c_str(), s.ToString().c_str());
  return false;
}

uint64_t Prop(DB* db, const char* name) {
  std::string v;
  return db->GetProperty(name, &v) ? std::strtoull(v.c_str(), nullptr, 10) : 0;
}

Options MakeOptions(uint64_t pool, const std::string& policy) {
  Options o;
  o.buffer_pool_bytes = pool;
  o.eviction_policy = policy;
  o.info_log = [](std::string_view) {};
  return o;
}

bool Load(uint64_t keys) {
  std::filesystem::remove_all(FLAGS_dir);
  std::unique_ptr<DB> db;
  Status s = DB::Open(MakeOptions(FLAGS_pool, "lru"), FLAGS_dir, &db);
  if (!s.ok()) return Fail("open", s);
  const std::string value(FLAGS_value_size, 'v');
  for (uint64_t i = 0; i < keys; i += 1000) {
    ringdb::WriteBatch batch;
    for (uint64_t k = i; k < std::min(keys, i + 1000); k++) batch.Put(Key(k), value);
    s = db->Write(ringdb::WriteOptions(), &batch);
    if (!s.ok()) return Fail("load", s);
  }
  s = db->Close();
  return s.ok() || Fail("close", s);
}

struct Phase {
  double measured = 0;
  std::string curve;     // ringdb.cache.mrc
  std::string policies;  // ringdb.cache.policies
};

// Opens cold with `pool` bytes and `policy`, runs the reads, measures.
bool RunPhase(uint64_t keys, uint64_t pool, const std::string& policy, Phase* out) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(MakeOptions(pool, policy), FLAGS_dir, &db);
  if (!s.ok()) return Fail("open", s);
  const uint64_t hits0 = Prop(db.get(), "ringdb.pool.hits");
  const uint64_t misses0 = Prop(db.get(), "ringdb.pool.misses");
  ZipfKeys zipf(keys, FLAGS_theta, FLAGS_seed);
  std::string value;
  for (uint64_t i = 0; i < FLAGS_reads; i++) {
    s = db->Get(ringdb::ReadOptions(), Key(zipf.Next()), &value);
    if (!s.ok()) return Fail("get", s);
  }
  const double hits = static_cast<double>(Prop(db.get(), "ringdb.pool.hits") - hits0);
  const double misses = static_cast<double>(Prop(db.get(), "ringdb.pool.misses") - misses0);
  out->measured = hits + misses > 0 ? misses / (hits + misses) : 0;
  db->GetProperty("ringdb.cache.mrc", &out->curve);
  db->GetProperty("ringdb.cache.policies", &out->policies);
  s = db->Close();
  return s.ok() || Fail("close", s);
}

bool Chart(const bench_common::MissRatioCurve& curve,
           const std::vector<std::pair<double, double>>& measured) {
  std::ostringstream title;
  title << "Predicted LRU miss-ratio curve (SHARDS, recorded at " << FLAGS_pool / 1048576.0
        << " MiB) vs measured reruns, Zipf theta " << FLAGS_theta;
  std::string error;
  if (!bench_common::DrawMrcChart(FLAGS_chart, title.str(), {{"mrc_check", curve, measured}},
                                  /*keep=*/false, &error)) {
    std::fprintf(stderr, "mrc_check: %s\n", error.c_str());
    return false;
  }
  return true;
}

int Main() {
  const uint64_t per_key = FLAGS_value_size + 16 + 12;  // key, value, cell overhead
  const uint64_t keys = FLAGS_keys != 0
                            ? FLAGS_keys
                            : static_cast<uint64_t>(FLAGS_data_ratio * FLAGS_pool / per_key);
  std::printf("mrc_check: %llu keys of %u-byte values, pool %llu bytes, theta %.2f, %llu reads\n",
              static_cast<unsigned long long>(keys), FLAGS_value_size,
              static_cast<unsigned long long>(FLAGS_pool), FLAGS_theta,
              static_cast<unsigned long long>(FLAGS_reads));
  if (!Load(keys)) return 1;
  Phase base;
  if (!RunPhase(keys, FLAGS_pool, "lru", &base)) return 1;
  const bench_common::MissRatioCurve curve = bench_common::ParseMissRatioCurve(base.curve);
  std::map<std::string, double> simulated;
  {
    std::istringstream in(base.policies);
    std::string line;
    while (std::getline(in, line)) {
      size_t tab = line.find('\t');
      if (tab != std::string::npos) {
        simulated[line.substr(0, tab)] = std::atof(line.c_str() + tab + 1);
      }
    }
  }

  std::printf("\nLRU miss ratio by pool size (predicted from the phase at 1x):\n");
  std::printf("%8s %14s %10s %10s %8s\n", "factor", "pool bytes", "predicted", "measured",
              "error");
  std::vector<std::pair<double, double>> points;
  for (const std::string& f : SplitList(FLAGS_grid)) {
    const double factor = std::atof(f.c_str());
    const uint64_t pool = static_cast<uint64_t>(factor * FLAGS_pool) / 4096 * 4096;
    Phase run;
    if (factor == 1.0) {
      run = base;
    } else if (!RunPhase(keys, pool, "lru", &run)) {
      return 1;
    }
    const double predicted = bench_common::PredictMissRatio(curve, static_cast<double>(pool));
    points.push_back({static_cast<double>(pool), run.measured});
    std::printf("%8.3g %14llu %10.4f %10.4f %+8.4f\n", factor,
                static_cast<unsigned long long>(pool), predicted, run.measured,
                predicted - run.measured);
    std::fflush(stdout);
  }

  std::printf("\nPolicies at %llu bytes (simulated during the lru phase, measured after "
              "switching):\n",
              static_cast<unsigned long long>(FLAGS_pool));
  std::printf("%10s %10s %10s %8s\n", "policy", "simulated", "measured", "error");
  std::vector<std::string> names =
      FLAGS_policies == "all" ? ringdb::EvictionPolicyNames() : SplitList(FLAGS_policies);
  for (const std::string& name : names) {
    Phase run;
    if (name == "lru") {
      run = base;
    } else if (!RunPhase(keys, FLAGS_pool, name, &run)) {
      return 1;
    }
    auto it = simulated.find(name);
    const double sim = it == simulated.end() ? NAN : it->second;
    std::printf("%10s %10.4f %10.4f %+8.4f\n", name.c_str(), sim, run.measured,
                sim - run.measured);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(FLAGS_dir);
  if (!FLAGS_chart.empty() && !Chart(curve, points)) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("mrc_check [--pool=BYTES] [--theta=T] [--reads=N] [--chart=FILE.png]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return Main();
}
