// The chart: ops/s per workload, one bar per engine (a pair with one ringdb
// configuration), log scale, drawn by gnuplot from a data file and a script
// written next to the PNG (and removed after it unless --keep).
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

}  // namespace

bool DrawChart(const RunReport& r, const std::string& png, std::string* error) {
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
  int rc = 0;
  std::string out = RunCommand("gnuplot " + ShellQuote(gp) + " 2>&1", &rc);
  if (!r.flags->keep) {  // The PNG is the product; its sources stay only with --keep.
    std::remove(dat.c_str());
    std::remove(gp.c_str());
  }
  if (rc != 0) {
    *error = "gnuplot failed (exit " + std::to_string(rc) + "): " + out;
    return false;
  }
  return true;
}

}  // namespace ringdb_bench
