// WriteBatch encoding: a sequence of records
//   u8 tag (1 = put, 2 = delete) | varint32 key_len | key
//   [ | varint32 value_len | value ]   (puts only)
// The log stores this encoding verbatim, so it is a frozen format.
#include "ringdb/write_batch.h"

#include <cstring>

#include "engine/write_batch_internal.h"
#include "util/result.h"

namespace ringdb {

namespace {
constexpr uint8_t kTagPut = 1;
constexpr uint8_t kTagDelete = 2;
constexpr size_t kMaxVarint64 = 10;  // bytes of the longest varint

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* out) {
  uint64_t len;
  if (!GetVarint(in, &len) || len > in->size()) return false;
  *out = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

// Walks `rep`, calling handler (when not null); counts operations.
Status Walk(std::string_view rep, WriteBatch::Handler* handler, uint32_t* count) {
  uint32_t n = 0;
  while (!rep.empty()) {
    uint8_t tag = static_cast<uint8_t>(rep[0]);
    rep.remove_prefix(1);
    std::string_view key, value;
    if (!GetLengthPrefixed(&rep, &key)) {
      return Status::Corruption("write batch: bad key length in record " + std::to_string(n));
    }
    if (tag == kTagPut) {
      if (!GetLengthPrefixed(&rep, &value)) {
        return Status::Corruption("write batch: bad value length in record " + std::to_string(n));
      }
      if (handler) RINGDB_RETURN_IF_ERROR(handler->Put(key, value));
    } else if (tag == kTagDelete) {
      if (handler) RINGDB_RETURN_IF_ERROR(handler->Delete(key));
    } else {
      return Status::Corruption("write batch: unknown tag " + std::to_string(tag) +
                                " in record " + std::to_string(n));
    }
    ++n;
  }
  *count = n;
  return Status::OK();
}
}  // namespace

void WriteBatch::Put(std::string_view key, std::string_view value) {
  // A batch's first record: one allocation of its size (DB::Put's whole
  // batch) instead of growing through it; later ones grow geometrically.
  if (rep_.empty()) rep_.reserve(1 + 2 * kMaxVarint64 + key.size() + value.size());
  rep_.push_back(static_cast<char>(kTagPut));
  PutVarint(&rep_, key.size());
  rep_.append(key);
  PutVarint(&rep_, value.size());
  rep_.append(value);
  ++count_;
}

void WriteBatch::Delete(std::string_view key) {
  rep_.push_back(static_cast<char>(kTagDelete));
  PutVarint(&rep_, key.size());
  rep_.append(key);
  ++count_;
}

void WriteBatch::Clear() {
  rep_.clear();
  count_ = 0;
}

Status WriteBatch::Iterate(Handler* handler) const {
  uint32_t n = 0;
  return Walk(rep_, handler, &n);
}

bool WriteBatchInternal::SingleDelete(const WriteBatch& batch, std::string_view* key) {
  std::string_view rep = batch.rep_;
  if (batch.count_ != 1 || rep.empty() || static_cast<uint8_t>(rep[0]) != kTagDelete) return false;
  rep.remove_prefix(1);
  return GetLengthPrefixed(&rep, key);
}

Status WriteBatchInternal::SetContents(WriteBatch* batch, std::string_view rep) {
  uint32_t n = 0;
  RINGDB_RETURN_IF_ERROR(Walk(rep, nullptr, &n));
  batch->rep_.assign(rep);
  batch->count_ = n;
  return Status::OK();
}

}  // namespace ringdb
