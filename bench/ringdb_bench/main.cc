// ringdb_bench: ringdb, RocksDB and LMDB side by side on the same keys,
// values, order, threads, memory budget and durability. See --help.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "bench.h"
#include "fio.h"
#include "flags.h"
#include "keys.h"
#include "kv_engine.h"
#include "lmdb_engine.h"
#include "report.h"
#include "ringdb_engine.h"
#include "rocksdb_engine.h"
#include "sysinfo.h"

#ifndef RINGDB_BENCH_SOURCE_DIR
#define RINGDB_BENCH_SOURCE_DIR "."
#endif

namespace ringdb_bench {
namespace {

std::string DirName(const std::string& engine_name) {
  std::string d;
  for (char c : engine_name) d += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  while (!d.empty() && d.back() == '_') d.pop_back();
  return d;
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

bool MakeEngines(const BenchFlags& f, std::vector<std::unique_ptr<KvEngine>>* engines) {
  for (const std::string& e : f.engines) {
    if (e == "lmdb") {
      engines->push_back(NewLmdbEngine());
      continue;
    }
    if (e == "rocksdb") {
      RocksDbSettings rs;
      rs.buffered = f.rocksdb_buffered;
      rs.write_buffer_size = f.rocksdb_write_buffer_size;
      rs.max_write_buffer_number = f.rocksdb_max_write_buffer_number;
      rs.partitioned_index = f.rocksdb_partitioned_index;
      rs.row_cache_fraction = f.rocksdb_row_cache;
      engines->push_back(NewRocksDbEngine(rs));
      continue;
    }
    for (const std::string& backend : f.io_backends) {
      for (const std::string& policy : f.policies) {
        std::string error;
        std::unique_ptr<KvEngine> engine =
            NewRingdbEngine(backend, policy, f.ringdb_delete_buffer, f.ringdb_row_cache, &error);
        if (!engine) {
          std::fprintf(stderr, "ringdb_bench: %s\n", error.c_str());
          return false;
        }
        engines->push_back(std::move(engine));
      }
    }
  }
  return true;
}

// Refuses a run whose databases would not fit twice in the free space.
bool CheckSpace(const BenchFlags& f, size_t engine_count) {
  // Per engine: the data with page/SST overhead, the log or WAL, and room
  // for compaction or checkpoint copies: about 3x the user data.
  const double user = static_cast<double>(f.settings.num) * (f.key_size + f.value_size);
  const double per_engine = 3.0 * user + 64 * kMiB;
  const double at_once = f.keep ? per_engine * engine_count : per_engine;
  const double need = 2.0 * at_once + (f.fio ? 256 * kMiB : 0);
  const int64_t free_bytes = FreeBytes(f.db);
  if (free_bytes < 0) {
    std::fprintf(stderr, "ringdb_bench: warning: cannot read the free space of %s\n", f.db.c_str());
    return true;
  }
  if (static_cast<double>(free_bytes) < need) {
    std::fprintf(stderr,
                 "ringdb_bench: refusing to run: --num=%llu with %zu+%zu-byte entries needs about "
                 "%.0f MiB on %s (twice the estimated %.0f MiB%s), but only %.0f MiB are free. "
                 "Lower --num or point --db at a larger file system.\n",
                 static_cast<unsigned long long>(f.settings.num), f.key_size, f.value_size,
                 need / kMiB, f.db.c_str(), at_once / kMiB,
                 f.keep ? " for all kept databases" : " of one database", free_bytes / kMiB);
    return false;
  }
  return true;
}

// Checks, before anything runs, that an output file (--json, --chart) can
// be written: not a directory, and writable or creatable in an existing,
// writable directory. Nothing is created.
bool CheckOutputPath(const std::string& flag, const std::string& path) {
  if (path.empty()) return true;
  std::error_code ec;
  const std::filesystem::path p(path);
  std::string why;
  if (std::filesystem::is_directory(p, ec)) {
    why = "is a directory";
  } else if (std::filesystem::exists(p, ec)) {
    if (access(path.c_str(), W_OK) != 0) why = std::string("is not writable: ") + std::strerror(errno);
  } else {
    const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : ".";
    if (!std::filesystem::is_directory(dir, ec)) {
      why = "cannot be created: " + dir.string() + " is not a directory";
    } else if (access(dir.c_str(), W_OK) != 0) {
      why = "cannot be created in " + dir.string() + ": " + std::strerror(errno);
    }
  }
  if (why.empty()) return true;
  std::fprintf(stderr, "ringdb_bench: --%s=%s %s (checked before the run)\n", flag.c_str(),
               path.c_str(), why.c_str());
  return false;
}

int Main(int argc, char** argv) {
  BenchFlags flags;
  if (int code = ParseFlags(&argc, &argv, &flags); code >= 0) return code;
  if (!CheckOutputPath("json", flags.json) || !CheckOutputPath("chart", flags.chart) ||
      (!flags.chart.empty() && (!CheckOutputPath("chart", ChartPath(flags.chart, "ratio")) ||
                                !CheckOutputPath("chart", ChartPath(flags.chart, "memory")) ||
                                !CheckOutputPath("chart", ChartPath(flags.chart, "mrc"))))) {
    return 1;
  }
  if (!flags.chart.empty()) {
    int rc = 0;
    RunCommand("command -v gnuplot >/dev/null 2>&1", &rc);
    if (rc != 0) {
      std::fprintf(stderr, "ringdb_bench: --chart needs gnuplot (Debian: gnuplot-nox)\n");
      return 1;
    }
  }
  if (argc > 1) {
    std::fprintf(stderr, "ringdb_bench: unexpected argument '%s' (flags are --name=value)\n", argv[1]);
    return 1;
  }
  const KeySpace keys(flags.key_size, flags.value_size, flags.settings.seed);
  if (keys.MaxKeys() / 2 < flags.settings.num + flags.settings.reads) {
    std::fprintf(stderr, "ringdb_bench: --key_size=%zu is too small for --num + inserts\n",
                 flags.key_size);
    return 1;
  }
  for (const std::string& w : flags.benchmarks) {
    const size_t at = w.find('@');
    if (at != std::string::npos && w.substr(at) != "@disk") {
      std::fprintf(stderr, "ringdb_bench: unknown variant in '%s' (only @disk)\n", w.c_str());
      return 1;
    }
    EngineRunState probe;
    probe.keys = &keys;
    WorkloadPlan plan;
    std::string error;
    if (!MakePlan(w.substr(0, at), flags.settings, &probe, &plan, &error)) {
      std::fprintf(stderr, "ringdb_bench: %s\n", error.c_str());
      return 1;
    }
    if (w == flags.mrc && (plan.writes || plan.maintenance)) {
      std::fprintf(stderr, "ringdb_bench: --mrc=%s writes: its reruns would not replay the "
                           "same accesses (use a read-only workload, e.g. ycsbc@disk)\n",
                   w.c_str());
      return 1;
    }
  }
  std::vector<std::unique_ptr<KvEngine>> engines;
  if (!MakeEngines(flags, &engines)) return 1;

  std::error_code ec;
  const bool created_db_dir = !std::filesystem::exists(flags.db, ec);
  std::filesystem::create_directories(flags.db, ec);
  if (ec) {
    std::fprintf(stderr, "ringdb_bench: cannot create --db=%s: %s\n", flags.db.c_str(),
                 ec.message().c_str());
    return 1;
  }
  if (!CheckSpace(flags, engines.size())) {
    if (created_db_dir) std::filesystem::remove(flags.db, ec);
    return 1;
  }

  RunReport report;
  report.flags = &flags;
  report.machine = GetMachineInfo();
  report.git_commit = GitCommit(RINGDB_BENCH_SOURCE_DIR);
  report.rocksdb_version = RocksDbVersion();
  report.lmdb_version = LmdbVersion();
  report.ringdb_version = RingdbVersion();
  report.started_at = UtcNow();
  const auto t0 = std::chrono::steady_clock::now();

  std::printf("ringdb_bench: %zu engine(s), %zu workload(s), num=%llu, budget %.1f MiB, "
              "@disk budget %.2f MiB, db %s\n",
              engines.size(), flags.benchmarks.size(),
              static_cast<unsigned long long>(flags.settings.num), flags.cache_size / kMiB,
              DiskPhaseCacheBytes(flags) / kMiB, flags.db.c_str());
  const double user_data = static_cast<double>(flags.settings.num) * (flags.key_size + flags.value_size);
  if (user_data * 1.5 > static_cast<double>(flags.cache_size)) {
    std::printf("note: the data (%.1f MiB of keys and values, more on disk) may not fit the "
                "%.1f MiB budget: the phases without @disk are then not in memory either\n",
                user_data / kMiB, flags.cache_size / kMiB);
  }
  if (flags.fio) {
    int rc = 0;
    RunCommand("command -v fio >/dev/null 2>&1", &rc);
    if (rc != 0) {
      report.fio_note = "fio is not installed";
    } else {
      if (flags.progress) std::fprintf(stderr, "fio: measuring the device ceiling...\r");
      report.fio = RunFio(flags.db, flags.fio_runtime, flags.settings.threads);
      if (flags.progress) std::fprintf(stderr, "\033[K");
      for (const FioResult& r : report.fio) {
        if (r.ok) {
          std::printf("fio randread 4k O_DIRECT io_uring %-7s: %10.0f IOPS (mean %.1f us)\n",
                      FioLabel(r).c_str(), r.read_iops, r.lat_mean_us);
        } else {
          std::printf("fio %s: %s\n", FioLabel(r).c_str(), r.error.c_str());
        }
      }
    }
  } else {
    report.fio_note = "--fio=false";
  }
  std::fflush(stdout);

  for (const std::unique_ptr<KvEngine>& engine : engines) {
    const std::string dir = (std::filesystem::path(flags.db) / DirName(engine->Name())).string();
    report.engines.push_back(RunEngine(engine.get(), flags, keys, dir));
  }
  report.total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  PrintReport(report, stdout);
  int status = 0;
  if (!flags.json.empty()) {
    std::string error;
    if (WriteJson(report, flags.json, &error)) {
      std::printf("JSON: %s\n", flags.json.c_str());
    } else {
      std::fprintf(stderr, "ringdb_bench: %s\n", error.c_str());
      status = 1;
    }
  }
  if (!flags.chart.empty()) {
    std::string error;
    std::vector<std::string> drawn;
    if (DrawChart(report, flags.chart, &drawn, &error)) {
      std::string list;
      for (const std::string& d : drawn) list += (list.empty() ? "" : ", ") + d;
      std::printf("chart: %s%s\n", list.c_str(),
                  HasRatioChart(report) ? "" : " (no ratio chart: it needs ringdb and rocksdb or lmdb)");
    } else {
      std::fprintf(stderr, "ringdb_bench: chart: %s\n", error.c_str());
      status = 1;
    }
  }
  if (!flags.keep && created_db_dir) std::filesystem::remove(flags.db, ec);  // only if empty

  for (const EngineRun& e : report.engines) {
    if (!e.error.empty()) status = 2;
    for (const PhaseResult& p : e.phases) {
      if (p.errors > 0 || p.wrong_values > 0 || (!p.ran && !p.unsupported)) status = 2;
    }
  }
  return status;
}

}  // namespace
}  // namespace ringdb_bench

int main(int argc, char** argv) { return ringdb_bench::Main(argc, argv); }
