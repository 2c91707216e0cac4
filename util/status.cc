// Status formatting.
#include "ringdb/status.h"

namespace ringdb {

namespace {
const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kNotFound: return "NotFound";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kInvalidArgument: return "Invalid argument";
    case Status::Code::kIOError: return "IO error";
    case Status::Code::kNoSpace: return "No space";
    case Status::Code::kBusy: return "Busy";
    case Status::Code::kNotSupported: return "Not supported";
  }
  return "Unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = CodeName(code_);
  if (!msg_.empty()) {
    out += ": ";
    out += msg_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  if (!msg_.empty()) {
    msg += ": ";
    msg += msg_;
  }
  return Status(code_, msg);
}

}  // namespace ringdb
