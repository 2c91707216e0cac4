// Splitting a command's options from its arguments (SplitOptions) and the
// "did you mean" suggestion for a mistyped command name (see
// shell_commands.h).
#include <algorithm>
#include <cstdint>
#include <optional>

#include "parse_size.h"
#include "shell_commands.h"

namespace ringdb::shell {

namespace {

// Edit distance with transpositions (optimal string alignment), for "did
// you mean": "gte" is one edit from "get".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string SuggestCommand(std::string_view name) {
  const std::string lower = cli::AsciiLower(name);
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const CommandSpec& spec : Commands()) {
    const size_t d = EditDistance(lower, spec.name);
    if (d < best_distance) {
      best_distance = d;
      best = spec.name;
    }
  }
  // A typo: at most 2 edits, and fewer than half the word.
  if (best_distance == 0 || best_distance > 2 || best_distance * 2 >= lower.size()) return "";
  return best;
}

bool SplitOptions(const CommandSpec& spec, const std::vector<Arg>& args,
                  std::vector<Arg>* positional,
                  std::map<std::string, std::string>* opts, std::string* error) {
  // The declared options: name -> takes a value.
  std::map<std::string, bool, std::less<>> known;
  if (spec.options != nullptr) {
    std::string last;
    std::string_view rest = spec.options;
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      const std::string_view word = rest.substr(0, space);
      rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
      if (word.rfind("--", 0) == 0) {
        last = std::string(word);
        known[last] = false;
      } else if (!last.empty()) {
        known[last] = true;
      }
    }
  }
  positional->clear();
  opts->clear();
  positional->push_back(args[0]);
  bool options_done = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const Arg& arg = args[i];
    if (!options_done && !arg.quoted && arg.value == "--") {
      options_done = true;
      continue;
    }
    if (options_done || arg.quoted || arg.value.size() <= 2 || arg.value.rfind("--", 0) != 0) {
      positional->push_back(arg);
      continue;
    }
    std::string name = arg.value;
    std::optional<std::string> value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto it = known.find(name);
    if (it == known.end()) {
      *error = std::string(spec.name) + ": unknown option --" + FormatBytes(name.substr(2)) +
               (known.empty() ? " (it takes none" : " (it takes " + std::string(spec.options)) +
               "; quote a key that starts with --, or put -- before it)";
      return false;
    }
    if (it->second && !value) {
      if (i + 1 >= args.size()) {
        *error = std::string(spec.name) + ": " + name + " needs a value";
        return false;
      }
      value = args[++i].value;
    } else if (!it->second && value) {
      *error = std::string(spec.name) + ": " + name + " takes no value";
      return false;
    }
    (*opts)[name] = value.value_or("");
  }
  return true;
}

std::string DidYouMean(std::string_view name) {
  const std::string suggestion = SuggestCommand(name);
  if (!suggestion.empty()) return " (did you mean " + suggestion + "?)";
  return " (type help for the list)";
}

}  // namespace ringdb::shell
