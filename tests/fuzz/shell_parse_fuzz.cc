// Fuzz target: the ringdb shell's argument parser and quoting
// (tools/shell_quote.h). Never crashes, and the documented round trips hold:
//   FormatDumpLine(k, v) read back by ParseDumpLine gives k and v;
//   every argument ParseLine returns, printed with FormatBytes (plain or
//   with UTF-8 printed as is), parses back as one argument with the same
//   bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "shell_quote.h"

using ringdb::shell::Arg;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void RoundTripArg(const std::string& bytes) {
  for (bool utf8 : {false, true}) {
    std::string printed = ringdb::shell::FormatBytes(bytes, utf8);
    std::vector<Arg> back;
    std::string error;
    Check(ringdb::shell::ParseLine(printed, &back, &error));
    Check(back.size() == 1 && back[0].value == bytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<Arg> args;
  std::string error;
  if (ringdb::shell::ParseLine(in, &args, &error)) {
    for (const Arg& a : args) RoundTripArg(a.value);
  } else {
    Check(!error.empty());
  }
  std::string key, value;
  error.clear();
  if (!ringdb::shell::ParseDumpLine(in, &key, &value, &error)) Check(!error.empty());

  // Arbitrary bytes: split the input at its first 0xff into a key and a value.
  size_t cut = in.find('\xff');
  std::string k(in.substr(0, cut));
  std::string v(cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1));
  RoundTripArg(k);
  std::string line = ringdb::shell::FormatDumpLine(k, v);
  std::string k2, v2;
  Check(ringdb::shell::ParseDumpLine(line, &k2, &v2, &error));
  Check(k2 == k && v2 == v);
  Check(ringdb::shell::IsPlainPrintable(k) == (ringdb::shell::FormatBytes(k) == k));
  Check(ringdb::shell::IsPlainPrintable(k, true) == (ringdb::shell::FormatBytes(k, true) == k));
  line = ringdb::shell::FormatDumpLine(k, v, /*utf8=*/true);
  Check(ringdb::shell::ParseDumpLine(line, &k2, &v2, &error));
  Check(k2 == k && v2 == v);
  return 0;
}
