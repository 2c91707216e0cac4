// Iterator: an ordered cursor over a database's keys (bytewise order).
//
// An iterator sees every write that completed before it was positioned;
// writes that race with it may or may not be seen, but each key it returns
// carries a value that was really stored for it. key() and value() stay
// valid until the next call that moves the iterator. Not thread-safe: use
// one iterator from one thread at a time. Delete it before closing the DB.
#pragma once

#include <string_view>

#include "ringdb/status.h"

namespace ringdb {

class Iterator {
 public:
  virtual ~Iterator() = default;

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first key >= target.
  virtual void Seek(std::string_view target) = 0;
  // Positions at the last key <= target.
  virtual void SeekForPrev(std::string_view target) = 0;
  // Require: Valid().
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Not OK when an I/O error or corruption stopped the iterator (it is then
  // not Valid()).
  virtual Status status() const = 0;
};

}  // namespace ringdb
