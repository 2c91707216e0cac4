#include "bench.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace ringdb_bench {
namespace {

using Clock = std::chrono::steady_clock;

void RemoveDir(KvEngine* engine, const std::string& dir) {
  (void)engine->Destroy(dir);  // the engine's own way first; then whatever is left
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Opens `dir`, creating the directory first (engines differ on whether they
// create a missing one).
EngineStatus OpenAt(KvEngine* engine, size_t cache_bytes, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return engine->Open(EngineConfig{cache_bytes}, dir);
}

// One line per phase as it ends; compact (one call) gives its time and the
// disk space before and after instead of a rate.
void PrintPhaseLine(const PhaseResult& p) {
  if (!p.ran) {
    std::printf("%-24s %-18s : skipped (%s)\n", p.engine.c_str(), p.workload.c_str(),
                p.skip_reason.c_str());
    std::fflush(stdout);
    return;
  }
  const char* errors = p.errors || p.wrong_values ? " ERRORS" : "";
  if (p.maintenance) {
    std::printf("%-24s %-18s : %10.3f s, disk %.1f -> %.1f MiB (file sizes %.1f -> %.1f MiB)%s\n",
                p.engine.c_str(), p.workload.c_str(), p.seconds,
                p.disk_before.allocated_bytes / kMiB, p.disk_after.allocated_bytes / kMiB,
                p.disk_before.file_bytes / kMiB, p.disk_after.file_bytes / kMiB, errors);
  } else {
    std::printf("%-24s %-18s : %10.3f micros/op %11.0f ops/sec %6.1f s%s%s\n", p.engine.c_str(),
                p.workload.c_str(), p.calls ? p.hist.MeanNanos() / 1000.0 : 0.0,
                p.OpsPerSecond(), p.seconds, p.capped ? " (capped)" : "", errors);
  }
  if (!p.first_error.empty()) std::printf("    first error: %s\n", p.first_error.c_str());
  for (const std::string& w : p.warnings) std::printf("    warning: %s\n", w.c_str());
  std::fflush(stdout);
}

// One untimed pass over every key (--warmup=read): the engine's cache then
// holds what fits of the data, the same way for every engine.
EngineStatus WarmByScan(KvEngine* engine) {
  constexpr size_t kChunk = 10000;
  std::string from(1, '\x01');  // below every key (keys are digits)
  for (;;) {
    size_t visited = 0, bytes = 0;
    std::string last;
    EngineStatus s = engine->Scan(from, kChunk, &visited, &bytes, &last);
    if (s.IsError()) return s;
    if (visited < kChunk || last.empty()) return EngineStatus::OK();
    from = last;
    from.push_back('\0');
  }
}

// Drops the clean pages of every file under `dir` from the kernel page
// cache (--warmup=cold; no root needed, unlike /proc/sys/vm/drop_caches).
void DropPageCache(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Phases that only write, and compact (engine upkeep, not reads): no cache
// to warm before them.
bool NeedsNoWarmup(const std::string& base) {
  return base == "fillseq" || base == "fillrandom" || base == "fillsync" ||
         base == "overwrite" || base == "deleterandom" || base == "compact";
}

// Splits "readrandom@disk" into ("readrandom", "disk").
void SplitVariant(const std::string& w, std::string* base, std::string* variant) {
  size_t at = w.find('@');
  *base = w.substr(0, at);
  *variant = at == std::string::npos ? "" : w.substr(at + 1);
}

// Flags figures that cannot be right, so nobody quotes them.
void CheckPhase(const WorkloadPlan& plan, const BenchSettings& settings, PhaseResult* r) {
  if (r->calls > 0 && r->found + r->not_found + r->errors == 0 && !plan.writes &&
      !plan.maintenance) {
    r->warnings.push_back("a read workload that read nothing");
  }
  const bool sync = plan.name == "fillsync" || settings.sync;
  if (sync && r->user_bytes_written > 0) {
    for (const char* key : {"log.syncs", "wal.syncs"}) {
      const double d = r->StatDelta(key);
      if (r->stats_after.numbers.count(key) && d == 0) {
        r->warnings.push_back(std::string("sync writes, but the engine's ") + key +
                              " did not grow: not durable as asked?");
      }
    }
  }
  if (r->wrong_values > 0) {
    r->warnings.push_back(std::to_string(r->wrong_values) + " values read differ from those written");
  }
}

}  // namespace

EngineStatus ReopenCold(KvEngine* engine, size_t cache_bytes, const std::string& dir) {
  EngineStatus s = engine->Close();
  DropPageCache(dir);
  return s.ok() ? OpenAt(engine, cache_bytes, dir) : s;
}

size_t DiskPhaseCacheBytes(const BenchFlags& flags) {
  const double data = static_cast<double>(flags.settings.num) *
                      static_cast<double>(flags.key_size + flags.value_size);
  size_t bytes = static_cast<size_t>(data / flags.mem_ratio);
  bytes = std::max<size_t>(bytes, 256 << 10);
  return std::min<size_t>(bytes, flags.cache_size);
}

EngineRun RunEngine(KvEngine* engine, const BenchFlags& flags, const KeySpace& keys,
                    const std::string& dir) {
  EngineRun run;
  run.name = engine->Name();
  run.kind = engine->Kind();
  run.version = engine->Version();
  run.dir = dir;
  run.cache_bytes = flags.cache_size;
  run.disk_cache_bytes = DiskPhaseCacheBytes(flags);

  EngineRunState state;
  state.engine = engine;
  state.keys = &keys;
  // A kept database from an earlier run is reused when the first workload
  // is not a fill.
  state.key_count = flags.settings.num;

  RunOptions ro;
  ro.progress = flags.progress;
  ro.duration_seconds = flags.settings.duration_seconds;

  run.start = SampleProc();
  run.start_db_page_cache_bytes = PageCacheBytesOf(dir);
  run.open_before = run.start;
  size_t open_cache = run.cache_bytes;
  EngineStatus s = OpenAt(engine, open_cache, dir);
  run.open_after = SampleProc();
  run.describe = engine->Describe();
  bool open = s.ok();
  if (!open) run.error = s.message();

  for (const std::string& w : flags.benchmarks) {
    PhaseResult p;
    p.workload = w;
    p.engine = run.name;
    // A phase that does not run is still a row, with why (`unsupported`: the
    // engine has no such feature, which is not a failure of the run).
    auto skip = [&](std::string reason, bool unsupported = false) {
      p.skip_reason = std::move(reason);
      p.unsupported = unsupported;
      run.phases.push_back(p);
      PrintPhaseLine(p);
    };
    if (!open) {
      skip("engine not open: " + run.error);
      continue;
    }
    std::string base, variant, error;
    SplitVariant(w, &base, &variant);
    WorkloadPlan plan;
    if (!MakePlan(base, flags.settings, &state, &plan, &error) ||
        (!variant.empty() && variant != "disk")) {
      skip(error.empty() ? "unknown variant @" + variant : error);
      continue;
    }
    if (variant == "disk" && !engine->HasBudget()) {
      skip("no memory budget of its own (reads through the page cache)", /*unsupported=*/true);
      continue;
    }
    if (base == "compact" && !engine->HasCompaction()) {
      skip("no in-place compaction: freed pages are reused, the file does not shrink",
           /*unsupported=*/true);
      continue;
    }
    const size_t want_cache = variant == "disk" ? run.disk_cache_bytes : run.cache_bytes;
    if (plan.fresh_db || want_cache != open_cache) {
      s = engine->Close();
      if (s.ok() && plan.fresh_db) {
        RemoveDir(engine, dir);
        state.key_count = 0;
      }
      if (s.ok()) s = OpenAt(engine, want_cache, dir);
      open_cache = want_cache;
      if (!s.ok()) {
        open = false;
        run.error = s.message();
        skip("reopen failed: " + run.error);
        continue;
      }
      // Plans read key_count when built (YCSB): rebuild after a reset.
      (void)MakePlan(base, flags.settings, &state, &plan, &error);
    }
    // The same preparation for every engine (--warmup), untimed.
    // The --mrc phase starts cold whatever --warmup says: its reruns do.
    const bool mrc = w == flags.mrc && engine->Kind() == "ringdb";
    std::string warm;
    if (!NeedsNoWarmup(base) && flags.warmup == "read" && variant != "disk" && !mrc) {
      s = WarmByScan(engine);
      warm = "scan";
    } else if (!NeedsNoWarmup(base) && (flags.warmup == "cold" || mrc)) {
      s = ReopenCold(engine, open_cache, dir);
      warm = "cold";
      if (!s.ok()) {
        open = false;
        run.error = s.message();
        skip("cold reopen failed: " + run.error);
        continue;
      }
    }
    if (s.IsError()) {
      skip("warm-up failed: " + s.message());
      continue;
    }
    const std::string label = run.name + " " + w;
    RunOptions phase_ro = ro;
    if (mrc) phase_ro.duration_seconds = 0;  // every rerun does the same operations
    const DiskUsage disk_before = DiskUsageOf(dir);
    PhaseResult r = RunPlan(plan, &state, phase_ro, flags.settings, label);
    r.db_page_cache_bytes = PageCacheBytesOf(dir);
    r.disk_before = disk_before;
    r.warmup = warm;
    // What the phase left in memory is written now and counted as its own
    // (--flush_writes), untimed.
    if (flags.flush_writes && r.user_bytes_written > 0) {
      const Clock::time_point f0 = Clock::now();
      EngineStatus fs = engine->Flush();
      r.flush_seconds = std::chrono::duration<double>(Clock::now() - f0).count();
      r.after_flush = SampleProc();
      r.flushed = true;
      if (!fs.ok()) r.warnings.push_back("flush after the phase failed: " + fs.message());
    }
    r.disk_after = DiskUsageOf(dir);
    r.workload = w;
    r.engine = run.name;
    r.cache_bytes = open_cache;
    CheckPhase(plan, flags.settings, &r);
    if (plan.name == "fillseq" || plan.name == "fillrandom" || plan.name == "fillsync") {
      state.key_count = std::max<uint64_t>(state.key_count.load(), flags.settings.num);
    }
    run.user_bytes_written += r.user_bytes_written;
    PrintPhaseLine(r);
    if (mrc) {
      run.mrc.emplace_back();
      if (!RunMrcSweep(engine, flags, &state, dir, w, open_cache, r, &run.mrc.back(), &error)) {
        open = false;
        run.error = error;
      }
    }
    run.phases.push_back(std::move(r));
  }

  run.last_stats = engine->Stats();
  const Clock::time_point c0 = Clock::now();
  s = engine->Close();
  run.close_seconds = std::chrono::duration<double>(Clock::now() - c0).count();
  if (!s.ok() && run.error.empty()) run.error = "close: " + s.message();
  run.end = SampleProc();
  run.db_bytes = DirectoryBytes(dir);
  if (!flags.keep) RemoveDir(engine, dir);
  return run;
}

}  // namespace ringdb_bench
