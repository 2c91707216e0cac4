// Blobs: long values and long keys of the B+tree, stored outside the nodes
// as a chain of index pages that list data pages (format in btree_format.h).
// Reads fetch the data pages of one index page in batches with
// BufferPool::FetchMany (one submit per batch).
//
// Thread-safety: a blob is owned by the cell that names it. Readers call
// ReadBlob while holding at least a shared latch on that cell's node; the
// single writer creates blobs before linking them and collects a blob's
// pages (CollectBlobPages) before unlinking it, freeing them only after
// releasing its latches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bufferpool/buffer_pool.h"
#include "engine/page_allocator.h"
#include "ringdb/status.h"

namespace ringdb::btree {

// Allocates every page first (an allocation failure changes nothing and
// frees what it took), then writes the blob. On success *pages lists every
// page of the blob, the first index page first (the blob's id).
Status WriteBlob(BufferPool* pool, PageAllocator* alloc, std::string_view data, Lsn lsn,
                 std::vector<PageId>* pages);

// Reads the whole blob at `first`, which must be exactly `len` bytes long,
// into out[0, len). Corruption names the page whose contents are bad.
Status ReadBlob(BufferPool* pool, PageId first, uint64_t len, char* out);

// ReadBlob into a string (resized to len).
Status ReadBlobString(BufferPool* pool, PageId first, uint64_t len, std::string* out);

// Appends every page of the blob (index and data pages) to *ids, checking
// the chain's shape against `len`.
Status CollectBlobPages(BufferPool* pool, PageId first, uint64_t len,
                        std::vector<PageId>* ids);

}  // namespace ringdb::btree
