// Result<T>: a value or the Status that explains why there is none.
// Internal (not installed). Thread-safety: a value type.
//
// Contract: a Result is built from a value or from a non-OK Status; building
// it from an OK Status is a programmer error and aborts (there is no value
// to give). value(), operator-> and operator* require ok() and abort
// otherwise (they never hand out an empty value).
#pragma once

#include <optional>
#include <utility>

#include "ringdb/status.h"
#include "util/check.h"

namespace ringdb {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    RINGDB_CHECK(!status_.ok());  // an OK Result carries a value
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // Require: ok() (aborts otherwise).
  T& value() & { return Checked(); }
  const T& value() const& { return Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &Checked(); }
  T& operator*() { return Checked(); }
  const T& operator*() const { return Checked(); }

 private:
  T& Checked() {
    RINGDB_CHECK(value_.has_value());
    return *value_;
  }
  const T& Checked() const {
    RINGDB_CHECK(value_.has_value());
    return *value_;
  }

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
