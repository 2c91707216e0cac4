// Argument parsing and output quoting (see shell_quote.h).
#include "shell_quote.h"

#include <cstdint>
#include <cstdio>

namespace ringdb::shell {

namespace {

bool IsSeparator(char c) { return c == ' ' || c == '\t'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Column(size_t pos) { return " at column " + std::to_string(pos + 1); }

// Parses a quoted string starting at line[*pos] == '"'. On success appends
// the bytes to *out and leaves *pos just past the closing quote.
bool ParseQuoted(std::string_view line, size_t* pos, std::string* out,
                 std::string* error) {
  const size_t open = *pos;
  size_t i = open + 1;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= line.size()) break;  // Backslash at the very end.
    const char e = line[i + 1];
    switch (e) {
      case '\\': out->push_back('\\'); break;
      case '"': out->push_back('"'); break;
      case 'n': out->push_back('\n'); break;
      case 't': out->push_back('\t'); break;
      case 'r': out->push_back('\r'); break;
      case '0': out->push_back('\0'); break;
      case 'x': {
        const int hi = i + 2 < line.size() ? HexValue(line[i + 2]) : -1;
        const int lo = i + 3 < line.size() ? HexValue(line[i + 3]) : -1;
        if (hi < 0 || lo < 0) {
          *error = "bad escape \\x (needs two hex digits)" + Column(i);
          return false;
        }
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 4;
        continue;
      }
      default: {
        std::string shown = FormatBytes(std::string_view(&e, 1));
        if (shown.size() > 1 && shown.front() == '"') {
          shown = shown.substr(1, shown.size() - 2);
        }
        *error = "bad escape \\" + shown + Column(i);
        return false;
      }
    }
    i += 2;
  }
  *error = "unterminated quote" + Column(open);
  return false;
}

void AppendEscaped(char c, std::string* out) {
  switch (c) {
    case '\\': out->append("\\\\"); return;
    case '"': out->append("\\\""); return;
    case '\n': out->append("\\n"); return;
    case '\t': out->append("\\t"); return;
    case '\r': out->append("\\r"); return;
    case '\0': out->append("\\0"); return;
    default: break;
  }
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) {
    out->push_back(c);
    return;
  }
  static const char kHex[] = "0123456789abcdef";
  out->append("\\x");
  out->push_back(kHex[u >> 4]);
  out->push_back(kHex[u & 0xf]);
}

// Reads one dump field starting at *pos: quoted, or bare up to a tab / the
// end. Leaves *pos at the byte after the field.
bool ParseDumpField(std::string_view line, size_t* pos, std::string* out,
                    std::string* error) {
  out->clear();
  if (*pos < line.size() && line[*pos] == '"') {
    return ParseQuoted(line, pos, out, error);
  }
  const size_t tab = line.find('\t', *pos);
  const size_t end = tab == std::string_view::npos ? line.size() : tab;
  out->assign(line.substr(*pos, end - *pos));
  *pos = end;
  return true;
}

}  // namespace

bool ParseLine(std::string_view line, std::vector<Arg>* args,
               std::string* error) {
  args->clear();
  size_t i = 0;
  while (true) {
    while (i < line.size() && IsSeparator(line[i])) ++i;
    if (i >= line.size()) return true;
    Arg arg;
    if (line[i] == '"') {
      arg.quoted = true;
      if (!ParseQuoted(line, &i, &arg.value, error)) return false;
      if (i < line.size() && !IsSeparator(line[i])) {
        *error = "expected a space after the closing quote" + Column(i);
        return false;
      }
    } else {
      while (i < line.size() && !IsSeparator(line[i])) {
        if (line[i] == '"') {
          *error = "unexpected quote inside an unquoted argument" + Column(i) +
                   " (quote the whole argument)";
          return false;
        }
        arg.value.push_back(line[i]);
        ++i;
      }
    }
    args->push_back(std::move(arg));
  }
}

size_t Utf8PrintableLength(std::string_view bytes) {
  if (bytes.empty()) return 0;
  const unsigned char b0 = static_cast<unsigned char>(bytes[0]);
  size_t len;
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (bytes.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const unsigned char b = static_cast<unsigned char>(bytes[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  if (cp < 0xA0) return 0;  // C1 controls.
  if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) return 0;  // Line breaks, BOM.
  return len;
}

bool IsPlainPrintable(std::string_view bytes, bool utf8) {
  if (bytes.empty() || bytes == "-" || bytes == "(nil)" || bytes.front() == '@' ||
      bytes.rfind("--", 0) == 0) {
    return false;
  }
  for (size_t i = 0; i < bytes.size();) {
    const unsigned char u = static_cast<unsigned char>(bytes[i]);
    if (u >= 0x80 && utf8) {
      const size_t n = Utf8PrintableLength(bytes.substr(i));
      if (n == 0) return false;
      i += n;
      continue;
    }
    if (u <= 0x20 || u >= 0x7f || u == '\\' || u == '"') return false;
    ++i;
  }
  return true;
}

std::string FormatBytes(std::string_view bytes, bool utf8) {
  if (IsPlainPrintable(bytes, utf8)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = utf8 ? Utf8PrintableLength(bytes.substr(i)) : 0;
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      AppendEscaped(bytes[i++], &out);
    }
  }
  out.push_back('"');
  return out;
}

bool ParseDumpLine(std::string_view line, std::string* key, std::string* value,
                   std::string* error) {
  size_t pos = 0;
  if (!ParseDumpField(line, &pos, key, error)) return false;
  if (pos >= line.size() || line[pos] != '\t') {
    *error = "expected KEY<TAB>VALUE" +
             (pos < line.size() ? " (text after the key" + Column(pos) + ")"
                                : std::string(" (no tab)"));
    return false;
  }
  ++pos;
  if (!ParseDumpField(line, &pos, value, error)) return false;
  if (pos != line.size()) {
    *error = "unexpected text after the value" + Column(pos);
    return false;
  }
  return true;
}

std::string FormatDumpLine(std::string_view key, std::string_view value, bool utf8) {
  std::string out = FormatBytes(key, utf8);
  out.push_back('\t');
  out += FormatBytes(value, utf8);
  return out;
}

}  // namespace ringdb::shell
