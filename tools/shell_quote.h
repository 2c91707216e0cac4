// Argument parsing and output quoting for the ringdb shell.
//
// Input: a command line is split into arguments at spaces and tabs. An
// argument that starts with a double quote runs to the matching quote; inside
// it \\ \" \n \t \r \0 and \xHH (two hex digits) are escapes, so any byte
// string can be written. Outside quotes every byte is literal (a backslash
// too), but a double quote may not appear inside an unquoted argument.
//
// Output: FormatBytes prints a byte string as is when it reads back as one
// argument: non-empty, printable ASCII, no space, tab, newline, backslash or
// double quote, not starting with "--" or "@", not "-" and not "(nil)" (the
// shell's word for a missing key); otherwise it prints it double-quoted with
// the escapes above. With utf8, valid UTF-8 sequences of printable
// characters (U+00A0 and up) count as printable and are printed as they
// are. Read back by ParseDumpLine or as one ParseLine argument the output
// always gives the same bytes.
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringdb::shell {

// One parsed argument. `quoted` tells a quoted "--limit" (a key) from the
// option --limit.
struct Arg {
  std::string value;
  bool quoted = false;
};

// Splits `line` into *args. Returns false and sets *error (e.g.
// "unterminated quote", "bad escape \q at column 9") on malformed input;
// *args is then unspecified.
bool ParseLine(std::string_view line, std::vector<Arg>* args,
               std::string* error);

// The printable form of `bytes` described above.
std::string FormatBytes(std::string_view bytes, bool utf8 = false);

// True when FormatBytes(bytes, utf8) would print `bytes` unchanged.
bool IsPlainPrintable(std::string_view bytes, bool utf8 = false);

// The length of the valid UTF-8 sequence of a printable character (U+00A0
// or above, no surrogate, not overlong) at the start of `bytes`, or 0.
size_t Utf8PrintableLength(std::string_view bytes);

// Reads one line of the dump format, KEY<TAB>VALUE, each field either quoted
// (as FormatBytes writes it) or bare (everything up to the tab / end of line,
// taken literally). Returns false and sets *error on malformed input.
bool ParseDumpLine(std::string_view line, std::string* key, std::string* value,
                   std::string* error);

// The dump form of one pair: FormatBytes(key) TAB FormatBytes(value).
std::string FormatDumpLine(std::string_view key, std::string_view value,
                           bool utf8 = false);

}  // namespace ringdb::shell
