// DBImpl::GetApproximateSizes: the data-file bytes of key ranges, estimated
// from where the range's ends fall in the tree (see db.h).
#include "engine/db_impl.h"

namespace ringdb {

Status DBImpl::GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) {
  if (n < 0 || (n > 0 && (ranges == nullptr || sizes == nullptr))) {
    return Status::InvalidArgument("GetApproximateSizes: null ranges or sizes");
  }
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  const double live_bytes =
      static_cast<double>(store_->stats().live_pages) * pool_->page_size();
  for (int i = 0; i < n; i++) {
    sizes[i] = 0;
    if (!(ranges[i].start < ranges[i].limit)) continue;
    double from, to;
    RINGDB_RETURN_IF_ERROR(tree_->EstimateRank(ranges[i].start, &from));
    RINGDB_RETURN_IF_ERROR(tree_->EstimateRank(ranges[i].limit, &to));
    if (to > from) sizes[i] = static_cast<uint64_t>((to - from) * live_bytes + 0.5);
  }
  return Status::OK();
}

}  // namespace ringdb
