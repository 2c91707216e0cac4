// The journal shared by the crash-test writer (ringdb_stress) and its
// checker (crash_driver): how values are made, and the line format each
// writer thread appends to its own journal file.
//
// Every value names the operation that wrote it: it starts with
// "v<cycle>.<thread>.<seq>|<key>|" and is padded to its length with bytes
// derived from that header, so the checker can tell from a value alone
// which write produced it and recompute its hash.
//
// Journal lines (one write(2) per line, so SIGKILL leaves whole lines plus
// at most one cut final line, which the reader ignores):
//   I <seq> <sync 0|1> <n> then n times: " P <key> <len> <hash>" or " D <key>"
//   A <seq>
// An I line is written before the DB call, the A line after it returned OK.
// Keys are printable, without spaces ("t<thread>k<index>").
//
// Header-only; pure functions, safe from any thread.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace ringdb::stress {

inline std::string KeyName(int thread, uint32_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "t%02dk%06u", thread, index);
  return buf;
}

// Parses "t<thread>k<index>"; false for anything else.
inline bool ParseKey(std::string_view key, int* thread, uint32_t* index) {
  if (key.size() != 10 || key[0] != 't' || key[3] != 'k') return false;
  for (size_t i : {1, 2, 4, 5, 6, 7, 8, 9}) {
    if (key[i] < '0' || key[i] > '9') return false;
  }
  *thread = (key[1] - '0') * 10 + (key[2] - '0');
  *index = static_cast<uint32_t>(std::strtoul(std::string(key.substr(4)).c_str(), nullptr, 10));
  return true;
}

inline uint64_t Hash(std::string_view v) { return XXH3_64bits(v.data(), v.size()); }

// The value write (cycle, thread, seq) stores for `key`, `len` bytes long
// (at least its header).
inline std::string MakeValue(uint64_t cycle, int thread, uint64_t seq, std::string_view key,
                             size_t len) {
  std::string v = "v" + std::to_string(cycle) + "." + std::to_string(thread) + "." +
                  std::to_string(seq) + "|" + std::string(key) + "|";
  uint64_t x = Hash(v) | 1;
  v.reserve(len);
  while (v.size() < len) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v.push_back(static_cast<char>('a' + x % 26));
  }
  return v;
}

struct ValueId {
  uint64_t cycle = 0;
  int thread = 0;
  uint64_t seq = 0;
};

// Reads the header of a value; false when it is not one MakeValue made for
// `key`.
inline bool ParseValue(std::string_view value, std::string_view key, ValueId* id) {
  if (value.empty() || value[0] != 'v') return false;
  size_t bar = value.find('|');
  if (bar == std::string_view::npos) return false;
  if (value.substr(bar + 1, key.size()) != key || value.size() < bar + key.size() + 2 ||
      value[bar + 1 + key.size()] != '|') {
    return false;
  }
  unsigned long long c, s;
  int t;
  std::string head(value.substr(1, bar - 1));
  if (std::sscanf(head.c_str(), "%llu.%d.%llu", &c, &t, &s) != 3) return false;
  id->cycle = c;
  id->thread = t;
  id->seq = s;
  return true;
}

struct JournalOp {
  bool del = false;
  std::string key;
  uint64_t len = 0;
  uint64_t hash = 0;
};

struct JournalEntry {
  uint64_t seq = 0;
  bool sync = false;
  bool acked = false;
  std::vector<JournalOp> ops;
};

inline std::string IntentLine(uint64_t seq, bool sync, const std::vector<JournalOp>& ops) {
  std::string line = "I " + std::to_string(seq) + " " + (sync ? "1" : "0") + " " +
                     std::to_string(ops.size());
  for (const JournalOp& op : ops) {
    if (op.del) {
      line += " D " + op.key;
    } else {
      line += " P " + op.key + " " + std::to_string(op.len) + " " + std::to_string(op.hash);
    }
  }
  return line + "\n";
}

inline std::string AckLine(uint64_t seq) { return "A " + std::to_string(seq) + "\n"; }

// Reads a journal: entries in seq order (seq 1, 2, ...). A cut last line is
// ignored. Returns false and sets *error on a malformed journal.
inline bool ReadJournal(const std::string& path, std::vector<JournalEntry>* entries,
                        std::string* error) {
  entries->clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string::npos) break;  // cut by the kill
    std::istringstream line(all.substr(pos, nl - pos));
    pos = nl + 1;
    char tag = 0;
    uint64_t seq = 0;
    line >> tag >> seq;
    if (tag == 'A') {
      if (seq == 0 || seq > entries->size()) {
        *error = path + ": ack of unknown seq " + std::to_string(seq);
        return false;
      }
      (*entries)[seq - 1].acked = true;
      continue;
    }
    if (tag != 'I' || seq != entries->size() + 1) {
      *error = path + ": bad line near seq " + std::to_string(seq);
      return false;
    }
    JournalEntry e;
    e.seq = seq;
    int sync = 0;
    size_t n = 0;
    line >> sync >> n;
    e.sync = sync != 0;
    for (size_t i = 0; i < n; i++) {
      JournalOp op;
      char kind = 0;
      line >> kind >> op.key;
      op.del = kind == 'D';
      if (!op.del) line >> op.len >> op.hash;
      e.ops.push_back(std::move(op));
    }
    if (!line) {
      *error = path + ": malformed intent line for seq " + std::to_string(seq);
      return false;
    }
    entries->push_back(std::move(e));
  }
  return true;
}

inline std::string JournalPath(const std::string& dir, int thread) {
  return dir + "/journal-" + std::to_string(thread) + ".txt";
}

}  // namespace ringdb::stress
