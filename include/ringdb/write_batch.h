// WriteBatch: a group of puts and deletes applied atomically by DB::Write.
//
// Thread-safety: not synchronized; one thread builds a batch at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ringdb/status.h"

namespace ringdb {

class WriteBatch {
 public:
  WriteBatch() = default;

  // Adds a put of `key` (copied) with `value` (copied). Limits are checked
  // by DB::Write (kMaxKeySize, kMaxValueSize in db.h), not here.
  void Put(std::string_view key, std::string_view value);
  // Adds a delete of `key` (copied); deleting a missing key is not an error.
  void Delete(std::string_view key);
  // Empties the batch.
  void Clear();

  // Number of operations in the batch.
  uint32_t Count() const { return count_; }
  // Approximate size of the encoded batch in bytes.
  size_t ApproximateSize() const { return rep_.size(); }

  // Visits the operations in order.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual Status Put(std::string_view key, std::string_view value) = 0;
    virtual Status Delete(std::string_view key) = 0;
  };
  // Calls `handler` for each operation in order; stops at and returns the
  // first non-OK Status the handler returns.
  Status Iterate(Handler* handler) const;

 private:
  friend class WriteBatchInternal;  // the encoding, for the log (not API)

  std::string rep_;  // sequence of: u8 tag, varint key len, key[, varint value len, value]
  uint32_t count_ = 0;
};

}  // namespace ringdb
