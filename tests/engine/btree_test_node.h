// A B+tree node page in memory for node-layout tests (btree_node_test.cc,
// btree_prefix_test.cc), with the keys of its slots in order as the model.
// Test thread only.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "btree_test_util.h"
#include "engine/btree_format.h"
#include "engine/btree_node.h"

namespace ringdb::test {

class TestNode {
 public:
  explicit TestNode(bool leaf, uint32_t page_size = 4096)
      : page_(page_size, '\0'), page_size_(page_size), leaf_(leaf) {
    btree::InitNode(page_.data(), page_size, leaf ? btree::kPageTypeLeaf : btree::kPageTypeInner,
                    leaf ? 0 : 1, leaf ? PageId{} : PageId{7}, PageId{});
  }

  btree::NodeView view() const { return btree::NodeView(page_.data(), page_size_, PageId{3}); }
  char* mutable_page() { return page_.data(); }
  const std::vector<std::string>& keys() const { return keys_; }

  // The whole cell for `key` (TestCell; an inner cell names a child by the
  // node's key count).
  std::string Cell(const std::string& key, std::string_view value = "v") const {
    return TestCell(key, leaf_, page_size_, value, PageId{100 + keys_.size()});
  }
  // Inserts `key` at its sorted place. False when it does not fit.
  bool Insert(const std::string& key, std::string_view value = "v") {
    auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
    std::string cell = Cell(key, value);
    if (!btree::InsertFits(view(), cell)) return false;
    btree::InsertCell(page_.data(), page_size_, static_cast<int>(it - keys_.begin()), cell);
    keys_.insert(it, key);
    return true;
  }
  void Remove(size_t i) {
    btree::RemoveCell(page_.data(), page_size_, static_cast<int>(i));
    keys_.erase(keys_.begin() + static_cast<long>(i));
  }
  // Rewrites the node with `sorted` keys.
  void Rebuild(const std::vector<std::string>& sorted) {
    std::vector<std::string> cells;
    for (const std::string& k : sorted) cells.push_back(Cell(k));
    btree::RebuildNode(page_.data(), page_size_, btree::CellViews(cells));
    keys_ = sorted;
  }

 protected:
  std::string page_;
  uint32_t page_size_;
  bool leaf_;
  std::vector<std::string> keys_;
};

}  // namespace ringdb::test
