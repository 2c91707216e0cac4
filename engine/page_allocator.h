// PageAllocator: hands out and takes back logical page ids for the B+tree.
//
// The engine's page store implements it (ids are logical; where a page
// lives on disk is the store's business). A freed id may be handed out
// again; the caller must have dropped every guard on it first.
//
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include "bufferpool/page.h"
#include "util/result.h"

namespace ringdb {

class PageAllocator {
 public:
  virtual ~PageAllocator() = default;
  // A page id that is not in use. Its contents on disk are undefined: create
  // it with BufferPool::NewPage, never Fetch it first.
  virtual Result<PageId> Allocate() = 0;
  // Returns `id` for reuse and drops it from the buffer pool.
  virtual void Free(PageId id) = 0;
};

}  // namespace ringdb
