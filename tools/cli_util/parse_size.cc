// The size parser shared by the shell and the bench. See parse_size.h.
#include "parse_size.h"

#include <string>

namespace ringdb::cli {

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ParseSize(std::string_view text, uint64_t* bytes) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const uint64_t digit = text[i] - '0';
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0) return false;
  if (i < text.size() && text[i] == ' ') ++i;
  const std::string unit = AsciiLower(text.substr(i));
  static constexpr struct {
    std::string_view name;
    uint64_t mult;
  } kUnits[] = {{"", 1},
                {"b", 1},
                {"k", 1ull << 10},
                {"kib", 1ull << 10},
                {"m", 1ull << 20},
                {"mib", 1ull << 20},
                {"g", 1ull << 30},
                {"gib", 1ull << 30},
                {"t", 1ull << 40},
                {"tib", 1ull << 40},
                {"kb", 1000},
                {"mb", 1000ull * 1000},
                {"gb", 1000ull * 1000 * 1000},
                {"tb", 1000ull * 1000 * 1000 * 1000}};
  for (const auto& u : kUnits) {
    if (unit != u.name) continue;
    if (n == 0 || n > UINT64_MAX / u.mult) return false;
    *bytes = n * u.mult;
    return true;
  }
  return false;
}

}  // namespace ringdb::cli
