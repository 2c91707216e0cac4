// Copying file bytes kernel to kernel, for backups: copy_file_range(2)
// first (no byte passes through user space; on file systems that share
// extents it may not even read them), then sendfile(2), then plain
// read/write when neither is supported between the two files.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "ringdb/status.h"

namespace ringdb::io {

enum class CopyMethod : uint8_t { kCopyFileRange, kSendfile, kReadWrite };

const char* CopyMethodName(CopyMethod m);

struct CopyResult {
  uint64_t bytes = 0;
  CopyMethod method = CopyMethod::kCopyFileRange;  // the one that did the copying
};

// Copies the first `length` bytes of `from` (fewer if the file is shorter)
// into a new file `to` (created, or truncated), starting with method
// `first` and falling back as described above, then fdatasyncs `to`. Errors
// name the path.
Status CopyFilePrefix(const std::string& from, const std::string& to, uint64_t length,
                      CopyMethod first, CopyResult* result);

}  // namespace ringdb::io
