// See mrc_chart.h.
#include "mrc_chart.h"

#include <cmath>
#include <iterator>
#include <sstream>

#include "bench_util.h"

namespace bench_common {

MissRatioCurve ParseMissRatioCurve(const std::string& text) {
  MissRatioCurve curve;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    double bytes = 0, ratio = 0;
    if (fields >> bytes >> ratio) curve[bytes] = ratio;
  }
  return curve;
}

double PredictMissRatio(const MissRatioCurve& curve, double bytes) {
  if (curve.empty()) return NAN;
  auto hi = curve.lower_bound(bytes);
  if (hi == curve.end()) return std::prev(hi)->second;
  if (hi->first == bytes || hi == curve.begin()) return hi->second;
  auto lo = std::prev(hi);
  const double t = std::log(bytes / lo->first) / std::log(hi->first / lo->first);
  return lo->second + t * (hi->second - lo->second);
}

bool DrawMrcChart(const std::string& png, const std::string& title,
                  const std::vector<MrcSeries>& series, bool keep, std::string* error) {
  constexpr double kMiB = 1024.0 * 1024.0;
  const std::string dat = png + ".dat", gp = png + ".gp";
  // Two data blocks per series (gnuplot indexes): the curve, the points.
  std::ostringstream d, g;
  {
    for (const MrcSeries& s : series) {
      for (const auto& [bytes, ratio] : s.curve) d << bytes / kMiB << " " << ratio << "\n";
      d << "\n\n";
      for (const auto& [bytes, ratio] : s.measured) d << bytes / kMiB << " " << ratio << "\n";
      d << "\n\n";
    }
  }
  {
    g << "set terminal pngcairo size 1000,620 noenhanced font \",10\"\n"
      << "set output " << GnuplotQuote(png) << "\n"
      << "set title " << GnuplotQuote(title) << "\n"
      << "set logscale x 2\nset xlabel \"buffer pool (MiB)\"\nset ylabel \"miss ratio\"\n"
      << "set grid\nset yrange [0:*]\nset key top right\nplot ";
    for (size_t i = 0; i < series.size(); i++) {
      const std::string& n = series[i].name;
      if (i > 0) g << ", ";
      g << GnuplotQuote(dat) << " index " << 2 * i << " with linespoints lc " << i + 1
        << " pt 1 title " << GnuplotQuote(n + " predicted") << ", " << GnuplotQuote(dat)
        << " index " << 2 * i + 1 << " with points lc " << i + 1 << " pt 7 ps 1.5 title "
        << GnuplotQuote(n + " measured (cold rerun at that size)");
    }
    g << "\n";
  }
  return Gnuplot(dat, d.str(), gp, g.str(), keep, error);
}

}  // namespace bench_common
