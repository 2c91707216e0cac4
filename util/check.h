// RINGDB_CHECK: aborts with a message on a programmer error. Stays in
// release builds. Never use it for I/O results or user input: those return
// a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RINGDB_CHECK(cond)                                                  \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                  \
      std::abort();                                                         \
    }                                                                       \
  } while (0)
