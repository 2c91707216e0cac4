// The human-readable report on stdout.
#include "report.h"

#include <algorithm>
#include <cmath>

namespace ringdb_bench {
namespace {

double Delta(uint64_t after, uint64_t before) {
  return static_cast<double>(after) - static_cast<double>(before);
}

std::string Fmt(const char* fmt, double v) {
  if (!std::isfinite(v) || v < 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string FmtSigned(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%+.1f", v);
  return buf;
}

// The i-th phase of `e` (RunEngine records one per --benchmarks entry, in
// order, so a workload listed twice has two), or null when it did not run.
const PhaseResult* Find(const EngineRun& e, size_t i) {
  return i < e.phases.size() && e.phases[i].ran ? &e.phases[i] : nullptr;
}

// "found%" of a phase that looked keys up: found / (found + not found); "-"
// when it looked nothing up (the fills).
std::string FoundCell(const PhaseResult& p) {
  const uint64_t looked = p.found + p.not_found;
  if (looked == 0) return "-";
  return Fmt("%.1f", 100.0 * p.found / looked);
}

// User bytes (keys and values read or written) per second, in MB (10^6);
// -1 ("-") for compact, which reads and writes no keys.
double UserMBps(const PhaseResult& p) {
  if (p.maintenance) return -1;
  return p.seconds > 0 ? (p.user_bytes_read + p.user_bytes_written) / p.seconds / 1e6 : -1;
}

// ops/s, or "-" for compact (one op: its figure is its time, in the
// COMPACT note under the table).
std::string OpsCell(const PhaseResult& p) {
  return p.maintenance ? "-" : Fmt("%.0f", p.OpsPerSecond());
}

void PrintPhases(const RunReport& r, std::FILE* out) {
  std::fprintf(out,
               "%-17s %-24s %11s %8s %6s %9s %9s %9s %9s %9s %8s %8s %8s %9s %9s %6s %6s %9s\n",
               "workload", "engine", "ops/s", "MB/s", "found%", "p50 us", "p99 us", "p99.9 us",
               "p99.99 us", "max us", "rssd MiB", "peak MiB", "pcd MiB", "rd MiB", "wr MiB", "WA",
               "hit%", "disk MiB");
  std::vector<std::string> nothing_found;
  std::vector<std::string> compactions;
  for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
    const std::string& w = r.flags->benchmarks[i];
    for (const EngineRun& e : r.engines) {
      if (i >= e.phases.size()) continue;
      const PhaseResult* p = &e.phases[i];
      if (!p->ran) {
        std::fprintf(out, "%-17s %-24s skipped: %s\n", w.c_str(), e.name.c_str(),
                     p->skip_reason.c_str());
        continue;
      }
      if (p->found == 0 && p->not_found > 0) nothing_found.push_back(e.name + " " + w);
      if (p->maintenance) {
        char note[256];
        std::snprintf(note, sizeof(note),
                      "%s %s took %.3f s; disk %.1f -> %.1f MiB (file sizes %.1f -> %.1f MiB)",
                      w.c_str(), e.name.c_str(), p->seconds, p->disk_before.allocated_bytes / kMiB,
                      p->disk_after.allocated_bytes / kMiB, p->disk_before.file_bytes / kMiB,
                      p->disk_after.file_bytes / kMiB);
        compactions.push_back(note);
      }
      const double hit = p->CacheHitRatio();
      std::fprintf(
          out,
          "%-17s %-24s %11s %8s %6s %9s %9s %9s %9s %9s %8s %8s %8s %9s %9s %6s %6s %9.1f%s%s%s\n",
          w.c_str(), e.name.c_str(), OpsCell(*p).c_str(), Fmt("%.1f", UserMBps(*p)).c_str(),
          FoundCell(*p).c_str(), Fmt("%.1f", p->hist.PercentileNanos(50) / 1e3).c_str(),
          Fmt("%.1f", p->hist.PercentileNanos(99) / 1e3).c_str(),
          Fmt("%.1f", p->hist.PercentileNanos(99.9) / 1e3).c_str(),
          Fmt("%.1f", p->hist.PercentileNanos(99.99) / 1e3).c_str(),
          Fmt("%.1f", p->hist.MaxNanos() / 1e3).c_str(),
          FmtSigned(Delta(p->after.rss_bytes, p->before.rss_bytes) / kMiB).c_str(),
          Fmt("%.1f", p->after.hwm_bytes / kMiB).c_str(),
          FmtSigned(Delta(p->after.page_cache_bytes, p->before.page_cache_bytes) / kMiB).c_str(),
          Fmt("%.1f", p->DevRead() / kMiB).c_str(), Fmt("%.1f", p->DevWritten() / kMiB).c_str(),
          Fmt("%.2f", p->WriteAmp()).c_str(), hit < 0 ? "-" : Fmt("%.1f", hit * 100).c_str(),
          p->disk_after.allocated_bytes / kMiB, p->capped ? " capped" : "",
          (p->errors || p->wrong_values) ? " ERRORS" : "", p->warnings.empty() ? "" : " WARN");
    }
  }
  std::fprintf(out,
               "  ops/s counts keys read or written (a MultiGet of 32 is 32; a scan counts its "
               "entries in readseq, one op elsewhere); latency is per call.\n"
               "  MB/s: user bytes (keys and values) read or written per second, 10^6 bytes; "
               "found%%: lookups that found their key (- for phases without lookups).\n"
               "  rssd: RSS change over the phase; peak: VmHWM in the phase (reset before it "
               "when the kernel allows); pcd: change of the page cache (Cached:, machine-wide); "
               "rd/wr: bytes this process read/wrote on the device (/proc/self/io)%s; WA: device "
               "bytes written / user bytes written; hit%%: the engine's cache hit ratio in the "
               "phase (RocksDB: block cache); disk: space the database's files take at the end "
               "of the phase (allocated blocks, as du; after the flush); capped: stopped by "
               "--duration.\n",
               r.flags->flush_writes
                   ? ", wr including the untimed flush after a phase that wrote (what it left "
                     "dirty: ringdb's checkpoint and idle compaction, RocksDB's memtable flush "
                     "and compactions, "
                     "LMDB's sync)"
                   : ", wr NOT including what a phase left dirty (--flush_writes=false: "
                     "deferred to a later phase or Close)");
  for (const std::string& c : compactions) std::fprintf(out, "  COMPACT: %s\n", c.c_str());
  for (const std::string& n : nothing_found) {
    std::fprintf(out, "  NOTE: %s found none of the keys it looked up (an empty database? its "
                      "ops/s measure misses only)\n", n.c_str());
  }
}

void PrintWarnings(const RunReport& r, std::FILE* out) {
  bool any = false;
  for (const EngineRun& e : r.engines) {
    for (const PhaseResult& p : e.phases) {
      for (const std::string& w : p.warnings) {
        if (!any) std::fprintf(out, "\nWARNINGS (figures marked WARN are suspect):\n");
        any = true;
        std::fprintf(out, "  %s %s: %s\n", e.name.c_str(), p.workload.c_str(), w.c_str());
      }
      if (!p.first_error.empty()) {
        if (!any) std::fprintf(out, "\nWARNINGS (figures marked WARN are suspect):\n");
        any = true;
        std::fprintf(out, "  %s %s: %llu errors, first: %s\n", e.name.c_str(), p.workload.c_str(),
                     static_cast<unsigned long long>(p.errors), p.first_error.c_str());
      }
    }
  }
}

// One table of ringdb / base per workload, base being the first engine of
// kind `base_kind`.
void PrintRatiosTo(const RunReport& r, const char* base_kind, std::FILE* out) {
  const EngineRun* base = nullptr;
  for (const EngineRun& e : r.engines) {
    if (e.kind == base_kind) {
      base = &e;
      break;
    }
  }
  std::vector<const EngineRun*> others;
  for (const EngineRun& e : r.engines) {
    if (e.kind == "ringdb") others.push_back(&e);
  }
  if (base == nullptr || others.empty()) return;
  std::fprintf(out, "\nringdb / %s: ops/s ratio (>1: ringdb faster), p99 ratio (<1: ringdb lower)\n",
               base->name.c_str());
  std::fprintf(out, "%-17s", "workload");
  for (const EngineRun* e : others) std::fprintf(out, " %-28s", e->name.c_str());
  std::fprintf(out, "\n");
  std::vector<std::string> unlike;
  for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
    const PhaseResult* b = Find(*base, i);
    std::fprintf(out, "%-17s", r.flags->benchmarks[i].c_str());
    for (const EngineRun* e : others) {
      const PhaseResult* p = Find(*e, i);
      if (b == nullptr || p == nullptr || b->OpsPerSecond() <= 0) {
        std::fprintf(out, " %-28s", "-");
        continue;
      }
      const double bp99 = b->hist.PercentileNanos(99);
      // One engine read from the device and the other hardly: the ratio
      // compares a cold phase with a warm one.
      const double rp = p->DevRead(), rb = b->DevRead();
      const bool uneven = std::max(rp, rb) >= kMiB && std::min(rp, rb) < 0.1 * std::max(rp, rb);
      char cell[64];
      std::snprintf(cell, sizeof(cell), "%.3gx ops/s, p99 %s%s", p->OpsPerSecond() / b->OpsPerSecond(),
                    bp99 > 0 ? Fmt("%.2gx", p->hist.PercentileNanos(99) / bp99).c_str() : "-",
                    uneven ? " *" : "");
      std::fprintf(out, " %-28s", cell);
      if (uneven) {
        char note[256];
        std::snprintf(note, sizeof(note),
                      "  * %s: %s read %.1f MiB from the device, %s %.1f MiB: not like for like "
                      "(one ran from its cache, the other from the disk)",
                      r.flags->benchmarks[i].c_str(), e->name.c_str(), rp / kMiB,
                      base->name.c_str(), rb / kMiB);
        unlike.push_back(note);
      }
    }
    std::fprintf(out, "\n");
  }
  for (const std::string& n : unlike) std::fprintf(out, "%s\n", n.c_str());
}

// Point reads against the device: a readrandom or ycsbc phase (one Get per
// op, --threads threads) whose cache misses cost a 4 KiB device read each
// cannot beat fio with one reader per thread at depth 1 divided by its
// device reads per op. The line says how close each engine came, and so
// what ratio between engines the device leaves room for.
void PrintDeviceBound(const RunReport& r, std::FILE* out) {
  const FioResult* fio = FindFio(r.fio, 1, std::max(1, r.flags->settings.threads));
  if (fio == nullptr) return;
  bool header = false;
  for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
    const std::string& w = r.flags->benchmarks[i];
    const std::string base = w.substr(0, w.find('@'));
    if (base != "readrandom" && base != "ycsbc") continue;
    for (const EngineRun& e : r.engines) {
      const PhaseResult* p = Find(e, i);
      if (p == nullptr || p->ops == 0 || p->DevRead() < kMiB) continue;
      if (!header) {
        std::fprintf(out, "\nPoint reads against the device (fio %s: %.0f IOPS): an engine's "
                          "ceiling is those IOPS / its device reads per op (bytes read / 4 KiB)\n",
                     FioLabel(*fio).c_str(), fio->read_iops);
        std::fprintf(out, "%-17s %-24s %11s %11s %13s %9s\n", "workload", "engine",
                     "ops/sec", "reads/op", "ceiling ops/s", "of it");
        header = true;
      }
      const double reads_per_op = p->DevRead() / 4096.0 / static_cast<double>(p->ops);
      const double ceiling = fio->read_iops / reads_per_op;
      std::fprintf(out, "%-17s %-24s %11.0f %11.3f %13.0f %8.0f%%\n", w.c_str(),
                   e.name.c_str(), p->OpsPerSecond(), reads_per_op, ceiling,
                   100.0 * p->OpsPerSecond() / ceiling);
    }
  }
}

void PrintRatios(const RunReport& r, std::FILE* out) {
  PrintRatiosTo(r, "rocksdb", out);
  PrintRatiosTo(r, "lmdb", out);
}

void PrintTotals(const RunReport& r, std::FILE* out) {
  std::fprintf(out, "\nPer engine, whole run (open to close):\n");
  std::fprintf(out, "%-24s %12s %12s %12s %7s %11s %11s %11s %9s\n", "engine", "user wr MiB",
               "dev wr MiB", "dev rd MiB", "WA", "db size MiB", "open rssd", "pcd MiB", "close s");
  for (const EngineRun& e : r.engines) {
    const double dev_w = Delta(e.end.dev_write_bytes, e.start.dev_write_bytes);
    const double wa = e.user_bytes_written ? dev_w / e.user_bytes_written : -1;
    std::fprintf(out, "%-24s %12.1f %12.1f %12.1f %7s %11.1f %11s %11s %9.2f%s%s\n",
                 e.name.c_str(), e.user_bytes_written / kMiB, dev_w / kMiB,
                 Delta(e.end.dev_read_bytes, e.start.dev_read_bytes) / kMiB,
                 Fmt("%.2f", wa).c_str(), e.db_bytes / kMiB,
                 FmtSigned(Delta(e.open_after.rss_bytes, e.open_before.rss_bytes) / kMiB).c_str(),
                 FmtSigned(Delta(e.end.page_cache_bytes, e.start.page_cache_bytes) / kMiB).c_str(),
                 e.close_seconds, e.error.empty() ? "" : "  error: ", e.error.c_str());
  }
  for (const EngineRun& e : r.engines) {
    auto backend = e.last_stats.text.find("io_backend");
    if (backend != e.last_stats.text.end()) {
      std::fprintf(out, "  %s: io backend in use: %s\n", e.name.c_str(), backend->second.c_str());
    }
    if (e.kind == "lmdb") {
      std::fprintf(out, "  %s: no budget of its own; it caches in the kernel page cache (see pcd "
                        "MiB: machine-wide), and its @disk phases are skipped\n", e.name.c_str());
    }
    if (e.kind != "rocksdb") continue;
    auto it = e.describe.find("memtable_bytes_max_beyond_budget");
    if (it != e.describe.end()) {
      std::fprintf(out, "  %s: memtables may add up to %.1f MiB on top of the %.1f MiB budget\n",
                   e.name.c_str(), std::strtod(it->second.c_str(), nullptr) / kMiB,
                   e.cache_bytes / kMiB);
    }
  }
}

}  // namespace

void PrintReport(const RunReport& r, std::FILE* out) {
  const BenchFlags& f = *r.flags;
  std::fprintf(out, "\n== ringdb_bench: num=%llu key=%zu B value=%zu B threads=%d sync=%s budget=%.1f MiB "
               "@disk budget=%.2f MiB (data/%.0f) ==\n",
               static_cast<unsigned long long>(f.settings.num), f.key_size, f.value_size,
               f.settings.threads, f.settings.sync ? "true" : "false", f.cache_size / kMiB,
               DiskPhaseCacheBytes(f) / kMiB, f.mem_ratio);
  std::fprintf(out, "machine: %d cpus, %.1f GiB, %s, %s; git %s; %s; rocksdb %s; lmdb %s\n\n",
               r.machine.nproc, r.machine.mem_total_bytes / kMiB / 1024, r.machine.kernel.c_str(),
               r.machine.cpu_model.c_str(), r.git_commit.c_str(),
               r.ringdb_version.empty() ? "ringdb not built in" : r.ringdb_version.c_str(),
               r.rocksdb_version.c_str(),
               r.lmdb_version.empty() ? "not built in" : r.lmdb_version.c_str());
  std::fprintf(out, "warm-up before read phases (--warmup=%s): %s\n", f.warmup.c_str(),
               f.warmup == "read"
                   ? "one untimed full scan before every in-memory read phase, every engine; "
                     "@disk phases start from what the reopen and earlier phases left"
               : f.warmup == "cold"
                   ? "every read phase starts cold: the engine is closed and reopened and its "
                     "files dropped from the page cache"
                   : "none: each phase inherits the cache the previous one left, which differs "
                     "between engines");
  std::fprintf(out, "writes left in memory (--flush_writes=%s): %s\n\n",
               f.flush_writes ? "true" : "false",
               f.flush_writes ? "flushed after each writing phase, untimed; counted in its wr "
                                "MiB and WA"
                              : "not flushed: counted where they land (a later phase, or Close)");
  PrintPhases(r, out);
  PrintWarnings(r, out);
  PrintRatios(r, out);
  PrintDeviceBound(r, out);
  PrintTotals(r, out);
  PrintMemory(r, out);
  PrintMrc(r, out);
  std::fprintf(out, "\nDevice ceiling (fio, 4 KiB random reads, O_DIRECT, io_uring, file in --db):");
  if (r.fio.empty()) std::fprintf(out, " not measured (%s)", r.fio_note.c_str());
  for (const FioResult& fr : r.fio) {
    if (fr.ok) {
      std::fprintf(out, " %s %.0f IOPS (mean %.1f us);", FioLabel(fr).c_str(), fr.read_iops,
                   fr.lat_mean_us);
    } else {
      std::fprintf(out, " %s failed: %s;", FioLabel(fr).c_str(), fr.error.c_str());
    }
  }
  std::fprintf(out, "\n");
}

}  // namespace ringdb_bench
