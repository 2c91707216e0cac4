// Output formats of get, mget, scan and dump, and the record parsers of
// load (see FormatPair in shell_commands.h): text, tsv, csv and json.
#include <cstring>

#include "shell_commands.h"

namespace ringdb::shell {

namespace {

const std::string& FormatOf(const ShellContext* ctx) {
  auto it = ctx->opts.find("--format");
  return it != ctx->opts.end() ? it->second : ctx->format;
}

std::string TsvField(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool ParseTsvField(std::string_view in, std::string* out, std::string* error) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out->push_back(in[i]);
      continue;
    }
    const char e = i + 1 < in.size() ? in[i + 1] : '\0';
    switch (e) {
      case '\\': out->push_back('\\'); break;
      case 't': out->push_back('\t'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      default:
        *error = "bad escape in tsv field at column " + std::to_string(i + 1);
        return false;
    }
    ++i;
  }
  return true;
}

std::string CsvField(std::string_view bytes) {
  const bool quote = bytes.empty() || bytes.find_first_of(",\"\r\n") != std::string_view::npos ||
                     bytes.front() == ' ' || bytes.back() == ' ';
  if (!quote) return std::string(bytes);
  std::string out = "\"";
  for (char c : bytes) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Reads one csv field at *pos; leaves *pos after it.
bool ParseCsvField(std::string_view in, size_t* pos, std::string* out, std::string* error) {
  out->clear();
  size_t i = *pos;
  if (i < in.size() && in[i] == '"') {
    for (++i;; ++i) {
      if (i >= in.size()) {
        *error = "unterminated quote in csv record";
        return false;
      }
      if (in[i] == '"') {
        if (i + 1 < in.size() && in[i + 1] == '"') {
          out->push_back('"');
          ++i;
          continue;
        }
        *pos = i + 1;
        return true;
      }
      out->push_back(in[i]);
    }
  }
  const size_t comma = in.find(',', i);
  const size_t end = comma == std::string_view::npos ? in.size() : comma;
  if (in.substr(i, end - i).find('"') != std::string_view::npos) {
    *error = "quote inside an unquoted csv field";
    return false;
  }
  out->assign(in.substr(i, end - i));
  *pos = end;
  return true;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool Unbase64(std::string_view in, std::string* out) {
  out->clear();
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kBase64, c);
    if (p == nullptr || c == '\0') return false;
    v = (v << 6) | static_cast<uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return true;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

// "name":"..." or "name_base64":"..." when the bytes are not UTF-8.
std::string JsonMember(const char* name, std::string_view bytes) {
  if (IsValidUtf8(bytes)) return "\"" + std::string(name) + "\":" + JsonString(bytes);
  return "\"" + std::string(name) + "_base64\":\"" + Base64(bytes) + "\"";
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A small parser for the one shape json records have: an object whose
// members are strings (or null).
class JsonReader {
 public:
  explicit JsonReader(std::string_view in) : in_(in) {}

  bool Object(std::map<std::string, std::string>* members, std::string* error) {
    Skip();
    if (!Eat('{')) return Fail("expected {", error);
    Skip();
    if (Eat('}')) return End(error);
    while (true) {
      std::string name, value;
      Skip();
      if (!String(&name, error)) return false;
      Skip();
      if (!Eat(':')) return Fail("expected :", error);
      Skip();
      if (in_.substr(pos_, 4) == "null") {
        pos_ += 4;
      } else {
        if (!String(&value, error)) return false;
        (*members)[name] = value;
      }
      Skip();
      if (Eat('}')) return End(error);
      if (!Eat(',')) return Fail("expected , or }", error);
    }
  }

 private:
  void Skip() {
    while (pos_ < in_.size() && std::strchr(" \t\r\n", in_[pos_]) != nullptr) ++pos_;
  }
  bool Eat(char c) {
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Fail(const std::string& what, std::string* error) {
    *error = "json: " + what + " at column " + std::to_string(pos_ + 1);
    return false;
  }
  bool End(std::string* error) {
    Skip();
    return pos_ == in_.size() || Fail("text after the object", error);
  }
  bool Hex4(uint32_t* v) {
    if (pos_ + 4 > in_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = in_[pos_++];
      const char* digits = "0123456789abcdef";
      const char* p = std::strchr(digits, std::tolower(static_cast<unsigned char>(c)));
      if (p == nullptr || c == '\0') return false;
      *v = *v * 16 + static_cast<uint32_t>(p - digits);
    }
    return true;
  }
  bool String(std::string* out, std::string* error) {
    if (!Eat('"')) return Fail("expected a string", error);
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) break;
      const char e = in_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out->push_back(e); break;
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return Fail("bad \\u escape", error);
          if (cp >= 0xD800 && cp < 0xDC00 && in_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            uint32_t lo;
            if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return Fail("bad surrogate pair", error);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default: return Fail("bad escape", error);
      }
    }
    return Fail("unterminated string", error);
  }

  std::string_view in_;
  size_t pos_ = 0;
};

bool JsonField(const std::map<std::string, std::string>& members, const std::string& name,
               std::string* out, std::string* error) {
  auto it = members.find(name);
  if (it != members.end()) {
    *out = it->second;
    return true;
  }
  it = members.find(name + "_base64");
  if (it != members.end()) {
    if (Unbase64(it->second, out)) return true;
    *error = "json: bad base64 in " + name + "_base64";
    return false;
  }
  *error = "json: no \"" + name + "\" member";
  return false;
}

}  // namespace

bool OutputFormat(const ShellContext* ctx, std::string* format, std::string* error) {
  *format = FormatOf(ctx);
  if (*format == "text" || *format == "tsv" || *format == "csv" || *format == "json") return true;
  *error = "unknown format " + FormatBytes(*format) + " (text, tsv, csv or json)";
  return false;
}

std::string FormatPair(const ShellContext* ctx, std::string_view key, std::string_view value) {
  const std::string& f = FormatOf(ctx);
  if (f == "tsv") return TsvField(key) + "\t" + TsvField(value);
  if (f == "csv") return CsvField(key) + "," + CsvField(value);
  if (f == "json") return "{" + JsonMember("key", key) + "," + JsonMember("value", value) + "}";
  return FormatDumpLine(key, value, ctx->utf8);
}

std::string FormatValue(const ShellContext* ctx, std::string_view key, std::string_view value) {
  const std::string& f = FormatOf(ctx);
  if (f == "tsv") return TsvField(value);
  if (f == "csv") return CsvField(value);
  if (f == "json") return "{" + JsonMember("key", key) + "," + JsonMember("value", value) + "}";
  return FormatBytes(value, ctx->utf8);
}

std::string FormatMissing(const ShellContext* ctx, std::string_view key) {
  const std::string& f = FormatOf(ctx);
  if (f == "tsv") return "\\N";
  if (f == "csv") return "";
  if (f == "json") return "{" + JsonMember("key", key) + ",\"value\":null}";
  return "(nil)";
}

bool ParseRecord(const std::string& format, std::string_view record, std::string* key,
                 std::string* value, std::string* error) {
  if (format == "tsv") {
    const size_t tab = record.find('\t');
    if (tab == std::string_view::npos || record.find('\t', tab + 1) != std::string_view::npos) {
      *error = "expected KEY<TAB>VALUE (exactly one tab)";
      return false;
    }
    if (record.substr(tab + 1) == "\\N") {
      *error = "value \\N (a missing key) cannot be loaded";
      return false;
    }
    return ParseTsvField(record.substr(0, tab), key, error) &&
           ParseTsvField(record.substr(tab + 1), value, error);
  }
  if (format == "csv") {
    size_t pos = 0;
    if (!ParseCsvField(record, &pos, key, error)) return false;
    if (pos >= record.size() || record[pos] != ',') {
      *error = "expected KEY,VALUE";
      return false;
    }
    ++pos;
    if (pos == record.size()) {
      *error = "empty unquoted value (a missing key) cannot be loaded";
      return false;
    }
    if (!ParseCsvField(record, &pos, value, error)) return false;
    if (pos != record.size()) {
      *error = "text after the value at column " + std::to_string(pos + 1);
      return false;
    }
    return true;
  }
  if (format == "json") {
    std::map<std::string, std::string> members;
    JsonReader reader(record);
    return reader.Object(&members, error) && JsonField(members, "key", key, error) &&
           JsonField(members, "value", value, error);
  }
  return ParseDumpLine(record, key, value, error);
}

}  // namespace ringdb::shell
