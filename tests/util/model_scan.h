// ExpectScanMatches: an iterator's full forward and backward scans compared
// with a model (std::map), key by key: the one scan check the DB tests
// share.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "ringdb/iterator.h"

namespace ringdb::test {

// Forward from SeekToFirst, then backward from SeekToLast: the same keys
// and values as `model`, and an OK status. Fails the test (non-fatally
// for the caller: check HasFatalFailure) at the first difference.
inline void ExpectScanMatches(Iterator* it, const std::map<std::string, std::string>& model) {
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end()) << "extra key " << it->key();
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(m, model.end()) << "missing key " << m->first;
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
    ASSERT_NE(r, model.rend()) << "extra key " << it->key();
    ASSERT_EQ(it->key(), r->first);
    ASSERT_EQ(it->value(), r->second);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(r, model.rend()) << "missing key " << r->first;
}

}  // namespace ringdb::test
