// RINGDB_ASSERT_OK / RINGDB_EXPECT_OK: a Status is OK, else the test fails
// printing it. For gtest test bodies.
#pragma once

#include <gtest/gtest.h>

#include "ringdb/status.h"

#define RINGDB_ASSERT_OK(expr)                           \
  do {                                                   \
    const ::ringdb::Status _ringdb_s = (expr);           \
    ASSERT_TRUE(_ringdb_s.ok()) << _ringdb_s.ToString(); \
  } while (0)
#define RINGDB_EXPECT_OK(expr)                           \
  do {                                                   \
    const ::ringdb::Status _ringdb_s = (expr);           \
    EXPECT_TRUE(_ringdb_s.ok()) << _ringdb_s.ToString(); \
  } while (0)
