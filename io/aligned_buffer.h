// AlignedBuffer: heap memory aligned for O_DIRECT (kDirectIoAlignment),
// zero-filled, freed on destruction. For the engine's one-off I/O buffers
// (superblock, page map); page frames and log buffers are mmap'd instead.
// Thread-safety: a value type.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>

#include "io/io_backend.h"

namespace ringdb::io {

struct AlignedFree {
  void operator()(char* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<char, AlignedFree>;

// `n` zeroed bytes (n rounded up to the alignment), or null when out of memory.
inline AlignedBuffer NewAlignedBuffer(size_t n) {
  n = (n + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
  void* p = std::aligned_alloc(kDirectIoAlignment, n);
  if (p != nullptr) std::memset(p, 0, n);
  return AlignedBuffer(static_cast<char*>(p));
}

}  // namespace ringdb::io
