// TempDB: a real ringdb::DB in a fresh directory under /tmp, for the shell's
// unit tests (the project runs tests against the engine, not a fake). Small
// buffer pool, notices silenced; the directory is removed on destruction.
// Not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ringdb/db.h"
#include "tests/util/temp_dir.h"

namespace ringdb::shell {

class TempDB {
 public:
  TempDB() { Open(/*read_only=*/false); }
  ~TempDB() { db_.reset(); }
  TempDB(const TempDB&) = delete;
  TempDB& operator=(const TempDB&) = delete;

  DB* get() const { return db_.get(); }
  DB* operator->() const { return db_.get(); }
  // The temp directory; the database itself is in path().
  const std::string& dir() const { return dir_.path(); }
  std::string path() const { return dir_.File("db"); }

  // Closes the current handle (checking the result) and opens the database
  // again, read-only when asked. Existing DB* pointers become dangling.
  void Reopen(bool read_only) {
    if (db_ != nullptr && !closed_) Close();
    Open(read_only);
  }

  // Closes the handle but keeps it: every later call fails with
  // InvalidArgument "database is closed".
  void Close() {
    Status s = db_->Close();
    EXPECT_TRUE(s.ok()) << s.ToString();
    closed_ = true;
  }

  void Put(std::string_view key, std::string_view value) {
    Status s = db_->Put(WriteOptions(), key, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  // The value of `key`, or "(missing)" when it is not there.
  std::string Get(std::string_view key) {
    std::string value;
    Status s = db_->Get(ReadOptions(), key, &value);
    if (s.IsNotFound()) return "(missing)";
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }

  // Every pair, read with an iterator.
  std::map<std::string, std::string> Contents() {
    std::map<std::string, std::string> out;
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace(std::string(it->key()), std::string(it->value()));
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return out;
  }

  // A numeric property such as "ringdb.log.syncs".
  uint64_t Property(std::string_view name) {
    std::string value;
    EXPECT_TRUE(db_->GetProperty(name, &value)) << name;
    return std::stoull(value.empty() ? "0" : value);
  }

 private:
  void Open(bool read_only) {
    db_.reset();
    Options options;
    options.buffer_pool_bytes = 1 << 20;
    options.read_only = read_only;
    options.info_log = [](std::string_view) {};
    closed_ = false;
    Status s = DB::Open(options, path(), &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  test::TempDir dir_{"shell_db"};  // declared first: removed after db_ closes
  std::unique_ptr<DB> db_;
  bool closed_ = false;
};

}  // namespace ringdb::shell
