// DB::GetApproximateSizes: the bytes of the keys and values in key ranges,
// summed by an iterator (see db.h for what that promises).
#include <memory>

#include "ringdb/db.h"

namespace ringdb {

Status DB::GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) {
  if (n < 0 || (n > 0 && (ranges == nullptr || sizes == nullptr))) {
    return Status::InvalidArgument("GetApproximateSizes: null ranges or sizes");
  }
  std::unique_ptr<Iterator> it = NewIterator(ReadOptions());
  for (int i = 0; i < n; i++) {
    uint64_t bytes = 0;
    if (ranges[i].start < ranges[i].limit) {
      for (it->Seek(ranges[i].start); it->Valid() && it->key() < ranges[i].limit; it->Next()) {
        bytes += it->key().size() + it->value().size();
      }
      if (!it->status().ok()) return it->status();
    }
    sizes[i] = bytes;
  }
  return Status::OK();
}

}  // namespace ringdb
