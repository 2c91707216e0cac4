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

  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
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
  Status Iterate(Handler* handler) const;

  // The encoded form (used by the log). Decode checks bounds and returns
  // Corruption on malformed input.
  const std::string& Rep() const { return rep_; }
  static Status Decode(std::string_view rep, WriteBatch* batch);

 private:
  std::string rep_;  // sequence of: u8 tag, varint key len, key[, varint value len, value]
  uint32_t count_ = 0;
};

}  // namespace ringdb
