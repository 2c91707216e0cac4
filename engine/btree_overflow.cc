// Blobs: index pages listing data pages.
#include "engine/btree_overflow.h"

#include <algorithm>

#include "engine/btree_format.h"

namespace ringdb::btree {

namespace {

Status Bad(PageId page, std::string_view what) {
  return Status::Corruption("btree overflow page " + std::to_string(page.value) + ": " +
                            std::string(what));
}

uint64_t DivUp(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Pages fetched at once while reading a blob: a share of the pool so that
// concurrent readers cannot pin every frame.
size_t BatchSize(const BufferPool* pool) {
  return std::clamp<size_t>(pool->num_frames() / 4, 1, 64);
}

// Parsed index page.
struct IndexPage {
  uint32_t count = 0;
  PageId next;
  std::vector<PageId> ids;
};

Status ReadIndex(BufferPool* pool, PageId id, IndexPage* out) {
  if (!id.valid()) return Bad(id, "invalid index page id");
  auto r = pool->Fetch(id, LatchMode::kShared);
  if (!r.ok()) return r.status();
  const char* p = r->data();
  uint32_t ps = pool->page_size();
  if (Load<uint16_t>(p + kOvfTypeOff) != kPageTypeOverflowIndex) return Bad(id, "not an index page");
  out->count = Load<uint32_t>(p + kOvfCountOff);
  if (out->count > IndexPageCapacity(ps)) return Bad(id, "index count too large");
  out->next = PageId{Load<uint64_t>(p + kOvfNextOff)};
  out->ids.resize(out->count);
  for (uint32_t i = 0; i < out->count; ++i) {
    out->ids[i] = PageId{Load<uint64_t>(p + kOvfIdsOff + 8 * i)};
    if (!out->ids[i].valid()) return Bad(id, "invalid data page id");
  }
  return Status::OK();
}

// Walks the chain, calling fn(index id, parsed index, first data byte
// offset) per index page, and checks the chain covers exactly `len` bytes.
template <typename Fn>
Status WalkIndex(BufferPool* pool, PageId first, uint64_t len, Fn&& fn) {
  uint32_t ps = pool->page_size();
  uint64_t data_pages = DivUp(len, DataPageCapacity(ps));
  uint64_t seen = 0;
  PageId id = first;
  IndexPage index;
  uint64_t max_index_pages = std::max<uint64_t>(1, DivUp(data_pages, IndexPageCapacity(ps)));
  for (uint64_t n = 0; id.valid(); ++n) {
    if (n >= max_index_pages) return Bad(id, "index chain longer than the blob");
    RINGDB_RETURN_IF_ERROR(ReadIndex(pool, id, &index));
    if (seen + index.count > data_pages) return Bad(id, "index lists more pages than the blob has");
    RINGDB_RETURN_IF_ERROR(fn(id, index, seen * DataPageCapacity(ps)));
    seen += index.count;
    id = index.next;
  }
  if (seen != data_pages) return Bad(first, "index chain lists too few pages");
  return Status::OK();
}

}  // namespace

Status WriteBlob(BufferPool* pool, PageAllocator* alloc, std::string_view data, Lsn lsn,
                 std::vector<PageId>* pages) {
  uint32_t ps = pool->page_size();
  uint64_t dcap = DataPageCapacity(ps), icap = IndexPageCapacity(ps);
  uint64_t data_pages = DivUp(data.size(), dcap);
  uint64_t index_pages = std::max<uint64_t>(1, DivUp(data_pages, icap));
  std::vector<PageId> ids;
  ids.reserve(data_pages + index_pages);
  auto fail = [&](Status s) {
    for (PageId id : ids) alloc->Free(id);
    return s;
  };
  for (uint64_t i = 0; i < data_pages + index_pages; ++i) {
    auto r = alloc->Allocate();
    if (!r.ok()) return fail(r.status());
    ids.push_back(*r);
  }
  // ids[0, index_pages) are index pages, the rest data pages.
  for (uint64_t d = 0; d < data_pages; ++d) {
    auto g = pool->NewPage(ids[index_pages + d]);
    if (!g.ok()) return fail(g.status());
    char* p = g->mutable_data();
    uint64_t off = d * dcap;
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(dcap, data.size() - off));
    Store<uint16_t>(p + kOvfTypeOff, kPageTypeOverflowData);
    Store<uint32_t>(p + kOvfCountOff, n);
    std::memcpy(p + kOvfDataOff, data.data() + off, n);
    g->MarkDirty(lsn);
  }
  for (uint64_t x = 0; x < index_pages; ++x) {
    auto g = pool->NewPage(ids[x]);
    if (!g.ok()) return fail(g.status());
    char* p = g->mutable_data();
    uint64_t begin = x * icap;
    uint64_t end = std::min<uint64_t>(data_pages, begin + icap);
    Store<uint16_t>(p + kOvfTypeOff, kPageTypeOverflowIndex);
    Store<uint32_t>(p + kOvfCountOff, static_cast<uint32_t>(end - begin));
    Store<uint64_t>(p + kOvfNextOff, x + 1 < index_pages ? ids[x + 1].value : PageId::kInvalidValue);
    Store<uint64_t>(p + kOvfTotalOff, data.size());
    for (uint64_t i = begin; i < end; ++i) {
      Store<uint64_t>(p + kOvfIdsOff + 8 * (i - begin), ids[index_pages + i].value);
    }
    g->MarkDirty(lsn);
  }
  *pages = std::move(ids);
  return Status::OK();
}

Status ReadBlob(BufferPool* pool, PageId first, uint64_t len, char* out) {
  uint32_t ps = pool->page_size();
  uint64_t dcap = DataPageCapacity(ps);
  size_t batch = BatchSize(pool);
  std::vector<PageGuard> guards;
  return WalkIndex(pool, first, len, [&](PageId, const IndexPage& index, uint64_t base) {
    for (size_t b = 0; b < index.ids.size(); b += batch) {
      size_t n = std::min(batch, index.ids.size() - b);
      guards.clear();
      RINGDB_RETURN_IF_ERROR(pool->FetchMany(
          std::span<const PageId>(index.ids.data() + b, n), LatchMode::kShared, &guards));
      for (size_t i = 0; i < n; ++i) {
        const char* p = guards[i].data();
        PageId id = index.ids[b + i];
        uint64_t off = base + (b + i) * dcap;
        uint64_t want = std::min<uint64_t>(dcap, len - off);
        if (Load<uint16_t>(p + kOvfTypeOff) != kPageTypeOverflowData) {
          return Bad(id, "not a data page");
        }
        if (Load<uint32_t>(p + kOvfCountOff) != want) return Bad(id, "bad data length");
        std::memcpy(out + off, p + kOvfDataOff, want);
      }
      guards.clear();
    }
    return Status::OK();
  });
}

Status ReadBlobString(BufferPool* pool, PageId first, uint64_t len, std::string* out) {
  out->resize(len);
  return ReadBlob(pool, first, len, out->data());
}

Status CollectBlobPages(BufferPool* pool, PageId first, uint64_t len,
                        std::vector<PageId>* ids) {
  return WalkIndex(pool, first, len, [&](PageId index_id, const IndexPage& index, uint64_t) {
    ids->push_back(index_id);
    ids->insert(ids->end(), index.ids.begin(), index.ids.end());
    return Status::OK();
  });
}

}  // namespace ringdb::btree
