// Small helpers every benchmark program shares (ringdb_bench and the
// micro-benchmarks): comma-separated list flags and drawing with gnuplot.
// No ringdb headers: usable by programs restricted to the public API.
//
// Thread-safety: plain functions; call from any thread (Gnuplot and
// RunCommand start a process).
#pragma once

#include <string>
#include <vector>

namespace bench_common {

// Splits "a,b,,c" into {"a", "b", "c"} (empty entries dropped).
std::vector<std::string> SplitList(const std::string& s);

// Runs `command` through /bin/sh and returns its stdout; *exit_code gets its
// exit status (-1 when it could not run or did not exit normally).
std::string RunCommand(const std::string& command, int* exit_code);

// Quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);

// `s` as a double-quoted gnuplot string.
std::string GnuplotQuote(const std::string& s);

// Writes `data` to `dat` and `script` to `gp`, runs `gnuplot gp`, then
// removes both files unless `keep`. False with *error set when a file could
// not be written or gnuplot failed (its output included).
bool Gnuplot(const std::string& dat, const std::string& data, const std::string& gp,
             const std::string& script, bool keep, std::string* error);

}  // namespace bench_common
