#include "runner.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace ringdb_bench {

using Clock = std::chrono::steady_clock;

double PhaseResult::StatDelta(const std::string& key) const {
  auto a = stats_after.numbers.find(key);
  auto b = stats_before.numbers.find(key);
  if (a == stats_after.numbers.end()) return -1;
  return a->second - (b == stats_before.numbers.end() ? 0 : b->second);
}

double PhaseResult::DevWritten() const {
  const ProcSample& end = flushed ? after_flush : after;
  return static_cast<double>(end.dev_write_bytes) - static_cast<double>(before.dev_write_bytes);
}

double PhaseResult::DevRead() const {
  return static_cast<double>(after.dev_read_bytes) - static_cast<double>(before.dev_read_bytes);
}

double PhaseResult::WriteAmp() const {
  if (user_bytes_written == 0 || !after.io_available) return -1;
  return DevWritten() / user_bytes_written;
}

double PhaseResult::CacheHitRatio() const {
  double hits = StatDelta("cache.hits");
  double misses = StatDelta("cache.misses");
  if (hits >= 0 && misses >= 0 && hits + misses > 0) return hits / (hits + misses);
  // Only the cumulative ratio is available.
  auto r = stats_after.numbers.find("cache.hit_ratio");
  return r == stats_after.numbers.end() ? -1 : r->second;
}

namespace {

void DrawProgress(const std::string& label, uint64_t done, uint64_t planned, double elapsed,
                  double cap) {
  double frac = planned ? static_cast<double>(done) / planned : 0;
  if (cap > 0) frac = std::max(frac, elapsed / cap);
  frac = std::min(frac, 1.0);
  constexpr int kWidth = 30;
  int filled = static_cast<int>(frac * kWidth);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; i++) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  double rate = elapsed > 0 ? done / elapsed : 0;
  std::fprintf(stderr, "\r\033[K%-44.44s [%s] %3d%% %10.0f ops/s %6.1fs", label.c_str(), bar,
               static_cast<int>(frac * 100), rate, elapsed);
  std::fflush(stderr);
}

}  // namespace

PhaseResult RunPlan(const WorkloadPlan& plan, EngineRunState* state, const RunOptions& options,
                    const BenchSettings& settings, const std::string& label) {
  PhaseResult r;
  r.unit = plan.unit;
  r.threads = plan.threads;
  r.maintenance = plan.maintenance;
  r.ran = true;

  const int n = plan.threads;
  std::vector<std::unique_ptr<ThreadCtx>> ctx;
  for (int t = 0; t < n; t++) {
    ctx.push_back(std::make_unique<ThreadCtx>(t, ThreadSeed(settings.seed, plan.name, t)));
  }
  ThreadCtx bg_ctx(n, ThreadSeed(settings.seed, plan.name + "/background", 0));

  std::atomic<bool> stop{false};
  std::atomic<bool> capped{false};
  std::atomic<bool> bg_stop{false};
  std::atomic<uint64_t> progress_ops{0};
  std::latch start(n + 1 + (plan.background ? 1 : 0));
  const bool has_cap = options.duration_seconds > 0;
  Clock::time_point t0;
  Clock::time_point deadline;

  if (settings.hold_snapshot) {
    EngineStatus held = state->engine->HoldSnapshot(true);
    if (!held.ok()) std::fprintf(stderr, "%s: --hold_snapshot: %s\n", label.c_str(), held.message().c_str());
  }
  r.stats_before = state->engine->Stats();
  r.peak_reset = ResetPeakRss();
  r.before = SampleProc();

  std::vector<std::thread> workers;
  std::thread background;
  if (plan.background) {
    background = std::thread([&] {
      start.arrive_and_wait();
      plan.background(bg_ctx, bg_stop);
    });
  }
  for (int t = 0; t < n; t++) {
    workers.emplace_back([&, t] {
      ThreadCtx& c = *ctx[t];
      start.arrive_and_wait();
      uint64_t unreported = 0;
      for (uint64_t call = 0; call < plan.calls_per_thread; call++) {
        if (stop.load(std::memory_order_relaxed)) break;
        c.ops_in_call = 1;
        const Clock::time_point a = Clock::now();
        plan.op(c, call);
        const Clock::time_point b = Clock::now();
        c.hist.Add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()));
        c.ops += c.ops_in_call;
        unreported += c.ops_in_call;
        if (unreported >= 64) {
          progress_ops.fetch_add(unreported, std::memory_order_relaxed);
          unreported = 0;
        }
        // Past the cap with calls left: capped (a phase whose last call
        // ends past it, e.g. compact's one call, ran in full).
        if (has_cap && b >= deadline && call + 1 < plan.calls_per_thread) {
          capped.store(true);
          stop.store(true);
          break;
        }
      }
      progress_ops.fetch_add(unreported, std::memory_order_relaxed);
    });
  }
  t0 = Clock::now();
  deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(options.duration_seconds));
  start.arrive_and_wait();

  std::atomic<bool> workers_done{false};
  std::thread drawer;
  if (options.progress) {
    drawer = std::thread([&] {
      while (!workers_done.load()) {
        double el = std::chrono::duration<double>(Clock::now() - t0).count();
        DrawProgress(label, progress_ops.load(), plan.planned_ops, el, options.duration_seconds);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const Clock::time_point t1 = Clock::now();
  workers_done.store(true);
  bg_stop.store(true);
  if (background.joinable()) background.join();
  if (drawer.joinable()) {
    drawer.join();
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

  r.after = SampleProc();
  r.stats_after = state->engine->Stats();
  if (settings.hold_snapshot) {
    // What the snapshot held at the end (ringdb: old versions in memory).
    std::string retained;
    if (state->engine->Property("ringdb.snapshots.retained_bytes", &retained)) {
      std::fprintf(stderr, "%s: the held snapshot kept %.1f MiB of old versions\n", label.c_str(),
                   std::strtod(retained.c_str(), nullptr) / (1 << 20));
    }
    (void)state->engine->HoldSnapshot(false);
  }
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  r.capped = capped.load();
  for (const auto& c : ctx) {
    r.hist.Merge(c->hist);
    r.ops += c->ops;
    r.calls += c->hist.Count();
    r.found += c->found;
    r.not_found += c->not_found;
    r.errors += c->errors;
    r.wrong_values += c->wrong_values;
    r.user_bytes_written += c->user_bytes_written;
    r.user_bytes_read += c->user_bytes_read;
    if (r.first_error.empty()) r.first_error = c->first_error;
  }
  r.background_ops = bg_ctx.ops;
  if (plan.background) {
    r.user_bytes_written += bg_ctx.user_bytes_written;
    r.errors += bg_ctx.errors;
    if (r.first_error.empty()) r.first_error = bg_ctx.first_error;
  }
  return r;
}

}  // namespace ringdb_bench
