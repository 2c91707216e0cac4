// WriteBatchInternal: the engine's access to a WriteBatch's encoding (as
// LevelDB's db/write_batch_internal.h), kept out of the public header. The
// encoding is the log's batch record, a frozen format (write_batch.cc).
// Thread-safety: as WriteBatch (one thread per batch).
#pragma once

#include <string>
#include <string_view>

#include "ringdb/status.h"
#include "ringdb/write_batch.h"

namespace ringdb {

class WriteBatchInternal {
 public:
  // The encoded form of `batch`; valid until the batch next changes.
  static const std::string& Contents(const WriteBatch& batch) { return batch.rep_; }
  // Replaces *batch by the batch encoded in `rep`, after checking every
  // record's bounds and tag: Corruption (naming the record) on malformed
  // input, *batch then unchanged.
  static Status SetContents(WriteBatch* batch, std::string_view rep);
  // Whether `batch` is exactly one delete, and its key (a view into the
  // batch) when it is. Reads the first record only: cheaper than Iterate
  // on the write path of every single put.
  static bool SingleDelete(const WriteBatch& batch, std::string_view* key);
};

}  // namespace ringdb
