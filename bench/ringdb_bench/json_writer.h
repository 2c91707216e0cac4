// JsonWriter: a minimal streaming JSON writer (objects, arrays, strings,
// numbers, booleans, null), enough for the bench's report. Commas are
// placed automatically; non-finite numbers become null.
//
// Thread-safety: none; one writer per thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace ringdb_bench {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { Sep(); out_ += '{'; stack_.push_back(true); return *this; }
  JsonWriter& EndObject() { Close('}'); return *this; }
  JsonWriter& BeginArray() { Sep(); out_ += '['; stack_.push_back(true); return *this; }
  JsonWriter& EndArray() { Close(']'); return *this; }

  // Inside an object: the next value's key.
  JsonWriter& Key(std::string_view k) {
    Sep();
    String(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& Str(std::string_view s) { Sep(); String(s); return *this; }
  JsonWriter& Num(double v) {
    Sep();
    if (!std::isfinite(v)) {
      out_ += "null";
    } else {
      // Integers stay exact; other measurements keep 6 significant digits.
      char buf[64];
      if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof(buf), "%.0f", v);
      } else {
        std::snprintf(buf, sizeof(buf), "%.6g", v);
      }
      out_ += buf;
    }
    return *this;
  }
  JsonWriter& UInt(uint64_t v) { Sep(); out_ += std::to_string(v); return *this; }
  JsonWriter& Bool(bool b) { Sep(); out_ += b ? "true" : "false"; return *this; }
  JsonWriter& Null() { Sep(); out_ += "null"; return *this; }

  const std::string& str() const { return out_; }

 private:
  void Sep() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!stack_.empty()) {
      if (!stack_.back()) out_ += ',';
      stack_.back() = false;
    }
  }
  void Close(char c) {
    stack_.pop_back();
    out_ += c;
  }
  void String(std::string_view s) {
    out_ += '"';
    for (char ch : s) {
      unsigned char c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += ch;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> stack_;  // per open container: no element yet
  bool after_key_ = false;
};

}  // namespace ringdb_bench
