// DB::DeleteRange: chunks of keys collected by an iterator, each deleted by
// one WriteBatch (see db.h for what that promises).
#include <memory>
#include <string>
#include <vector>

#include "ringdb/db.h"

namespace ringdb {

Status DB::DeleteRange(const WriteOptions& options, std::string_view start,
                       std::string_view end, uint64_t* deleted) {
  constexpr size_t kChunkKeys = 1000;
  uint64_t total = 0;
  if (deleted != nullptr) *deleted = 0;
  std::string from(start);
  std::vector<std::string> keys;
  while (from < end) {
    keys.clear();
    {
      std::unique_ptr<Iterator> it = NewIterator(ReadOptions());
      for (it->Seek(from); it->Valid() && it->key() < end && keys.size() < kChunkKeys;
           it->Next()) {
        keys.emplace_back(it->key());
      }
      if (!it->status().ok()) return it->status();
    }
    if (keys.empty()) break;
    WriteBatch batch;
    for (const std::string& k : keys) batch.Delete(k);
    Status s = Write(options, &batch);
    if (!s.ok()) return s;
    total += keys.size();
    if (deleted != nullptr) *deleted = total;
    if (keys.size() < kChunkKeys) break;
    from = keys.back();
    from.push_back('\0');  // The next key after the last one deleted.
  }
  return Status::OK();
}

}  // namespace ringdb
