// MapDB: an in-memory ringdb::DB over std::map, for testing the shell's
// commands without the engine. Faults can be injected per operation.
// Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringdb/db.h"

namespace ringdb::shell {

class MapDB : public DB {
 public:
  std::map<std::string, std::string> data;
  Status put_error;     // Returned by Put/Write/Delete when not OK.
  Status get_error;     // Returned by Get/MultiGet when not OK.
  std::string verify_report;
  std::string stats = "pool hits 1\npool misses 2\n";
  int writes = 0;       // Number of successful Put/Delete/Write calls.
  int syncs = 0;        // Of those, how many asked for sync.

  Status Put(const WriteOptions& o, std::string_view k, std::string_view v) override {
    if (!put_error.ok()) return put_error;
    data[std::string(k)] = std::string(v);
    Count(o);
    return Status::OK();
  }
  Status Delete(const WriteOptions& o, std::string_view k) override {
    if (!put_error.ok()) return put_error;
    data.erase(std::string(k));
    Count(o);
    return Status::OK();
  }
  Status Write(const WriteOptions& o, WriteBatch* batch) override {
    if (!put_error.ok()) return put_error;
    struct Apply : WriteBatch::Handler {
      std::map<std::string, std::string>* d;
      Status Put(std::string_view k, std::string_view v) override {
        (*d)[std::string(k)] = std::string(v);
        return Status::OK();
      }
      Status Delete(std::string_view k) override {
        d->erase(std::string(k));
        return Status::OK();
      }
    } apply;
    apply.d = &data;
    Status s = batch->Iterate(&apply);
    if (s.ok()) Count(o);
    return s;
  }
  Status Get(const ReadOptions&, std::string_view k, std::string* v) override {
    if (!get_error.ok()) return get_error;
    auto it = data.find(std::string(k));
    if (it == data.end()) return Status::NotFound(k);
    *v = it->second;
    return Status::OK();
  }
  std::vector<Status> MultiGet(const ReadOptions& o,
                               const std::vector<std::string_view>& keys,
                               std::vector<std::string>* values) override {
    values->assign(keys.size(), "");
    std::vector<Status> out;
    for (size_t i = 0; i < keys.size(); ++i) out.push_back(Get(o, keys[i], &(*values)[i]));
    return out;
  }
  std::unique_ptr<Iterator> NewIterator(const ReadOptions&) override {
    return std::make_unique<MapIterator>(&data);
  }
  Status Checkpoint() override { return Status::OK(); }
  Status Verify(std::string* report) override {
    if (report != nullptr) *report = verify_report;
    return verify_report.empty() ? Status::OK() : Status::Corruption("bad pages");
  }
  bool GetProperty(std::string_view name, std::string* value) override {
    if (name != "ringdb.stats") return false;
    *value = stats;
    return true;
  }
  Status Close() override { return Status::OK(); }

 private:
  void Count(const WriteOptions& o) {
    ++writes;
    if (o.sync) ++syncs;
  }

  class MapIterator final : public Iterator {
   public:
    explicit MapIterator(const std::map<std::string, std::string>* m)
        : m_(m), it_(m->end()) {}
    bool Valid() const override { return it_ != m_->end(); }
    void SeekToFirst() override { it_ = m_->begin(); }
    void SeekToLast() override { it_ = m_->empty() ? m_->end() : std::prev(m_->end()); }
    void Seek(std::string_view t) override { it_ = m_->lower_bound(std::string(t)); }
    void SeekForPrev(std::string_view t) override {
      auto up = m_->upper_bound(std::string(t));
      it_ = up == m_->begin() ? m_->end() : std::prev(up);
    }
    void Next() override { ++it_; }
    void Prev() override { it_ = it_ == m_->begin() ? m_->end() : std::prev(it_); }
    std::string_view key() const override { return it_->first; }
    std::string_view value() const override { return it_->second; }
    Status status() const override { return Status::OK(); }

   private:
    const std::map<std::string, std::string>* m_;
    std::map<std::string, std::string>::const_iterator it_;
  };
};

}  // namespace ringdb::shell
