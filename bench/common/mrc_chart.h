// Miss-ratio curves as ringdb reports them (the property ringdb.cache.mrc:
// one "BYTES<TAB>MISS_RATIO" line per size, sizes increasing) and the chart
// that proves them: the predicted curve against miss ratios measured by
// rerunning a workload at given pool sizes. Used by ringdb_bench --mrc and
// bench/micro/mrc_check.
//
// Thread-safety: plain functions on values; call from any thread.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bench_common {

// Pool bytes -> predicted miss ratio.
using MissRatioCurve = std::map<double, double>;

// Parses the text of ringdb.cache.mrc; lines that do not parse are skipped.
MissRatioCurve ParseMissRatioCurve(const std::string& text);

// The curve's miss ratio at `bytes`: linear in log(size) between its
// points, the end value beyond them; NaN for an empty curve.
double PredictMissRatio(const MissRatioCurve& curve, double bytes);

// One curve and the points measured against it, drawn in one colour.
struct MrcSeries {
  std::string name;                                // legend, e.g. "ringdb[io_uring,lru]"
  MissRatioCurve curve;                            // predicted
  std::vector<std::pair<double, double>> measured;  // (pool bytes, measured miss ratio)
};

// Draws every series into `png` (x: pool MiB, log scale; y: miss ratio):
// the curve as a line, the measured points as dots. Writes <png>.dat and
// <png>.gp beside it and removes them unless `keep`.
bool DrawMrcChart(const std::string& png, const std::string& title,
                  const std::vector<MrcSeries>& series, bool keep, std::string* error);

}  // namespace bench_common
