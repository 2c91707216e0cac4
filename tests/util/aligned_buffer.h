// AlignedBuffer: the tests' O_DIRECT-aligned buffer, `len` zeroed bytes
// allocated by the library's own io::NewAlignedBuffer (one implementation),
// with the size kept beside it. Thread-safety: a value type.
#pragma once

#include <cstddef>

#include "io/aligned_buffer.h"
#include "util/check.h"

namespace ringdb::test {

class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t len) : buf_(io::NewAlignedBuffer(len)), len_(len) {
    RINGDB_CHECK(buf_ != nullptr);
  }
  char* data() { return buf_.get(); }
  const char* data() const { return buf_.get(); }
  size_t size() const { return len_; }

 private:
  io::AlignedBuffer buf_;
  size_t len_;
};

}  // namespace ringdb::test
