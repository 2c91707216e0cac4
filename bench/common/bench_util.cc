// See bench_util.h.
#include "bench_util.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <utility>
#include <sstream>

namespace bench_common {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string GnuplotQuote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string RunCommand(const std::string& command, int* exit_code) {
  *exit_code = -1;
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  *exit_code = (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

bool Gnuplot(const std::string& dat, const std::string& data, const std::string& gp,
             const std::string& script, bool keep, std::string* error) {
  for (const auto& [path, text] : {std::pair{&dat, &data}, std::pair{&gp, &script}}) {
    std::ofstream f(*path, std::ios::trunc);
    f << *text;
    if (!f) {
      *error = "cannot write " + *path;
      return false;
    }
  }
  int rc = 0;
  const std::string out = RunCommand("gnuplot " + ShellQuote(gp) + " 2>&1", &rc);
  if (!keep) {
    std::remove(dat.c_str());
    std::remove(gp.c_str());
  }
  if (rc != 0) {
    *error = "gnuplot failed (exit " + std::to_string(rc) + "): " + out;
    return false;
  }
  return true;
}

}  // namespace bench_common
