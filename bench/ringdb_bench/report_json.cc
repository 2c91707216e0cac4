// The JSON report: machine, versions, flags, commit, the fio ceiling and
// every engine x workload measurement.
#include <fstream>

#include "json_writer.h"
#include "mrc_chart.h"
#include "report.h"

namespace ringdb_bench {
namespace {

void WriteSample(JsonWriter& j, const ProcSample& s) {
  j.BeginObject();
  j.Key("rss_bytes").UInt(s.rss_bytes);
  j.Key("vm_hwm_bytes").UInt(s.hwm_bytes);
  j.Key("rss_anon_bytes").UInt(s.rss_anon_bytes);
  j.Key("page_cache_bytes").UInt(s.page_cache_bytes);
  j.Key("device_read_bytes").UInt(s.dev_read_bytes);
  j.Key("device_write_bytes").UInt(s.dev_write_bytes);
  j.EndObject();
}

void WriteStats(JsonWriter& j, const EngineStats& s) {
  j.BeginObject();
  for (const auto& [k, v] : s.numbers) j.Key(k).Num(v);
  for (const auto& [k, v] : s.text) j.Key(k).Str(v);
  j.EndObject();
}

int64_t D(uint64_t a, uint64_t b) { return static_cast<int64_t>(a) - static_cast<int64_t>(b); }

void WritePhase(JsonWriter& j, const EngineRun& e, const PhaseResult& p) {
  j.BeginObject();
  j.Key("workload").Str(p.workload);
  j.Key("ran").Bool(p.ran);
  if (!p.ran) {
    j.Key("skip_reason").Str(p.skip_reason);
    j.Key("unsupported_by_engine").Bool(p.unsupported);
    j.EndObject();
    return;
  }
  j.Key("cache_bytes").UInt(p.cache_bytes);
  j.Key("threads").Num(p.threads);
  j.Key("latency_unit").Str(p.unit);
  // compact: one op, engine upkeep; `seconds` is its figure, not ops_per_second.
  j.Key("maintenance").Bool(p.maintenance);
  j.Key("ops").UInt(p.ops);
  j.Key("calls").UInt(p.calls);
  j.Key("seconds").Num(p.seconds);
  j.Key("capped_by_duration").Bool(p.capped);
  j.Key("ops_per_second").Num(p.OpsPerSecond());
  j.Key("latency_us").BeginObject();
  j.Key("mean").Num(p.hist.MeanNanos() / 1e3);
  j.Key("p50").Num(p.hist.PercentileNanos(50) / 1e3);
  j.Key("p99").Num(p.hist.PercentileNanos(99) / 1e3);
  j.Key("p99.9").Num(p.hist.PercentileNanos(99.9) / 1e3);
  j.Key("p99.99").Num(p.hist.PercentileNanos(99.99) / 1e3);
  j.Key("max").Num(p.hist.MaxNanos() / 1e3);
  j.EndObject();
  j.Key("user_mb_per_second")
      .Num(p.seconds > 0 ? (p.user_bytes_read + p.user_bytes_written) / p.seconds / 1e6 : 0);
  j.Key("found").UInt(p.found);
  j.Key("not_found").UInt(p.not_found);
  j.Key("errors").UInt(p.errors);
  j.Key("wrong_values").UInt(p.wrong_values);
  if (!p.first_error.empty()) j.Key("first_error").Str(p.first_error);
  j.Key("warnings").BeginArray();
  for (const std::string& w : p.warnings) j.Str(w);
  j.EndArray();
  j.Key("background_ops").UInt(p.background_ops);
  j.Key("user_bytes_written").UInt(p.user_bytes_written);
  j.Key("user_bytes_read").UInt(p.user_bytes_read);
  j.Key("rss_delta_bytes").Num(static_cast<double>(D(p.after.rss_bytes, p.before.rss_bytes)));
  j.Key("vm_hwm_bytes").UInt(p.after.hwm_bytes);
  j.Key("vm_hwm_is_phase_peak").Bool(p.peak_reset);
  j.Key("page_cache_delta_bytes")
      .Num(static_cast<double>(D(p.after.page_cache_bytes, p.before.page_cache_bytes)));
  j.Key("device_read_bytes").Num(static_cast<double>(D(p.after.dev_read_bytes, p.before.dev_read_bytes)));
  j.Key("device_write_bytes").Num(p.DevWritten());
  j.Key("device_write_bytes_in_timed_part")
      .Num(static_cast<double>(D(p.after.dev_write_bytes, p.before.dev_write_bytes)));
  j.Key("flushed_after").Bool(p.flushed);
  j.Key("flush_seconds").Num(p.flush_seconds);
  j.Key("warmup").Str(p.warmup);
  // The database's files before the timed part and after the phase (and
  // its flush): allocated blocks (du) and file sizes.
  j.Key("disk").BeginObject();
  j.Key("allocated_bytes_before").UInt(p.disk_before.allocated_bytes);
  j.Key("allocated_bytes_after").UInt(p.disk_after.allocated_bytes);
  j.Key("file_bytes_before").UInt(p.disk_before.file_bytes);
  j.Key("file_bytes_after").UInt(p.disk_after.file_bytes);
  j.EndObject();
  const double wa = p.WriteAmp();
  if (wa >= 0) {
    j.Key("write_amplification").Num(wa);
  } else {
    j.Key("write_amplification").Null();
  }
  const double hit = p.CacheHitRatio();
  if (hit >= 0) {
    j.Key("cache_hit_ratio").Num(hit);
  } else {
    j.Key("cache_hit_ratio").Null();
  }
  j.Key("engine_stats_before");
  WriteStats(j, p.stats_before);
  j.Key("engine_stats_after");
  WriteStats(j, p.stats_after);
  const PhaseMemory m = MemoryOf(e, p);
  j.Key("memory").BeginObject();
  j.Key("rss_anon_bytes").Num(m.anon_rss_bytes);
  j.Key("db_files_page_cache_bytes").UInt(p.db_page_cache_bytes);
  j.Key("db_files_page_cache_growth_since_open_bytes").Num(m.page_cache_growth_bytes);
  j.Key("total_bytes").Num(m.total_bytes);
  j.EndObject();
  j.EndObject();
}

// --mrc: the curve and, per grid size, predicted beside measured.
void WriteMrc(JsonWriter& j, const MrcSweep& m) {
  j.BeginObject();
  j.Key("workload").Str(m.workload);
  j.Key("recorded_at_pool_bytes").UInt(m.budget);
  j.Key("curve").BeginArray();
  for (const auto& [bytes, ratio] : bench_common::ParseMissRatioCurve(m.curve)) {
    j.BeginArray().Num(bytes).Num(ratio).EndArray();
  }
  j.EndArray();
  j.Key("points").BeginArray();
  for (const MrcPoint& p : m.points) {
    j.BeginObject();
    j.Key("factor").Num(p.factor);
    j.Key("pool_bytes").UInt(p.pool_bytes);
    j.Key("predicted_miss_ratio").Num(p.predicted);
    if (p.measured >= 0) {
      j.Key("measured_miss_ratio").Num(p.measured);
      j.Key("error").Num(p.predicted - p.measured);
    } else {
      j.Key("measured_miss_ratio").Null();
      j.Key("rerun_error").Str(p.error);
    }
    j.Key("ops_per_second").Num(p.ops_per_second);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
}

void WriteEngine(JsonWriter& j, const EngineRun& e) {
  j.BeginObject();
  j.Key("name").Str(e.name);
  j.Key("kind").Str(e.kind);
  j.Key("version").Str(e.version);
  j.Key("dir").Str(e.dir);
  j.Key("cache_bytes").UInt(e.cache_bytes);
  j.Key("disk_phase_cache_bytes").UInt(e.disk_cache_bytes);
  j.Key("options").BeginObject();
  for (const auto& [k, v] : e.describe) j.Key(k).Str(v);
  j.EndObject();
  if (e.kind == "rocksdb") {
    auto it = e.describe.find("memtable_bytes_max_beyond_budget");
    j.Key("memory_beyond_budget_note")
        .Str("RocksDB memtables (write_buffer_size x max_write_buffer_number = " +
             (it == e.describe.end() ? std::string("?") : it->second) +
             " bytes) are allocated outside the block cache, on top of the shared budget; "
             "engine_stats.memtable.bytes shows their size at each phase boundary");
  }
  if (e.kind == "lmdb") {
    j.Key("memory_beyond_budget_note")
        .Str("LMDB has no budget of its own: it reads through an mmap of its file, so its "
             "cache is the kernel page cache; page_cache_delta_bytes (per phase and per run) "
             "is its memory growth. Its @disk phases are skipped.");
  }
  if (!e.error.empty()) j.Key("error").Str(e.error);
  j.Key("user_bytes_written").UInt(e.user_bytes_written);
  const int64_t dev_w = D(e.end.dev_write_bytes, e.start.dev_write_bytes);
  j.Key("device_write_bytes").Num(static_cast<double>(dev_w));
  j.Key("device_read_bytes").Num(static_cast<double>(D(e.end.dev_read_bytes, e.start.dev_read_bytes)));
  if (e.user_bytes_written > 0) {
    j.Key("write_amplification").Num(static_cast<double>(dev_w) / e.user_bytes_written);
  } else {
    j.Key("write_amplification").Null();
  }
  j.Key("db_bytes_after_close").UInt(e.db_bytes);
  j.Key("close_seconds").Num(e.close_seconds);
  j.Key("open_rss_delta_bytes")
      .Num(static_cast<double>(D(e.open_after.rss_bytes, e.open_before.rss_bytes)));
  j.Key("page_cache_delta_bytes")
      .Num(static_cast<double>(D(e.end.page_cache_bytes, e.start.page_cache_bytes)));
  j.Key("start");
  WriteSample(j, e.start);
  j.Key("end");
  WriteSample(j, e.end);
  j.Key("final_stats");
  WriteStats(j, e.last_stats);
  j.Key("phases").BeginArray();
  for (const PhaseResult& p : e.phases) WritePhase(j, e, p);
  j.EndArray();
  for (const MrcSweep& m : e.mrc) {
    j.Key("mrc");
    WriteMrc(j, m);
  }
  j.EndObject();
}

}  // namespace

bool WriteJson(const RunReport& r, const std::string& path, std::string* error) {
  JsonWriter j;
  j.BeginObject();
  j.Key("tool").Str("ringdb_bench");
  j.Key("started_at").Str(r.started_at);
  j.Key("total_seconds").Num(r.total_seconds);
  j.Key("git_commit").Str(r.git_commit);
  j.Key("versions").BeginObject();
  if (r.ringdb_version.empty()) {
    j.Key("ringdb").Null();
  } else {
    j.Key("ringdb").Str(r.ringdb_version);
  }
  j.Key("rocksdb").Str(r.rocksdb_version);
  if (r.lmdb_version.empty()) {
    j.Key("lmdb").Null();
  } else {
    j.Key("lmdb").Str(r.lmdb_version);
  }
  j.EndObject();
  j.Key("machine").BeginObject();
  j.Key("nproc").Num(r.machine.nproc);
  j.Key("mem_total_bytes").UInt(r.machine.mem_total_bytes);
  j.Key("kernel").Str(r.machine.kernel);
  j.Key("cpu_model").Str(r.machine.cpu_model);
  j.Key("hostname").Str(r.machine.hostname);
  j.EndObject();
  j.Key("flags").BeginObject();
  for (const auto& [k, v] : FlagValues()) j.Key(k).Str(v);
  j.EndObject();
  j.Key("notes").BeginArray();
  j.Str("All engines run in one process, one after another; VmHWM is per process (reset "
        "before each phase through /proc/self/clear_refs when allowed), so rss_delta_bytes "
        "per phase is the fairer memory figure.");
  j.Str("page_cache_delta_bytes is the change of 'Cached:' in /proc/meminfo: machine-wide, "
        "so other processes on the machine add noise.");
  j.Str("device bytes come from /proc/self/io (read_bytes/write_bytes) and include every "
        "thread of this process (RocksDB's background flushes and compactions, io_uring "
        "workers).");
  j.EndArray();
  j.Key("fio").BeginArray();
  for (const FioResult& f : r.fio) {
    j.BeginObject();
    j.Key("rw").Str("randread");
    j.Key("bs").Num(4096);
    j.Key("direct").Bool(true);
    j.Key("ioengine").Str("io_uring");
    j.Key("iodepth").Num(f.iodepth);
    j.Key("jobs").Num(f.jobs);
    j.Key("ok").Bool(f.ok);
    if (f.ok) {
      j.Key("read_iops").Num(f.read_iops);
      j.Key("clat_mean_us").Num(f.lat_mean_us);
    } else {
      j.Key("error").Str(f.error);
    }
    j.EndObject();
  }
  j.EndArray();
  if (r.fio.empty()) j.Key("fio_note").Str(r.fio_note);
  j.Key("engines").BeginArray();
  for (const EngineRun& e : r.engines) WriteEngine(j, e);
  j.EndArray();
  j.EndObject();

  std::ofstream out(path, std::ios::trunc);
  out << j.str() << "\n";
  out.close();
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace ringdb_bench
