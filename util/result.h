// Result<T>: a value or the Status that explains why there is none.
// Internal (not installed). Thread-safety: a value type.
#pragma once

#include <optional>
#include <utility>

#include "ringdb/status.h"

namespace ringdb {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::IOError("Result built from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // Require: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ringdb

// Returns early with the Status of `expr` when it is not OK.
#define RINGDB_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::ringdb::Status _ringdb_s = (expr);          \
    if (!_ringdb_s.ok()) return _ringdb_s;        \
  } while (0)
