// Argument parsing and output quoting for the ringdb shell.
//
// Input: a command line is split into arguments at spaces and tabs. An
// argument that starts with a double quote runs to the matching quote; inside
// it \\ \" \n \t \r \0 and \xHH (two hex digits) are escapes, so any byte
// string can be written. Outside quotes every byte is literal (a backslash
// too), but a double quote may not appear inside an unquoted argument.
//
// Output: FormatBytes prints a byte string as is when it is non-empty,
// printable ASCII, and has no tab, newline, backslash or double quote and no
// leading or trailing space; otherwise it prints it double-quoted with the
// escapes above (the rule the issue fixes). Read back by ParseDumpLine the
// output always gives the same bytes; read back as one ParseLine argument
// it does too, except for a plain string with an inner space ("a b"), which
// ParseLine splits in two: type such a key quoted.
//
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
std::string FormatBytes(std::string_view bytes);

// True when FormatBytes(bytes) would print `bytes` unchanged.
bool IsPlainPrintable(std::string_view bytes);

// Reads one line of the dump format, KEY<TAB>VALUE, each field either quoted
// (as FormatBytes writes it) or bare (everything up to the tab / end of line,
// taken literally). Returns false and sets *error on malformed input.
bool ParseDumpLine(std::string_view line, std::string* key, std::string* value,
                   std::string* error);

// The dump form of one pair: FormatBytes(key) TAB FormatBytes(value).
std::string FormatDumpLine(std::string_view key, std::string_view value);

}  // namespace ringdb::shell
