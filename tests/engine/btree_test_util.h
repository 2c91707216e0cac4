// Test fixtures for the B+tree: a real BufferPool over a temp file and a
// simple PageAllocator (counter + free list, page p at p * page_size).
//
// Thread-safety: TestAllocator is safe from any thread; BTreeEnv and
// Harness are set up and reopened from the test thread only.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bufferpool/buffer_pool.h"
#include "engine/btree.h"
#include "engine/page_allocator.h"
#include "io/io_backend.h"
#include "tests/util/temp_dir.h"

namespace ringdb::test {

class TestAllocator : public PageAllocator {
 public:
  Result<PageId> Allocate() override;
  void Free(PageId id) override;

  void set_pool(BufferPool* pool) { pool_ = pool; }
  // Allocate() fails with IOError after `n` more successes (-1: never).
  void FailAfter(int64_t n) { fail_after_ = n; }
  uint64_t high_water() const;
  size_t free_count() const;
  size_t in_use() const;
  // Free() of an id that was already free (a double free).
  uint64_t double_frees() const { return double_frees_; }

 private:
  mutable std::mutex mu_;
  BufferPool* pool_ = nullptr;
  uint64_t next_ = 0;
  std::vector<PageId> free_list_;
  std::set<uint64_t> free_set_;
  std::atomic<int64_t> fail_after_{-1};
  std::atomic<uint64_t> double_frees_{0};
};

// A temp data file, an io backend, a pool and an allocator.
class BTreeEnv {
 public:
  // `backend`: a MakeBackend name (tests/util/backend.h); empty: io_uring
  // (pread when BTREE_PREAD is set). error() says when it is unavailable.
  // `parent`: where the data file's directory goes (TempDir::MemoryParent
  // for tests about logic that read the file many times).
  BTreeEnv(uint32_t page_size, uint32_t frames, std::string backend = "",
           const std::string& parent = "/tmp");
  ~BTreeEnv();

  // Empty when setup worked; otherwise why (the test then fails).
  const std::string& error() const { return error_; }
  BufferPool* pool() { return pool_.get(); }
  TestAllocator* alloc() { return &alloc_; }
  io::IoBackend* io() { return io_.get(); }
  const std::string& path() const { return path_; }
  uint32_t page_size() const { return page_size_; }

  // Flushes, drops the pool and opens a fresh one over the same file.
  Status Reopen();
  // Drops the pool without flushing (after a test has written the file).
  Status ReopenNoFlush();
  // Overwrites bytes of page `id` in the file (bypassing the pool). When
  // fix_checksum, recomputes the page checksum so only the content is bad.
  Status CorruptPage(PageId id, uint32_t offset, std::string_view bytes, bool fix_checksum);

 private:
  Status OpenPool();

  uint32_t page_size_;
  uint32_t frames_;
  std::string backend_;
  test::TempDir dir_;  // outlives the file and the pool
  std::string path_, error_;
  std::unique_ptr<io::IoBackend> io_;
  io::FileId file_;
  TestAllocator alloc_;
  std::unique_ptr<BufferPool> pool_;
};

// A tree over a BTreeEnv, re-openable.
struct Harness {
  Harness(uint32_t page_size, uint32_t frames, std::string backend = "",
          const std::string& parent = "/tmp")
      : env(page_size, frames, std::move(backend), parent) {
    EXPECT_EQ(env.error(), "");
    if (!env.error().empty()) return;
    auto m = BTree::Create(env.pool(), env.alloc(), Lsn(1));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    meta = *m;
    Open();
  }
  void Open() {
    auto t = BTree::Open(env.pool(), env.alloc(), meta);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tree = std::move(*t);
  }
  void Reopen() {
    tree.reset();
    Status s = env.Reopen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    Open();
  }
  bool ok() const { return env.error().empty() && tree != nullptr; }

  BTreeEnv env;
  PageId meta;
  std::unique_ptr<BTree> tree;
  // The LSN for the next change (a counter: the tree only stores it).
  Lsn NextLsn() { return Lsn(next_lsn++); }
  uint64_t next_lsn = 1;
};

// A 16-byte key for n.
std::string NumKey(uint64_t n);
// `len` pseudo-random bytes.
std::string MakeValue(std::mt19937_64& rng, size_t len);
// Values that carry their key and version ("key|version|fill..."), so a
// reader can tell a value written for another key, or a torn one.
std::string TaggedValue(const std::string& key, uint64_t version, size_t len);
bool ValueFits(std::string_view key, std::string_view value);

// Verify passes (the report is shown when it does not).
void ExpectVerify(BTree* tree);
// Full forward and backward scans equal the model.
void ExpectScansMatch(BTree* tree, const std::map<std::string, std::string>& model);
// Get(key) and Seek(key), and with `backward` SeekForPrev(key), answer as
// the model does. Fails fatally: call inside ASSERT_NO_FATAL_FAILURE.
void CheckLookupsMatch(BTree* tree, const std::map<std::string, std::string>& model,
                       const std::string& key, bool backward);
// A whole cell for `key` in a node of `page_size` (a leaf cell holding
// `value`, or an inner cell naming `child`), its key overflowed past
// MaxInlineKey with a dummy blob id, as the tree would write it.
std::string TestCell(const std::string& key, bool leaf, uint32_t page_size,
                     std::string_view value = "v", PageId child = PageId{100});

}  // namespace ringdb::test
