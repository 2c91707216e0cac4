// DB::NewIterator: the B+tree's iterator for an open database, or one that
// only reports why there is none (ErrorIterator).
#include "engine/btree.h"
#include "engine/db_impl.h"

namespace ringdb {

namespace {

// An iterator that is never Valid() and reports `s` (e.g. "database is
// closed"), so NewIterator never returns null.
class ErrorIterator final : public Iterator {
 public:
  explicit ErrorIterator(Status s) : s_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(std::string_view) override {}
  void SeekForPrev(std::string_view) override {}
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return s_; }

 private:
  Status s_;
};

}  // namespace

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions&) {
  Status s = CheckOpen();
  if (!s.ok()) return std::make_unique<ErrorIterator>(s);
  return tree_->NewIterator();
}

}  // namespace ringdb
