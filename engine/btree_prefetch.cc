// BTree::Prefetch, MultiGet's read pipeline: the keys walk down through
// cached inner nodes, the pages they miss are read with one submit a round,
// and each walk goes on as soon as its own read ends. Run on the calling
// thread, with free_gate_ held shared throughout (PrefetchPaths, MultiGet).
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/btree.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

// One pipeline run over `keys`, each key's walk started at a node on its
// path (the root, or the page a first look missed). Every step is best
// effort: errors, torn images and busy pages only mean less read-ahead;
// the lookups that follow read what is missing and report errors.
class BTree::Prefetch {
 public:
  // Reads the root's id and the tree's height from the meta page,
  // optimistically (nothing is in flight yet, so it may wait). False when
  // that fails.
  static bool ReadRoot(BTree* tree, PageId* root, uint32_t* height) {
    auto meta = tree->pool_->FetchOptimistic(tree->meta_);
    if (!meta.ok()) return false;
    OptimisticReadScope scope;  // validated below: races with a reload by design
    return tree->ReadMeta(meta->data(), tree->meta_, root, height).ok() && meta->Validate();
  }

  // `height`: the tree's height when the walks were named (bounds the
  // reads a walk may start). `on_leaf(i)`, when given, is called once the
  // leaf on keys[i]'s path is in the pool (this pipeline read it, or it was
  // there), between rounds while other reads are in flight: it must not
  // wait for a page (Reads::kNoWait).
  Prefetch(BTree* tree, std::span<const std::string_view> keys, uint32_t height,
           const std::function<void(size_t)>* on_leaf = nullptr)
      : tree_(tree),
        keys_(keys),
        reads_(tree->pool_->NewAsyncReads(keys.size())),
        height_(height),
        on_leaf_(on_leaf) {
    ready_.reserve(keys.size());
  }

  // Adds keys[key]'s walk at `page` of level `level`, named by a parent
  // that validated. Walks start last added, first.
  void Start(size_t key, PageId page, uint32_t level) { ready_.push_back({key, page, level, 0}); }

  // Rounds until no walk can go on: descend through cached nodes, submit
  // the round's reads, hand over the leaves that came in, resume the walks
  // of the reads that ended.
  void Run() {
    while (!ready_.empty() || reads_->in_flight() > 0) {
      DescendCached();
      // One submit for every read this round queued; then, as soon as any
      // read ends, its walks go on (one slow read holds back only its own).
      reads_->Submit();
      LeavesIn();  // while this round's reads are in flight
      if (reads_->in_flight() == 0) break;
      ResumeFinished();
    }
    LeavesIn();
  }

 private:
  // A walk: key keys_[key] goes on at node `page` of level `level`, whose
  // id was named by a parent that validated.
  struct Walk {
    size_t key;
    PageId page;
    uint32_t level;
    uint32_t reads = 0;  // reads started for it (a tiny pool may evict them)
  };

  // Every ready walk goes down through cached nodes until it needs a page
  // that is not: that page's read is queued and the walk waits for it.
  void DescendCached() {
    while (!ready_.empty()) {
      Walk w = ready_.back();
      ready_.pop_back();
      auto in_flight = waiting_.find(w.page.value);
      if (in_flight != waiting_.end()) {
        if (w.level > 0 || on_leaf_ != nullptr) in_flight->second.push_back(w);
        continue;
      }
      if (w.level == 0) {
        StartRead(w);  // the walk ends: read the leaf unless it is cached
        continue;
      }
      StepDown(w);
    }
  }

  // Walk w at an inner node: when the node is cached and reads consistently,
  // the walk moves to the child for its key; a miss starts the node's read.
  void StepDown(const Walk& w) {
    OptimisticGuard g;
    BufferPool::Probe probe = tree_->pool_->ProbeOptimistic(w.page, &g);
    if (probe == BufferPool::Probe::kMiss) {
      StartRead(w);
      return;
    }
    // A busy page (a writer, another reader's load) is left to the lookup:
    // waiting for it here could hold up pages this pipeline has latched for
    // its reads.
    if (probe == BufferPool::Probe::kBusy) return;
    PageId child;
    {
      OptimisticReadScope scope;
      NodeView v(g.data(), tree_->page_size_, g.id());
      int idx;
      if (!v.Validate().ok() || v.level() != w.level ||
          !tree_->InnerSearch(v, keys_[w.key], false, &idx, /*inline_only=*/true).ok() ||
          !v.ChildAt(idx, &child).ok() || !g.Validate()) {
        return;  // changed or overflowed separators: the lookup will do
      }
    }
    g.KeepResident();
    if (!child.valid() || child == tree_->meta_) return;
    ready_.push_back({w.key, child, w.level - 1, w.reads});
  }

  // Starts reading w.page (not cached), or leaves the walk when it cannot.
  void StartRead(Walk w) {
    if (++w.reads > 2 * height_) return;  // evicted again and again: leave it
    switch (reads_->StartRead(w.page)) {
      case BufferPool::AsyncReads::Start::kStarted:
        waiting_[w.page.value].push_back(w);
        return;
      case BufferPool::AsyncReads::Start::kNoRoom:
        if (reads_->in_flight() > 0) no_room_.push_back(w);  // after the next reap
        return;
      case BufferPool::AsyncReads::Start::kNotNeeded:
        if (w.level == 0 && on_leaf_ != nullptr) leaves_.push_back(w.key);  // cached already
        return;
    }
  }

  // Waits for at least one read; the walks waiting for the pages that came
  // in, and those that found no room, are ready again.
  void ResumeFinished() {
    done_.clear();
    reads_->Reap(&done_);
    for (PageId id : done_) {
      auto it = waiting_.find(id.value);
      if (it == waiting_.end()) continue;
      for (const Walk& w : it->second) {
        if (w.level > 0) {
          ready_.push_back(w);
        } else if (on_leaf_ != nullptr) {
          leaves_.push_back(w.key);
        }
      }
      waiting_.erase(it);
    }
    ready_.insert(ready_.end(), no_room_.begin(), no_room_.end());
    no_room_.clear();
  }

  // Hands the keys whose leaves came in to on_leaf_.
  void LeavesIn() {
    for (size_t key : leaves_) (*on_leaf_)(key);
    leaves_.clear();
  }

  BTree* const tree_;
  const std::span<const std::string_view> keys_;
  const std::unique_ptr<BufferPool::AsyncReads> reads_;
  const uint32_t height_;
  const std::function<void(size_t)>* const on_leaf_;  // the caller's; may be null
  std::vector<Walk> ready_, no_room_;
  std::vector<size_t> leaves_;  // keys whose leaves came in, for on_leaf_
  // Walks waiting for a page this pipeline is reading, by page id.
  std::unordered_map<uint64_t, std::vector<Walk>> waiting_;
  std::vector<PageId> done_;
};

void BTree::PrefetchPaths(std::span<const std::string_view> keys) {
  // free_gate_ (shared) keeps every page id validated in the walk allocated
  // until the reads end.
  std::shared_lock gate(free_gate_);
  PageId root;
  uint32_t height;
  if (!Prefetch::ReadRoot(this, &root, &height)) return;
  if (height < 2) return;  // the root is the leaf: a lookup reads it once
  Prefetch p(this, keys, height);
  for (size_t i = keys.size(); i-- > 0;) p.Start(i, root, height - 1);
  p.Run();
}

void BTree::PrefetchMissed(std::span<const std::string_view> keys, std::span<const MissAt> at,
                           const std::function<void(size_t)>& on_leaf) {
  uint32_t height = 1;
  for (const MissAt& m : at) height = std::max(height, m.level + 1);
  Prefetch p(this, keys, height, &on_leaf);
  for (size_t i = keys.size(); i-- > 0;) p.Start(i, at[i].page, at[i].level);
  p.Run();
}

}  // namespace ringdb
