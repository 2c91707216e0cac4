// The charts, drawn by gnuplot from data files and scripts written next to
// the PNGs (removed after them unless --keep):
// - <png>: ops/s per workload, one bar per engine row, log scale (none for
//   compact: one op, not a rate);
// - <png>-ratio: ringdb's ops/s divided by RocksDB's (and LMDB's) per
//   workload, log scale around 1 (when ringdb and another engine ran);
// - <png>-memory: ops/s against total memory (RSS + page-cache growth),
//   one point per engine row and workload but compact: the direct-I/O
//   comparison;
// - <png>-mrc: ringdb's predicted miss-ratio curve against the measured
//   reruns (--mrc).
#include <sstream>
#include <functional>

#include "bench_util.h"
#include "mrc_chart.h"
#include "report.h"

namespace ringdb_bench {
namespace {

using bench_common::GnuplotQuote;

// One cluster per workload, one bar per column; cell(workload index,
// column) <= 0 leaves the bar out. `axis`: gnuplot lines for the y axis.
bool DrawBars(const RunReport& r, const std::string& png, const std::string& title,
              const std::string& axis, const std::vector<std::string>& columns,
              const std::function<double(size_t, size_t)>& cell, std::string* error) {
  const std::string dat = png + ".dat";
  std::ostringstream d, g;
  {
    d << "workload";
    for (const std::string& c : columns) d << "\t" << GnuplotQuote(c);
    d << "\n";
    for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
      d << GnuplotQuote(r.flags->benchmarks[i]);
      for (size_t c = 0; c < columns.size(); c++) {
        const double v = cell(i, c);
        // A missing bar on a log axis: "?" is gnuplot's missing value.
        if (v > 0) {
          d << "\t" << v;
        } else {
          d << "\t?";
        }
      }
      d << "\n";
    }
  }
  {
    g << "set terminal pngcairo size 1600,700 noenhanced font \",10\"\n"
      << "set output " << GnuplotQuote(png) << "\n"
      << "set title " << GnuplotQuote(title) << "\n"
      << "set style data histograms\n"
      << "set style histogram clustered gap 1\n"
      << "set style fill solid 0.8 border -1\n"
      << "set boxwidth 0.9\n"
      << axis << "set grid ytics\n"
      << "set xtics rotate by -40 scale 0\n"
      << "set key top right\n"
      << "set datafile missing \"?\"\n"
      << "set datafile separator \"\\t\"\n"
      << "plot ";
    for (size_t i = 0; i < columns.size(); i++) {
      if (i > 0) g << ", ";
      g << GnuplotQuote(dat) << " using " << (i + 2) << (i == 0 ? ":xtic(1)" : "")
        << " title columnheader(" << (i + 2) << ")";
    }
    g << "\n";
  }
  return bench_common::Gnuplot(dat, d.str(), png + ".gp", g.str(), r.flags->keep, error);
}

// The i-th phase of `e` when it ran with a positive rate, else null.
const PhaseResult* Ran(const EngineRun& e, size_t i) {
  return i < e.phases.size() && e.phases[i].ran && e.phases[i].OpsPerSecond() > 0
             ? &e.phases[i]
             : nullptr;
}

bool DrawOpsChart(const RunReport& r, const std::string& png, std::string* error) {
  std::vector<std::string> columns;
  for (const EngineRun& e : r.engines) columns.push_back(e.name);
  return DrawBars(
      r, png,
      "ringdb_bench: ops/s per workload (log scale), num=" +
          std::to_string(r.flags->settings.num) + ", git " + r.git_commit,
      "set logscale y\nset ylabel \"ops/s\"\n", columns,
      [&](size_t i, size_t c) {
        const PhaseResult* p = Ran(r.engines[c], i);
        return p && !p->maintenance ? p->OpsPerSecond() : 0;  // compact: 1 op, not a rate
      },
      error);
}

// ringdb / base ops/s per workload: one bar per (ringdb row, base engine),
// base being the first RocksDB and the first LMDB row.
bool DrawRatioChart(const RunReport& r, const std::string& png, std::string* error) {
  std::vector<std::pair<const EngineRun*, const EngineRun*>> pairs;  // (ringdb, base)
  for (const char* kind : {"rocksdb", "lmdb"}) {
    const EngineRun* base = nullptr;
    for (const EngineRun& e : r.engines) {
      if (e.kind == kind) {
        base = &e;
        break;
      }
    }
    if (base == nullptr) continue;
    for (const EngineRun& e : r.engines) {
      if (e.kind == "ringdb") pairs.emplace_back(&e, base);
    }
  }
  if (pairs.empty()) return true;  // nothing to divide by (HasRatioChart says so)
  std::vector<std::string> columns;
  for (const auto& [e, b] : pairs) columns.push_back(e->name + " / " + b->name);
  return DrawBars(
      r, png,
      "ringdb_bench: ringdb ops/s / other engine's ops/s (log scale; > 1: ringdb faster), "
      "num=" + std::to_string(r.flags->settings.num) + ", warm-up " + r.flags->warmup +
          ", git " + r.git_commit,
      "set logscale y 2\nset ylabel \"ratio\"\n"
      "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb \"black\"\n",
      columns,
      [&](size_t i, size_t c) {
        const PhaseResult* e = Ran(*pairs[c].first, i);
        const PhaseResult* b = Ran(*pairs[c].second, i);
        return e && b ? e->OpsPerSecond() / b->OpsPerSecond() : 0;
      },
      error);
}

// ops/s against total memory: one data block (and colour) per workload,
// each point labelled with its engine row.
// *drew: false when no phase ran (nothing drawn).
bool DrawMemoryChart(const RunReport& r, const std::string& png, bool* drew,
                     std::string* error) {
  const std::string dat = png + ".dat";
  std::vector<std::string> workloads;  // one per data block written
  std::ostringstream d, g;
  {
    for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
      bool any = false;
      for (const EngineRun& e : r.engines) {
        const PhaseResult* p = Ran(e, i);
        if (p == nullptr || p->maintenance) continue;
        const PhaseMemory m = MemoryOf(e, *p);
        d << m.total_bytes / kMiB << "\t" << p->OpsPerSecond() << "\t" << GnuplotQuote(e.name)
          << "\n";
        any = true;
      }
      if (any) {
        d << "\n\n";
        workloads.push_back(r.flags->benchmarks[i]);
      }
    }
  }
  *drew = !workloads.empty();
  if (workloads.empty()) return true;
  {
    g << "set terminal pngcairo size 1200,700 noenhanced font \",10\"\n"
      << "set output " << GnuplotQuote(png) << "\n"
      << "set title "
      << GnuplotQuote("ringdb_bench: ops/s against total memory (anonymous RSS + page cache of "
                      "the database files), budget " +
                      std::to_string(r.flags->cache_size >> 20) + " MiB, git " + r.git_commit)
      << "\n"
      << "set datafile separator \"\\t\"\n"
      << "set logscale y\nset xlabel \"total memory (MiB)\"\nset ylabel \"ops/s\"\n"
      << "set grid\nset key outside right\nset offsets graph 0.05, graph 0.2, graph 0.1, "
         "graph 0.1\nplot ";
    for (size_t i = 0; i < workloads.size(); i++) {
      if (i > 0) g << ", ";
      g << GnuplotQuote(dat) << " index " << i << " using 1:2 with points pt 7 ps 1.5 lc " << i + 1
        << " title " << GnuplotQuote(workloads[i]) << ", " << GnuplotQuote(dat) << " index " << i
        << " using 1:2:3 with labels offset 1,0.6 left textcolor lt " << i + 1 << " notitle";
    }
    g << "\n";
  }
  return bench_common::Gnuplot(dat, d.str(), png + ".gp", g.str(), r.flags->keep, error);
}

bool DrawMrc(const RunReport& r, const std::string& png, std::string* error) {
  std::vector<bench_common::MrcSeries> series;
  std::string budgets;
  for (const EngineRun& e : r.engines) {
    for (const MrcSweep& m : e.mrc) {
      bench_common::MrcSeries s;
      s.name = e.name;
      s.curve = bench_common::ParseMissRatioCurve(m.curve);
      for (const MrcPoint& p : m.points) {
        if (p.measured >= 0) s.measured.emplace_back(static_cast<double>(p.pool_bytes), p.measured);
      }
      series.push_back(std::move(s));
      if (budgets.empty()) budgets = std::to_string(m.budget >> 10) + " KiB";
    }
  }
  return bench_common::DrawMrcChart(
      png,
      "ringdb_bench --mrc=" + r.flags->mrc + ": LRU miss-ratio curve recorded at " + budgets +
          " (SHARDS) vs cold reruns at each size, num=" + std::to_string(r.flags->settings.num) +
          ", git " + r.git_commit,
      series, r.flags->keep, error);
}

}  // namespace

std::string ChartPath(const std::string& png, const std::string& suffix) {
  const size_t dot = png.rfind('.');
  const size_t slash = png.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return png + "-" + suffix;
  }
  return png.substr(0, dot) + "-" + suffix + png.substr(dot);
}

bool HasRatioChart(const RunReport& r) {
  bool ringdb = false, other = false;
  for (const EngineRun& e : r.engines) {
    ringdb |= e.kind == "ringdb";
    other |= e.kind == "rocksdb" || e.kind == "lmdb";
  }
  return ringdb && other;
}

bool HasMrcChart(const RunReport& r) {
  for (const EngineRun& e : r.engines) {
    if (!e.mrc.empty()) return true;
  }
  return false;
}

bool DrawChart(const RunReport& r, const std::string& png, std::vector<std::string>* drawn,
               std::string* error) {
  if (!DrawOpsChart(r, png, error)) return false;
  drawn->push_back(png);
  if (HasRatioChart(r)) {
    if (!DrawRatioChart(r, ChartPath(png, "ratio"), error)) return false;
    drawn->push_back(ChartPath(png, "ratio"));
  }
  bool drew = false;
  if (!DrawMemoryChart(r, ChartPath(png, "memory"), &drew, error)) return false;
  if (drew) drawn->push_back(ChartPath(png, "memory"));
  if (HasMrcChart(r)) {
    if (!DrawMrc(r, ChartPath(png, "mrc"), error)) return false;
    drawn->push_back(ChartPath(png, "mrc"));
  }
  return true;
}

}  // namespace ringdb_bench
