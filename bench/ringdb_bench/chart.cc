// The charts: ops/s per workload, one bar per engine (a pair with one ringdb
// configuration), log scale; and beside it (RatioChartPath) ringdb's ops/s
// divided by RocksDB's (and LMDB's) per workload, log scale around 1. Drawn
// by gnuplot from data files and scripts written next to the PNGs (and
// removed after them unless --keep).
#include <cstdio>
#include <fstream>

#include "report.h"

namespace ringdb_bench {
namespace {

std::string GnuplotQuote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

bool RunGnuplot(const RunReport& r, const std::string& dat, const std::string& gp,
                std::string* error);

bool DrawOpsChart(const RunReport& r, const std::string& png, std::string* error) {
  const std::string dat = png + ".dat";
  const std::string gp = png + ".gp";
  {
    std::ofstream d(dat, std::ios::trunc);
    d << "workload";
    for (const EngineRun& e : r.engines) d << "\t" << GnuplotQuote(e.name);
    d << "\n";
    for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
      d << GnuplotQuote(r.flags->benchmarks[i]);
      for (const EngineRun& e : r.engines) {
        // One phase per --benchmarks entry, in order.
        const double v =
            i < e.phases.size() && e.phases[i].ran ? e.phases[i].OpsPerSecond() : 0;
        // A missing bar on a log axis: "?" is gnuplot's missing value.
        if (v > 0) {
          d << "\t" << v;
        } else {
          d << "\t?";
        }
      }
      d << "\n";
    }
    if (!d) {
      *error = "cannot write " + dat;
      return false;
    }
  }
  {
    std::ofstream g(gp, std::ios::trunc);
    g << "set terminal pngcairo size 1600,700 noenhanced font \",10\"\n"
      << "set output " << GnuplotQuote(png) << "\n"
      << "set title " << GnuplotQuote("ringdb_bench: ops/s per workload (log scale), num=" +
                                      std::to_string(r.flags->settings.num) + ", git " +
                                      r.git_commit) << "\n"
      << "set style data histograms\n"
      << "set style histogram clustered gap 1\n"
      << "set style fill solid 0.8 border -1\n"
      << "set boxwidth 0.9\n"
      << "set logscale y\n"
      << "set ylabel \"ops/s\"\n"
      << "set grid ytics\n"
      << "set xtics rotate by -40 scale 0\n"
      << "set key top right\n"
      << "set datafile missing \"?\"\n"
      << "set datafile separator \"\\t\"\n"
      << "plot ";
    for (size_t i = 0; i < r.engines.size(); i++) {
      if (i > 0) g << ", ";
      g << GnuplotQuote(dat) << " using " << (i + 2) << (i == 0 ? ":xtic(1)" : "")
        << " title columnheader(" << (i + 2) << ")";
    }
    g << "\n";
    if (!g) {
      *error = "cannot write " + gp;
      return false;
    }
  }
  return RunGnuplot(r, dat, gp, error);  // the PNG is the product; its sources go
}

// Runs gnuplot on `gp` and removes `dat` and `gp` unless --keep.
bool RunGnuplot(const RunReport& r, const std::string& dat, const std::string& gp,
                std::string* error) {
  int rc = 0;
  std::string out = RunCommand("gnuplot " + ShellQuote(gp) + " 2>&1", &rc);
  if (!r.flags->keep) {
    std::remove(dat.c_str());
    std::remove(gp.c_str());
  }
  if (rc != 0) {
    *error = "gnuplot failed (exit " + std::to_string(rc) + "): " + out;
    return false;
  }
  return true;
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
  if (pairs.empty()) return true;  // nothing to divide by (DrawChart says so)
  const std::string dat = png + ".dat";
  const std::string gp = png + ".gp";
  {
    std::ofstream d(dat, std::ios::trunc);
    d << "workload";
    for (const auto& [e, b] : pairs) d << "\t" << GnuplotQuote(e->name + " / " + b->name);
    d << "\n";
    for (size_t i = 0; i < r.flags->benchmarks.size(); i++) {
      d << GnuplotQuote(r.flags->benchmarks[i]);
      for (const auto& [e, b] : pairs) {
        const bool ran = i < e->phases.size() && e->phases[i].ran && i < b->phases.size() &&
                         b->phases[i].ran && b->phases[i].OpsPerSecond() > 0 &&
                         e->phases[i].OpsPerSecond() > 0;
        if (ran) {
          d << "\t" << e->phases[i].OpsPerSecond() / b->phases[i].OpsPerSecond();
        } else {
          d << "\t?";
        }
      }
      d << "\n";
    }
    if (!d) {
      *error = "cannot write " + dat;
      return false;
    }
  }
  {
    std::ofstream g(gp, std::ios::trunc);
    g << "set terminal pngcairo size 1600,700 noenhanced font \",10\"\n"
      << "set output " << GnuplotQuote(png) << "\n"
      << "set title " << GnuplotQuote("ringdb_bench: ringdb ops/s / other engine's ops/s (log "
                                      "scale; > 1: ringdb faster), num=" +
                                      std::to_string(r.flags->settings.num) + ", warm-up " +
                                      r.flags->warmup + ", git " + r.git_commit) << "\n"
      << "set style data histograms\n"
      << "set style histogram clustered gap 1\n"
      << "set style fill solid 0.8 border -1\n"
      << "set boxwidth 0.9\n"
      << "set logscale y 2\n"
      << "set ylabel \"ratio\"\n"
      << "set grid ytics\n"
      << "set xtics rotate by -40 scale 0\n"
      << "set key top right\n"
      << "set datafile missing \"?\"\n"
      << "set datafile separator \"\\t\"\n"
      << "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb \"black\"\n"
      << "plot ";
    for (size_t i = 0; i < pairs.size(); i++) {
      if (i > 0) g << ", ";
      g << GnuplotQuote(dat) << " using " << (i + 2) << (i == 0 ? ":xtic(1)" : "")
        << " title columnheader(" << (i + 2) << ")";
    }
    g << "\n";
    if (!g) {
      *error = "cannot write " + gp;
      return false;
    }
  }
  return RunGnuplot(r, dat, gp, error);
}

}  // namespace

std::string RatioChartPath(const std::string& png) {
  const size_t dot = png.rfind('.');
  const size_t slash = png.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return png + "-ratio";
  }
  return png.substr(0, dot) + "-ratio" + png.substr(dot);
}

bool HasRatioChart(const RunReport& r) {
  bool ringdb = false, other = false;
  for (const EngineRun& e : r.engines) {
    ringdb |= e.kind == "ringdb";
    other |= e.kind == "rocksdb" || e.kind == "lmdb";
  }
  return ringdb && other;
}

bool DrawChart(const RunReport& r, const std::string& png, std::string* error) {
  if (!DrawOpsChart(r, png, error)) return false;
  return !HasRatioChart(r) || DrawRatioChart(r, RatioChartPath(png), error);
}

}  // namespace ringdb_bench
