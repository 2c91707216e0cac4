// BTree::Verify, ForEachPage and ApproximateCount (whole-tree walks), and
// EstimateRank (one descent).
#include <algorithm>
#include <functional>
#include <unordered_set>

#include "engine/btree.h"
#include "engine/btree_overflow.h"
#include "ringdb/db.h"

namespace ringdb {

using namespace btree;  // NOLINT: this file is the B+tree.

namespace {

struct VerifyState {
  std::string* report = nullptr;
  uint64_t problems = 0;
  std::string first;
  std::unordered_set<uint64_t> seen;
  std::vector<PageId> leaves, prevs, nexts;

  void Problem(const std::string& line) {
    if (problems++ == 0) first = line;
    if (report != nullptr) {
      report->append(line);
      report->push_back('\n');
    }
  }
  void Problem(const Status& s) { Problem(s.message()); }  // One "Corruption: " is enough.
  // False (and a problem) when the page was already reached.
  bool Visit(PageId id) {
    if (seen.insert(id.value).second) return true;
    Problem("btree page " + std::to_string(id.value) + ": reachable more than once");
    return false;
  }
};

}  // namespace

Status BTree::Verify(std::string* report) {
  VerifyState st;
  st.report = report;
  std::string blob;
  auto check_blob = [&](PageId first, uint64_t len, uint64_t max_len) {
    if (len > max_len) {
      st.Problem("btree overflow page " + std::to_string(first.value) + ": blob too long");
      return;
    }
    std::vector<PageId> ids;
    Status s = CollectBlobPages(pool_, first, len, &ids);
    if (s.ok()) s = ReadBlobString(pool_, first, len, &blob);
    if (!s.ok()) return st.Problem(s);
    for (PageId id : ids) st.Visit(id);
  };
  // Checks the subtree at `id`, whose keys must lie in [low, high).
  std::function<void(PageId, uint32_t, const std::string*, const std::string*)> walk =
      [&](PageId id, uint32_t level, const std::string* low, const std::string* high) {
        if (!st.Visit(id)) return;
        PageGuard g;
        Status s = FetchNode(id, LatchMode::kShared, level, &g);
        if (s.ok()) s = View(g).ValidateCells();
        if (!s.ok()) return st.Problem(s);
        NodeView v = View(g);
        int n = v.count();
        std::vector<std::string> keys(n);
        std::vector<PageId> children;
        for (int i = 0; i < n; ++i) {
          KeyRef key;
          if (v.is_leaf()) {
            LeafCell c;
            RINGDB_CHECK(v.LeafCellAt(i, &c).ok());  // ValidateCells passed
            key = c.key;
            if (c.value_overflow) check_blob(c.value_blob, c.value_len, kMaxValueSize);
          } else {
            InnerCell c;
            RINGDB_CHECK(v.InnerCellAt(i, &c).ok());
            key = c.key;
            children.push_back(c.child);
          }
          if (key.overflow) check_blob(key.blob, key.full_len, kMaxKeySize);
          s = FullKey(key, &keys[i]);
          if (!s.ok()) return st.Problem(s);
          if (i > 0 && keys[i - 1] >= keys[i]) return st.Problem(v.Corrupt("keys out of order"));
          if ((low != nullptr && keys[i] < *low) || (high != nullptr && keys[i] >= *high)) {
            return st.Problem(v.Corrupt("key outside the parent's separator bounds"));
          }
        }
        if (v.is_leaf()) {
          st.leaves.push_back(id);
          st.prevs.push_back(v.link0());
          st.nexts.push_back(v.link1());
          return;
        }
        PageId first = v.link0();
        g.Release();
        for (int i = 0; i <= n; ++i) {
          walk(i == 0 ? first : children[i - 1], level - 1, i == 0 ? low : &keys[i - 1],
               i == n ? high : &keys[i]);
        }
      };
  PageId root;
  uint32_t height = 0;
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kShared);
    Status s = meta.ok() ? ReadMeta(*meta, &root, &height) : meta.status();
    if (!s.ok()) st.Problem(s);
  }
  if (height > 0) {
    st.Visit(meta_);
    walk(root, height - 1, nullptr, nullptr);
    for (size_t i = 0; i < st.leaves.size(); ++i) {
      PageId want_prev = i == 0 ? PageId{} : st.leaves[i - 1];
      PageId want_next = i + 1 == st.leaves.size() ? PageId{} : st.leaves[i + 1];
      if (st.prevs[i] != want_prev || st.nexts[i] != want_next) {
        st.Problem("btree page " + std::to_string(st.leaves[i].value) +
                   ": sibling links do not match the leaf order");
      }
    }
  }
  if (st.problems == 0) return Status::OK();
  return Status::Corruption(std::to_string(st.problems) +
                            (st.problems == 1 ? " problem: " : " problems; the first: ") + st.first);
}

Status BTree::ForEachPage(const std::function<Status(PageId)>& fn) {
  PageId root;
  uint32_t height;
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kShared);
    if (!meta.ok()) return meta.status();
    RINGDB_RETURN_IF_ERROR(ReadMeta(*meta, &root, &height));
  }
  RINGDB_RETURN_IF_ERROR(fn(meta_));
  std::vector<PageId> ids;
  std::function<Status(PageId, uint32_t)> walk = [&](PageId id, uint32_t level) -> Status {
    PageGuard g;
    RINGDB_RETURN_IF_ERROR(FetchNode(id, LatchMode::kShared, level, &g));
    NodeView v = View(g);
    ids.clear();
    std::vector<PageId> children;
    if (!v.is_leaf()) children.push_back(v.link0());
    for (int i = 0; i < v.count(); ++i) {
      KeyRef key;
      if (v.is_leaf()) {
        LeafCell c;
        RINGDB_RETURN_IF_ERROR(v.LeafCellAt(i, &c));
        key = c.key;
        if (c.value_overflow) {
          RINGDB_RETURN_IF_ERROR(CollectBlobPages(pool_, c.value_blob, c.value_len, &ids));
        }
      } else {
        InnerCell c;
        RINGDB_RETURN_IF_ERROR(v.InnerCellAt(i, &c));
        key = c.key;
        children.push_back(c.child);
      }
      if (key.overflow) RINGDB_RETURN_IF_ERROR(CollectBlobPages(pool_, key.blob, key.full_len, &ids));
    }
    g.Release();
    RINGDB_RETURN_IF_ERROR(fn(id));
    for (PageId b : ids) RINGDB_RETURN_IF_ERROR(fn(b));
    if (level == 0) return Status::OK();
    for (PageId c : children) RINGDB_RETURN_IF_ERROR(walk(c, level - 1));
    return Status::OK();
  };
  return walk(root, height - 1);
}

uint64_t BTree::ApproximateCount() {
  uint64_t count = 0;
  PageId root;
  uint32_t height;
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kShared);
    if (!meta.ok() || !ReadMeta(*meta, &root, &height).ok()) return 0;
  }
  std::function<void(PageId, uint32_t)> walk = [&](PageId id, uint32_t level) {
    PageGuard g;
    if (!FetchNode(id, LatchMode::kShared, level, &g).ok()) return;
    NodeView v = View(g);
    if (level == 0) {
      count += v.count();
      return;
    }
    std::vector<PageId> children(v.count() + 1);
    for (int i = 0; i <= v.count(); ++i) {
      if (!v.ChildAt(i, &children[i]).ok()) return;
    }
    g.Release();
    for (PageId c : children) walk(c, level - 1);
  };
  walk(root, height - 1);
  return count;
}

Status BTree::EstimateRank(std::string_view key, double* rank) {
  // Children are fetched after their parent is released; free_gate_ keeps
  // the remembered child id from being freed meanwhile (see btree.h).
  std::shared_lock gate(free_gate_);
  PageId id;
  uint32_t height;
  {
    auto meta = pool_->Fetch(meta_, LatchMode::kShared);
    if (!meta.ok()) return meta.status();
    RINGDB_RETURN_IF_ERROR(ReadMeta(*meta, &id, &height));
  }
  double low = 0, width = 1;
  for (uint32_t level = height - 1;; --level) {
    PageGuard g;
    RINGDB_RETURN_IF_ERROR(FetchNode(id, LatchMode::kShared, level, &g));
    NodeView v = View(g);
    if (level == 0) {
      int idx;
      bool found;
      RINGDB_RETURN_IF_ERROR(LeafSearch(v, key, false, &idx, &found));
      if (v.count() > 0) low += width * idx / v.count();
      break;
    }
    int child;
    RINGDB_RETURN_IF_ERROR(InnerSearch(v, key, false, &child));
    RINGDB_RETURN_IF_ERROR(v.ChildAt(child, &id));
    width /= v.count() + 1;
    low += width * child;
  }
  *rank = std::min(1.0, low);
  return Status::OK();
}

}  // namespace ringdb
