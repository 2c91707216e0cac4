// Test helpers: numbers from a DB's properties, and keys, values and a fixed
// random order of them (for loads that leave the leaves as random inserts
// do).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ringdb/db.h"

namespace ringdb::test {

// A single-number property (GetProperty fails the test when it is missing).
inline uint64_t Prop(DB* db, const char* name) {
  std::string v;
  EXPECT_TRUE(db->GetProperty(name, &v)) << name;
  return std::strtoull(v.c_str(), nullptr, 10);
}

// A number from the "ringdb.btree.fill" property ("name=value ...").
inline double FillFigure(DB* db, const std::string& name) {
  std::string v;
  EXPECT_TRUE(db->GetProperty("ringdb.btree.fill", &v));
  size_t at = v.find(name + "=");
  EXPECT_NE(at, std::string::npos) << v;
  return at == std::string::npos ? 0 : std::strtod(v.c_str() + at + name.size() + 1, nullptr);
}

// Key i: "k" and i in 8 digits, so byte order is numeric order.
inline std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%08d", i);
  return buf;
}

// Values of 40 to 239 bytes, so leaves hold cells of many sizes.
inline std::string MixedValue(int i) {
  return std::string(40 + (i * 7919) % 200, static_cast<char>('a' + i % 26));
}

// The keys 0..n-1 in a fixed random order.
inline std::vector<int> Shuffled(int n, uint64_t seed) {
  std::vector<int> order(n);
  for (int i = 0; i < n; i++) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  return order;
}

}  // namespace ringdb::test
