// BTree: the B+tree that holds ringdb's keys and values in buffer-pool
// pages. Node, meta and overflow formats are in btree_format.h.
//
// Thread-safety: at most ONE writer (Put/Delete) at a time, guaranteed by
// the caller; any number of readers (Get, MultiGet, iterators, Verify,
// ForEachPage, ApproximateCount) may run alongside it from other threads.
//
// Reading: optimistic lock coupling (OLC, after LeanStore). Get, MultiGet
// and the iterator's leaf copies descend from the meta page without
// latching anything: each node is read through an OptimisticGuard (its
// frame's version, bufferpool/buffer_pool.h), a child id is trusted only
// after its parent validates, and the child's version is taken before the
// parent is validated again, so a successful descent saw one consistent
// path. A reader writes no shared memory on the way. It restarts when a
// version moved, and falls back to shared latch coupling (the old
// protocol, still the only one for overflow pages) after a few restarts,
// when a key or value overflows into blob pages, or on a damaged page
// (the pessimistic path reports the damage). A page id is read from disk
// only with its parent latched shared at the version that named it (a
// miss, and scan read-ahead), so a reader never loads a freed page and the
// read never evicts the parent it is coupled to.
//
// Batches: a writer applying several operations as one (DBImpl) brackets
// them with BeginBatch/EndBatch, which hold batch_mu_ and make batch_seq_
// odd. An optimistic read notes an even batch_seq_ first and accepts its
// result only if it is unchanged afterwards; the pessimistic fallback
// holds batch_mu_ shared. So no reader sees half a batch.
//
// Writing: at most one writer; it first tries a descent with shared
// latches on inner nodes and exclusive on the leaf; when the leaf would
// split or underflow it restarts with exclusive latches from the meta page
// down, releasing all ancestors as soon as a child is safe (cannot split /
// cannot underflow). Order: parent before child, left sibling before right
// sibling, a node before its overflow pages. Readers never follow sibling
// links, so a writer holding a parent exclusively owns the subtree's
// structure. Every exclusive unlatch bumps the page's version, which is
// what makes optimistic readers restart.
//
// Node search and trust: a search reads the slot array (a 2-byte key head
// and the key length per slot, btree_format.h) and decodes a cell only on a
// tie the lengths do not decide. FetchNode checks a node's header in
// constant time (the fields the slot search relies on); the whole node is
// checked by btree::VerifyNodePage once, when the pool reads it from disk
// (BTree::Open installs it as the pool's read check), and by Verify.
// Writers edit cached nodes without re-checking: the mutators keep a node
// valid, and an edit that would break it aborts.
//
// Page reuse: the writer frees pages (merged nodes, replaced blobs) only
// after releasing its latches and while holding free_gate_ exclusively.
// Readers that remember page ids without holding a latch (MultiGet's
// pipelined prefetch) hold free_gate_ shared, so a freed id is never
// read back into the pool behind the allocator's back.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bufferpool/buffer_pool.h"
#include "engine/btree_node.h"
#include "engine/page_allocator.h"
#include "util/check.h"
#include "util/result.h"
#include "util/thread_annotations.h"
#include "ringdb/iterator.h"
#include "ringdb/status.h"

namespace ringdb {

class BTree {
 public:
  // Formats an empty tree: a meta page and an empty root leaf. Returns the
  // meta page id. Nothing is left allocated on failure.
  static Result<PageId> Create(BufferPool* pool, PageAllocator* alloc, Lsn lsn);
  // Opens the tree whose meta page is `meta`. Corruption when it is not a
  // tree meta page or was formatted for another page size. `pool` and
  // `alloc` must outlive the tree.
  static Result<std::unique_ptr<BTree>> Open(BufferPool* pool, PageAllocator* alloc,
                                             PageId meta);

  BTree(const BTree&) = delete;
  BTree& operator=(const BTree&) = delete;

  // Copies the value of `key` into *value. NotFound when missing.
  Status Get(std::string_view key, std::string* value);

  // Looks up all keys. The keys whose paths miss the pool have their pages
  // read by a pipeline, in chunks of a quarter of the pool: the first chunk
  // from the pages where a first look left the cache (PrefetchMissed, each
  // key looked up as its leaf comes in), the others from the root
  // (PrefetchPaths, then looked up). Resizes *values and *statuses to
  // keys.size().
  void MultiGet(std::span<const std::string_view> keys, std::vector<std::string>* values,
                std::vector<Status>* statuses);

  // Whether the pages a lookup of `key` walks through are all cached, so
  // that changing it would read nothing (a hint: it may change at once).
  bool Cached(std::string_view key);
  // Reads the pages the lookups of `keys` (in key order, at most
  // PrefetchChunk() of them, so that what is read stays cached) miss, by
  // the pipeline MultiGet uses. Best effort: the lookups that follow read
  // whatever is still missing.
  void PrefetchKeys(std::span<const std::string_view> keys) { PrefetchPaths(keys); }
  // Keys per prefetch: their pages take at most a quarter of the pool.
  size_t PrefetchChunk() const { return std::max<size_t>(8, pool_->num_frames() / 4); }

  // Inserts or overwrites. InvalidArgument beyond kMaxKeySize /
  // kMaxValueSize. On failure the tree is unchanged.
  Status Put(std::string_view key, std::string_view value, Lsn lsn);

  // Bracket a batch of several Put/Delete calls that readers must see all
  // or nothing of (see the file comment). The writer's own lock order:
  // BeginBatch before any page latch.
  void BeginBatch() ACQUIRE(batch_mu_);
  void EndBatch() RELEASE(batch_mu_);
  // Held shared by walks that must not see half a batch (Verify in DBImpl).
  SharedMutex& batch_mutex() RETURN_CAPABILITY(batch_mu_) { return batch_mu_; }

  // Removes `key`; OK with *existed = false when it is missing. Underfull
  // nodes are merged with a sibling and freed; the height shrinks when the
  // root has one child. Merging is best effort: an I/O error while
  // fetching a sibling leaves a valid, underfull tree (counted in
  // rebalance_errors()).
  Status Delete(std::string_view key, Lsn lsn, bool* existed);

  // What an iterator reads through instead of the tree's newest state
  // (DBImpl's snapshots): PatchLeaf may rewrite each leaf copy (entries,
  // arena) to another version of the keys in its fences [low, high), and
  // Get replaces the tree's lookup of a value that overflowed. Both are
  // called after the tree was read. Defined below LeafCopy.
  class IteratorView;
  // An iterator holding no latches or pins between calls, reading through
  // `view` when given (it owns it). The tree must outlive it.
  std::unique_ptr<Iterator> NewIterator(std::unique_ptr<IteratorView> view = nullptr);
  // Iterators report, at each Seek and when destroyed, how many times the
  // scan since the last Seek crossed to a neighbouring leaf. The tree keeps
  // a moving average (7/8 old, 1/8 new): the read-ahead window a Seek
  // starts with (PlanReadAhead).
  void NoteScanLength(int crossings);
  // Inserts TryAppend made without a descent (read by the writer's thread,
  // or after it stopped).
  uint64_t fast_appends() const { return appends_; }
  // The window a Seek starts with: the average rounded up, 1 to
  // MaxReadAhead().
  int SeekReadAhead() const;

  // Walks every reachable page and checks checksums (via Fetch), node
  // headers and cells, key order within and across pages, separator
  // bounds, levels, sibling links and overflow chains. Appends one line
  // per problem to *report (when not null); Corruption if any.
  Status Verify(std::string* report);

  // Calls fn for every page reachable from the meta page (meta, inner,
  // leaves, overflow pages); stops at the first non-OK status.
  Status ForEachPage(const std::function<Status(PageId)>& fn);

  // Number of keys, counted by walking the leaves (O(pages)).
  uint64_t ApproximateCount();

  // Where `key` falls in the tree's key order, as a fraction in [0, 1]: the
  // child index taken at each inner node and the slot in the leaf, as if
  // sibling subtrees held equal shares. O(height): reads one node per
  // level (inner nodes are normally cached).
  Status EstimateRank(std::string_view key, double* rank);

  // How densely the tree uses its pages (btree_fill.cc).
  struct FillStats {
    uint64_t leaf_pages = 0, inner_pages = 0;
    uint64_t overflow_pages = 0;  // blob index and data pages
    // Mean over pages of used / usable bytes (usable: the page less its
    // headers; used: slots and cells). 0 when there are no such pages.
    double leaf_fill = 0, inner_fill = 0;
    uint64_t entries = 0;
    uint64_t user_bytes = 0;       // full key + value bytes of the entries
    uint64_t live_page_bytes = 0;  // every reachable page (meta included) * page size
  };
  // Walks the whole tree (O(pages)) with shared latches, parent before
  // child, so concurrent writers wait on at most the pages it holds. A page
  // that cannot be read ends the walk with its error.
  Status ComputeFill(FillStats* out);
  // Estimates the mean leaf fill (as FillStats::leaf_fill) from `samples`
  // leaves reached by random descents (each takes a child uniformly at
  // random at every level, from a generator seeded with `seed`), with
  // shared latches coupled from parent to child as ComputeFill's. Reads at
  // most `samples` leaves that are not cached. *fill = 1 when the root is a
  // leaf (nothing to pack). For the idle compactor (db_idle_compact.cc).
  Status SampleLeafFill(uint64_t seed, int samples, double* fill);

  // Packs the leaves under one parent of leaves (DBImpl::Compact,
  // btree_pack.cc): left to right, moves cells from each leaf into its left
  // sibling until that one holds `fill` (0.5 to 1) of a page's usable
  // bytes, and merges a leaf whose cells all fit there (it is freed). The
  // parent is the first one when `first`, else the one whose keys include
  // `from`. *next gets its high fence, where the next call starts; *more is
  // false when it was the last (or the root is a leaf). Keys and values do
  // not change, only which leaf holds them; each step rewrites a pair of
  // leaves and their parent as Delete's rebalancing does, so readers see
  // the tree before or after it. Require: the single writer (btree.h);
  // writers may run between calls. Stops at the first error (the tree
  // stays valid, packed up to there). Adds to *stats.
  struct PackStats {
    uint64_t leaves_before = 0, leaves_after = 0;
    uint64_t merged = 0;  // leaves emptied into their left sibling and freed
    uint64_t moved = 0;   // pairs whose split point moved right
  };
  Status PackParent(double fill, bool first, std::string_view from, Lsn lsn, PackStats* stats,
                    std::string* next, bool* more);
  // One parent of leaves and its children, in key order (*ids: the parent,
  // then its leaves left to right), walking as PackParent does: the first
  // parent when `first`, else the one whose keys include `from`; *next and
  // *more as there. When the root is a leaf: just the root. For Compact,
  // which gives them consecutive slots. Require: the single writer.
  Status LeafRun(bool first, std::string_view from, std::vector<PageId>* ids, std::string* next,
                 bool* more);

  PageId meta_page() const { return meta_; }
  // Current height (1 = the root is a leaf); 0 when the meta page cannot be
  // read.
  uint32_t Height();
  uint64_t rebalance_errors() const { return rebalance_errors_; }

  // For the iterator (btree_iterator.cc).
  enum class SeekMode : uint8_t { kFirst, kLast, kGE, kGT, kLE, kLT };
  struct LeafEntry {
    uint32_t key_off, key_len;
    uint32_t value_off, value_len;  // into arena; unused when value_overflow
    bool value_overflow;
  };
  struct LeafCopy {
    std::string arena;
    std::vector<LeafEntry> entries;
    // Fences from the parents: keys of this leaf are in [low, high).
    bool has_low = false, has_high = false;
    std::string low, high;
    // The chosen position for the mode (-1 or entries.size() when none).
    int pos = -1;
    // Read-ahead state kept across calls (ReadAhead, btree_iterator.cc):
    // the parent whose children up to index ra_end (down to it, backward)
    // were last prefetched, the window in leaves and its direction. The
    // caller sets ra_continue when this call crosses to the neighbouring
    // leaf of the previous one; a Seek clears it, resetting the window.
    PageId ra_parent;
    int ra_end = 0;
    int ra_window = 0;
    bool ra_forward = true;
    bool ra_continue = false;
    // The window is the one a Seek started with (SeekReadAhead): it grows
    // only when the scan reaches its last leaf.
    bool ra_seeded = false;
    // Set by an optimistic copy: the leaf's parent as it was read (holding
    // nothing), the leaf's index among its n + 1 children, and the
    // parent's own fences, so that the next copy can step to a sibling
    // without descending from the root (CopySibling).
    bool has_parent = false;
    OptimisticGuard parent;
    int parent_idx = 0, parent_n = 0;
    bool parent_has_low = false, parent_has_high = false;
    std::string parent_low, parent_high;
    std::string_view KeyAt(size_t i) const {
      return std::string_view(arena).substr(entries[i].key_off, entries[i].key_len);
    }
  };
  // Descends to the leaf for target/mode, copies its cells (full keys,
  // inline values) and picks the position. Prefetches the sibling leaves
  // ahead in the mode's direction named by the parent (ReadAhead).
  Status CopyLeaf(std::string_view target, SeekMode mode, LeafCopy* out);
  // Replaces *out with the leaf right (forward) or left of it, positioned
  // at its first (last) entry: through the remembered parent when it is
  // unchanged, else by a descent to out's high (low) fence. Require: out
  // has that fence.
  Status CopySibling(bool forward, LeafCopy* out);
  // Sets out->pos for target and mode (binary search of the copy).
  static void PickPosition(std::string_view target, SeekMode mode, LeafCopy* out);

  class IteratorView {
   public:
    virtual ~IteratorView() = default;
    virtual Status PatchLeaf(LeafCopy* leaf) = 0;
    virtual Status Get(std::string_view key, std::string* value) = 0;
  };

 private:
  BTree(BufferPool* pool, PageAllocator* alloc, PageId meta, uint32_t page_size)
      : pool_(pool), alloc_(alloc), meta_(meta), page_size_(page_size) {}

  struct PathEntry {
    PageGuard guard;
    int child = -1;  // child index taken below this node
  };
  struct Path {
    PageGuard meta;  // valid when the root may change
    std::vector<PathEntry> nodes;
  };

  // Reads root and height from a meta page image. Another format version
  // is NotSupported `at_open` (an older or newer file, not a damaged one)
  // and Corruption afterwards (the field changed in a tree opened fine).
  Status ReadMeta(const PageGuard& meta, PageId* root, uint32_t* height) const {
    return ReadMeta(meta.data(), meta.id(), root, height);
  }
  Status ReadMeta(const char* p, PageId id, PageId* root, uint32_t* height,
                  bool at_open = false) const;

  // Optimistic reading (see the file comment). kRestart: a version moved,
  // try again; kFallback: take the pessimistic path; kMiss: a page on the
  // way is not cached and the caller asked not to read (Reads::kNo,
  // kNoWait).
  enum class Opt : uint8_t { kOk, kRestart, kFallback, kMiss };
  // What an optimistic descent does at a page that is not cached: kYes
  // reads it; kNo stops (kMiss) but waits for a page a writer or loader
  // holds; kNoWait stops at such a page too, so that a caller with reads
  // of its own in flight never waits for them (MultiGet's pipeline).
  enum class Reads : uint8_t { kYes, kNo, kNoWait };
  // Where a lookup that may not read stopped (kMiss): the page it needs,
  // named by a parent image that validated, and that page's level.
  struct MissAt {
    PageId page;
    uint32_t level = 0;
  };
  // The root, read through the meta page; *level is its level. A miss
  // fills *miss when given.
  Opt OptimisticRoot(OptimisticGuard* root, uint32_t* level, Reads reads,
                     MissAt* miss = nullptr);
  // Child `id` of `parent` (whose image named it): validates the parent
  // before trusting the id and after taking the child's version; on a miss
  // reads the child with the parent latched shared (TryLatch).
  Opt OptimisticChild(const OptimisticGuard& parent, PageId id, OptimisticGuard* child,
                      Reads reads);
  // Header and level checks on a node read optimistically.
  Opt OptimisticNode(const OptimisticGuard& g, uint32_t level);
  // A status from reading `g` optimistically: kRestart when the image was
  // torn, else kFallback (the pessimistic path reports the real problem).
  static Opt Torn(const OptimisticGuard& g) { return g.Validate() ? Opt::kFallback : Opt::kRestart; }
  Opt GetOptimistic(std::string_view key, std::string* value, Status* result, Reads reads,
                    MissAt* miss = nullptr);
  Status GetPessimistic(std::string_view key, std::string* value) REQUIRES_SHARED(batch_mu_);
  Opt CopyLeafOptimistic(std::string_view target, SeekMode mode, LeafCopy* out);
  Opt SiblingOptimistic(bool forward, LeafCopy* out);
  Status CopyLeafPessimistic(std::string_view target, SeekMode mode, LeafCopy* out)
      REQUIRES_SHARED(batch_mu_);
  // ReadAhead for a parent read optimistically: prefetches (with child
  // idx itself, so the batch cannot evict it after it was fetched) with the
  // parent latched shared at its version; kRestart when it changed.
  Opt ReadAheadOptimistic(const OptimisticGuard& parent, const btree::NodeView& v, int idx,
                          bool forward, LeafCopy* out);
  // Copies leaf `v`'s cells into out (not the fences); `optimistic` makes
  // an overflowed key a Busy status instead of a blob read.
  Status CopyCells(const btree::NodeView& v, bool optimistic, LeafCopy* out);
  // Runs attempt(&status) optimistically (validating batch_seq_) a few
  // times, then pessimistic() under batch_mu_ shared.
  template <typename Attempt, typename Pessimistic>
  Status Optimistically(Attempt&& attempt, Pessimistic&& pessimistic);
  // Fetches a node and checks its header and level.
  Status FetchNode(PageId id, LatchMode mode, uint32_t level, PageGuard* out);
  btree::NodeView View(const PageGuard& g) const {
    return btree::NodeView(g.data(), page_size_, g.id());
  }

  // Key comparison: <0, 0, >0 as search vs stored key. Reads an overflowed
  // key only when the inline prefix does not decide.
  // With `inline_only`, a comparison that needs an overflowed key's blob
  // returns Busy instead of reading it (for optimistic readers).
  Status CompareKey(std::string_view search, const btree::KeyRef& k, int* cmp,
                    bool inline_only = false);
  Status FullKey(const btree::KeyRef& k, std::string* out);
  // First slot whose key >= key (or > key with `upper`); *found when a
  // slot's key equals `key`. Compares slot heads, reading a cell only on a
  // tie that the key lengths do not decide.
  Status SearchNode(const btree::NodeView& v, std::string_view key, bool upper, int* idx,
                    bool* found, bool inline_only = false);
  // First slot whose key >= key (or > key with `upper`).
  Status LeafSearch(const btree::NodeView& v, std::string_view key, bool upper, int* idx,
                    bool* found);
  // LeafSearch for `key` itself: *idx is its slot (or where it would go),
  // *found whether the leaf holds it, and then *cell is its cell.
  Status FindCell(const btree::NodeView& v, std::string_view key, int* idx, bool* found,
                  btree::LeafCell* cell);
  // Where `key` is: its leaf (latched in the descent's leaf mode), the
  // tree's height, and FindCell's answer in that leaf.
  struct LeafSpot {
    PageGuard leaf;
    uint32_t height = 0;
    int idx = 0;
    bool found = false;
    btree::LeafCell cell;
  };
  // DescendToLeaf, then FindCell.
  Status FindInLeaf(std::string_view key, LatchMode leaf_mode, LeafSpot* spot);
  // Writes `cell` at slot idx of the exclusively latched leaf, over the
  // cell there when `replace`, and marks the leaf dirty at `lsn`.
  // Require: it fits (InsertFits).
  void WriteCell(PageGuard* leaf, int idx, bool replace, std::string_view cell, Lsn lsn);
  // Child index in [0, count]: number of separators <= key (< key with
  // strict).
  Status InnerSearch(const btree::NodeView& v, std::string_view key, bool strict, int* child,
                     bool inline_only = false);

  // The root latched shared, and the tree's height, read through the meta
  // page (released on return). For walks of the whole tree.
  Status LatchRootShared(PageGuard* root, uint32_t* height);
  // Shared latch-coupled descent to the leaf holding `key`, latched in
  // leaf_mode.
  Status DescendToLeaf(std::string_view key, LatchMode leaf_mode, PageGuard* leaf,
                       uint32_t* height);
  // The writers' pessimistic descent (btree_put.cc, btree_delete.cc):
  // latches the meta page, then every node on the way to the leaf holding
  // `key`, all exclusively. Each time `safe(node, is_root)` says a change
  // below cannot reach that node, the latches above it (and the meta page's)
  // are dropped, so *path ends with the nodes a split or merge may change,
  // the leaf last; path->meta stays valid only when the root may change.
  Status DescendExclusive(std::string_view key,
                          const std::function<bool(const btree::NodeView&, bool is_root)>& safe,
                          Path* path);
  Status ReadValue(const btree::LeafCell& c, std::string* value);
  Status CollectCellBlobs(const btree::LeafCell& c, std::vector<PageId>* ids);
  // Reads the pages on the paths of `keys` that are not cached, as a
  // pipeline: each key descends through cached nodes (optimistically,
  // never waiting for a latch) until it needs a page that is not; the
  // round's reads go out with one submit; as soon as any read ends, the
  // keys waiting for it go on and queue their next reads. So one slow read
  // holds back only its own keys. Best effort: the lookups that follow
  // read whatever is still missing.
  void PrefetchPaths(std::span<const std::string_view> keys);
  // The same pipeline with each walk started where a first look missed
  // (at[i] for keys[i]). on_leaf(i) is called as keys[i]'s leaf comes in,
  // while other reads are in flight (it must not wait: Reads::kNoWait).
  // Require: free_gate_ held shared since the first look named the pages.
  void PrefetchMissed(std::span<const std::string_view> keys, std::span<const MissAt> at,
                      const std::function<void(size_t)>& on_leaf);
  class Prefetch;  // its steps (btree_prefetch.cc)
  // Scan read-ahead for CopyLeaf: `parent` (latched) names, as child idx,
  // the leaf a scan in direction `forward` is about to copy. Prefetches the
  // siblings ahead: after a Seek as many as recent scans crossed
  // (SeekReadAhead, at least one), then a window that doubles (up to
  // MaxReadAhead) each time the scan nears the end of what was read ahead.
  void ReadAhead(const btree::NodeView& parent, int idx, bool forward, LeafCopy* out);
  // The read-ahead decision alone: updates out's ra_* state and sets *ids
  // to the leaves to prefetch (empty: none). ReadAhead and
  // ReadAheadOptimistic then read them.
  void PlanReadAhead(const btree::NodeView& parent, int idx, bool forward, LeafCopy* out,
                     std::vector<PageId>* ids);
  // Largest read-ahead window in leaves: 64, at most an eighth of the pool.
  int MaxReadAhead() const;

  // Write path (btree_put.cc, btree_delete.cc).
  Status PutCell(std::string_view key, std::string_view cell, Lsn lsn,
                 std::vector<PageId>* to_free);
  // Put without a descent when the key goes after the last key of the
  // rightmost leaf named by last_append_leaf_ and fits there. false: do
  // the usual Put (nothing was changed).
  bool TryAppend(std::string_view key, std::string_view cell, Lsn lsn);
  Status PutPessimistic(std::string_view key, std::string_view cell, Lsn lsn,
                        std::vector<PageId>* to_free);
  // Splits the full leaf path->nodes.back() around the new cell (at idx,
  // replacing slot idx when found) and inserts separators upward. With
  // `append` (the key lands after the last cell of a leaf being appended
  // to) the old cells stay left and the new cell starts the right leaf, and
  // inner nodes split the same way when the separator lands at their end;
  // otherwise both halves get about the same bytes.
  Status SplitAndInsert(Path* path, std::string_view key, std::string_view cell, int idx,
                        bool found, bool append, Lsn lsn);
  // The pages a split may use, allocated and created before any page
  // changes, used in order: the right leaf, a sibling per inner node
  // split, a new root.
  struct SplitPages {
    std::vector<PageGuard> fresh;
    size_t used = 0;
    btree::KeyRef sep;              // the leaf separator (a view of the caller's string)
    std::vector<PageId> sep_blob;   // its blob when it overflows
    PageGuard next_leaf;            // the leaf right of the splitting one, latched
  };
  // SplitAndInsert's steps. ChooseLeafSplit: the split index of the leaf's
  // whole cells (after the operation) and the separator. PrepareSplit:
  // fills *pages for the held path (on error, gives back all it took).
  // SplitLeaf: rewrites the leaf as cells[0, split) and a new right leaf
  // (returned) as the rest; split == 0 (an append) leaves the leaf's cells
  // as they are and gives the right leaf `cells` alone. InsertUpward:
  // inserts inner cell `promote` into the held parents, splitting them
  // (SplitInner) and the root as needed. Only the first two can fail.
  Status ChooseLeafSplit(const btree::NodeView& v, std::span<const std::string_view> cells,
                         bool append, size_t* split, std::string* sep);
  Status PrepareSplit(const Path& path, PageId old_next, std::string_view sep, Lsn lsn,
                      SplitPages* pages);
  PageId SplitLeaf(PageGuard* leaf, std::span<const std::string_view> cells, size_t split,
                   SplitPages* pages, Lsn lsn);
  void InsertUpward(Path* path, std::string promote, bool append, SplitPages* pages, Lsn lsn);
  // Splits full inner `node` around `promote` inserted at pos; sets
  // *next_promote to the cell that moves up (its child the new sibling).
  void SplitInner(PageGuard* node, int pos, std::string_view promote, bool append,
                  SplitPages* pages, Lsn lsn, std::string* next_promote);
  // The shortest separator between two whole leaf cells of node v, left <
  // right (Corruption otherwise).
  Status LeafSeparator(const btree::NodeView& v, std::string_view left_cell,
                       std::string_view right_cell, std::string* sep);
  // B*-style: before splitting the full leaf path->nodes.back() (its
  // parent latched exclusively in the path), tries to make room by evening
  // out its cells, the new one included, with a sibling under the same
  // parent (right first, then left). *shifted tells whether the cell went
  // in. An error means a latch on the leaf was lost; the tree is unchanged.
  Status ShiftToSibling(Path* path, std::string_view cell, int idx, bool found, Lsn lsn,
                        std::vector<PageId>* to_free, bool* shifted);
  // The writer's hint for the append pattern: the leaf whose last insert
  // landed after its last cell.
  void NoteInsert(PageId leaf, bool at_end) { last_append_leaf_ = at_end ? leaf : PageId{}; }
  Status DeletePessimistic(std::string_view key, Lsn lsn, bool* existed,
                           std::vector<PageId>* to_free);
  // Writes a blob for a separator too long to stay inline.
  Status MakeSeparator(std::string_view sep, Lsn lsn, btree::KeyRef* ref,
                       std::vector<PageId>* blob);
  enum class Rebalanced : uint8_t { kNone, kMerged, kRedistributed };
  // Fixes the underfull node path->nodes[level] (level >= 1; its parent is
  // latched): merges it with a sibling when both fit in one page (the parent
  // loses a cell), else moves cells over from the sibling. Best effort.
  Rebalanced Rebalance(Path* path, size_t level, Lsn lsn, std::vector<PageId>* to_free);
  // Rebalance's steps. LatchPair: moves path->nodes[level] into *left or
  // *right and latches its sibling (left before right), both validated;
  // false for an only child or on an error (counted). PairCells: the pair's
  // whole cells in order, the parent's separator brought down between
  // inner nodes. MergePair: rewrites left with `cells`, drops right and its
  // parent separator; false, with nothing changed, on an I/O error.
  bool LatchPair(Path* path, size_t level, PageGuard* left, PageGuard* right, int* right_ci);
  bool PairCells(const btree::NodeView& pv, int right_ci, const btree::NodeView& lv,
                 const btree::NodeView& rv, std::vector<std::string>* owned);
  bool MergePair(PageGuard* parent, int right_ci, PageGuard* left, PageGuard* right,
                 std::span<const std::string_view> cells, Lsn lsn, std::vector<PageId>* to_free);
  // Rewrites the sibling pair left/right (right is child right_ci of the
  // exclusively latched parent; both latched exclusively) as all[0, split)
  // and the rest, replacing the parent's separator for right. `all` holds
  // every cell of the pair in order, for inner nodes with the parent's
  // separator brought down between them (all[split] then moves up); it must
  // not point into either page. False, with nothing changed, when the new
  // separator does not fit in the parent, or on an I/O error (counted in
  // rebalance_errors()).
  bool MoveSplitPoint(PageGuard* parent, int right_ci, PageGuard* left, PageGuard* right,
                      std::span<const std::string_view> all, size_t split, Lsn lsn,
                      std::vector<PageId>* to_free);
  void ShrinkRoot(Path* path, Lsn lsn, std::vector<PageId>* to_free);
  // PackParent's steps. LatchLeafParent: the parent of leaves (level 1)
  // for first/key, latched exclusively (invalid when the root is a leaf),
  // and its high fence (*has_high false for the last one). PackChildren:
  // packs its children, latching two leaves at a time, left before right.
  Status LatchLeafParent(bool first, std::string_view key, PageGuard* parent, std::string* high,
                         bool* has_high);
  Status PackChildren(PageGuard* parent, uint64_t budget, Lsn lsn, PackStats* stats,
                      std::vector<PageId>* to_free);

  // Frees pages under free_gate_. Require: no latches held.
  void FreePages(const std::vector<PageId>& ids);

  BufferPool* const pool_;
  PageAllocator* const alloc_;
  const PageId meta_;
  const uint32_t page_size_;
  std::shared_mutex free_gate_;
  SharedMutex batch_mu_;
  std::atomic<uint64_t> batch_seq_{0};  // odd while a batch is applied
  // Leaf crossings per Seek, a moving average in sixteenths (NoteScanLength).
  std::atomic<uint32_t> scan_crossings16_{0};
  uint64_t rebalance_errors_ = 0;  // written by the single writer only
  PageId last_append_leaf_;        // the single writer's only (NoteInsert)
  uint64_t appends_ = 0;           // inserts TryAppend made, the writer's only
};

// Optimistic attempts before a reader falls back to latching.
inline constexpr int kOptimisticAttempts = 4;

template <typename Attempt, typename Pessimistic>
inline Status BTree::Optimistically(Attempt&& attempt, Pessimistic&& pessimistic) {
  for (int i = 0; i < kOptimisticAttempts; ++i) {
    uint64_t seq = batch_seq_.load(std::memory_order_acquire);
    if (seq & 1) break;  // a batch is being applied: wait for it below
    Status result;
    Opt o;
    {
      OptimisticReadScope scope;
      o = attempt(&result);
    }
    if (o == Opt::kFallback) break;
    // A page the batch changed was seen through its version word (acquire),
    // so a reader that saw any of the batch sees the sequence moved.
    if (o == Opt::kOk && batch_seq_.load(std::memory_order_acquire) == seq) return result;
  }
  ReaderLock lock(&batch_mu_);
  return pessimistic();
}

}  // namespace ringdb
