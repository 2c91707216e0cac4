// KeyStates: what a concurrent reader may see for each key while one
// writer changes them, for tests that race readers against a writer and
// check every read against the writer's model.
//
// Each key's state counts the writes to it: odd means present with the
// value of that generation, even means absent. The writer marks a key busy
// before writing it and publishes the new state after, so a read that
// finds the same state before and after saw no write to that key in
// between, and must see exactly that state. FirstError keeps the first
// failure and tells the threads to stop.
//
// Thread-safety: one writer per key; any number of readers.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ringdb/status.h"

namespace ringdb::test {

// The keys and values the DB tests that use KeyStates write: "key000042",
// and a value naming its key and generation, 80 bytes of padding.
inline std::string NumberedKey(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%06d", i);
  return buf;
}
inline std::string NumberedValue(int i, int gen = 0) {
  return "value-" + std::to_string(i) + "-" + std::to_string(gen) + std::string(80, 'v');
}

class KeyStates {
 public:
  static constexpr uint32_t kBusy = 1u << 31;

  // `name(k)` names key k in messages; `value(k, gen)` is the value of
  // generation gen. Every key starts at `initial`.
  KeyStates(int n, uint32_t initial, std::function<std::string(int)> name,
            std::function<std::string(int, uint32_t)> value)
      : states_(n), name_(std::move(name)), value_(std::move(value)) {
    for (auto& s : states_) s.store(initial);
  }

  uint32_t Load(int k) const { return states_[k].load(); }
  // The writer: the state a write to k will publish, after marking k busy.
  uint32_t BeginWrite(int k) {
    const uint32_t next = states_[k].load() + 1;
    states_[k].store(next - 1 + kBusy);
    return next;
  }
  void Publish(int k, uint32_t state) { states_[k].store(state); }
  // Whether state `st` of k means present.
  static bool Present(uint32_t st) { return st % 2 == 1; }

  // "" when a read of k that returned (s, v) is allowed in state `st`.
  std::string Check(int k, uint32_t st, const Status& s, std::string_view v) const {
    if (st & kBusy) return "";  // either state may be seen
    if (!Present(st)) return s.IsNotFound() ? "" : name_(k) + " should be absent: " + s.ToString();
    if (!s.ok()) return name_(k) + " should be present: " + s.ToString();
    return v == value_(k, st) ? "" : name_(k) + " has an old value";
  }

 private:
  std::vector<std::atomic<uint32_t>> states_;
  std::function<std::string(int)> name_;
  std::function<std::string(int, uint32_t)> value_;
};

class FirstError {
 public:
  void Fail(const std::string& e) {
    std::lock_guard<std::mutex> l(mu_);
    if (error_.empty()) error_ = e;
    stop_ = true;
  }
  void Stop() { stop_ = true; }
  bool stopped() const { return stop_.load(); }
  std::string error() const {
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }

 private:
  mutable std::mutex mu_;
  std::string error_;
  std::atomic<bool> stop_{false};
};

}  // namespace ringdb::test
