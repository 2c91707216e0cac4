// Iterator: an ordered cursor over a database's keys (bytewise order).
//
// An iterator reads one snapshot of the database (DB::NewIterator): every
// batch applied before it was created (or before its ReadOptions::snapshot
// was taken), whole, and no write made afterwards. key() and value() stay
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
