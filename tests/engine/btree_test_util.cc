// Test fixtures for the B+tree.
#include "btree_test_util.h"

#include "engine/btree_node.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iterator>
#include <string>
#include <utility>

#include "tests/util/backend.h"

namespace ringdb::test {

Result<PageId> TestAllocator::Allocate() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t f = fail_after_.load();
  if (f == 0) return Status::IOError("test allocator: injected failure");
  if (f > 0) fail_after_.store(f - 1);
  if (!free_list_.empty()) {
    PageId id = free_list_.back();
    free_list_.pop_back();
    free_set_.erase(id.value);
    return id;
  }
  return PageId{next_++};
}

void TestAllocator::Free(PageId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_set_.insert(id.value).second || id.value >= next_) {
      double_frees_++;
      return;
    }
    free_list_.push_back(id);
  }
  if (pool_ != nullptr) pool_->Discard(id);
}

uint64_t TestAllocator::high_water() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_;
}

size_t TestAllocator::free_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_list_.size();
}

size_t TestAllocator::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_ - free_list_.size();
}

BTreeEnv::BTreeEnv(uint32_t page_size, uint32_t frames, std::string backend,
                   const std::string& parent)
    : page_size_(page_size), frames_(frames), backend_(std::move(backend)),
      dir_("btree", parent) {
  path_ = dir_.File("data");
  Status s = OpenPool();
  if (!s.ok()) error_ = s.ToString();
}

BTreeEnv::~BTreeEnv() {
  pool_.reset();
  if (io_ != nullptr && file_.valid()) (void)io_->Close(file_);
}

Status BTreeEnv::OpenPool() {
  // A fresh backend per pool: a registered buffer of a destroyed pool must
  // not stay registered with the ring under a new pool's address range.
  if (!backend_.empty()) {
    std::string why;
    io_ = MakeBackend(backend_, &why);
    if (io_ == nullptr) return Status::NotSupported(why);
  } else {
    auto choice = io::NewIoBackend(getenv("BTREE_PREAD") ? IoBackendKind::kPread
                                                         : IoBackendKind::kIoUring);
    if (!choice.ok()) return choice.status();
    io_ = std::move(choice->backend);
  }
  auto f = io_->Open(path_, io::OpenMode::kCreateReadWrite);
  if (!f.ok()) return f.status();
  file_ = *f;
  BufferPoolOptions opt;
  opt.page_size = page_size_;
  opt.pool_bytes = size_t{frames_} * page_size_;
  opt.lock_memory = false;
  std::string notice;
  auto p = BufferPool::Create(opt, io_.get(), file_, nullptr, &notice);
  if (!p.ok()) return p.status();
  pool_ = std::move(*p);
  alloc_.set_pool(pool_.get());
  return Status::OK();
}

Status BTreeEnv::Reopen() {
  RINGDB_RETURN_IF_ERROR(pool_->FlushAll());
  return ReopenNoFlush();
}

Status BTreeEnv::ReopenNoFlush() {
  alloc_.set_pool(nullptr);
  pool_.reset();
  RINGDB_RETURN_IF_ERROR(io_->Close(file_));
  io_.reset();
  return OpenPool();
}

Status BTreeEnv::CorruptPage(PageId id, uint32_t offset, std::string_view bytes,
                             bool fix_checksum) {
  alignas(4096) static thread_local char buf[kMaxPageSize];
  uint64_t off = id.value * page_size_;
  RINGDB_RETURN_IF_ERROR(io_->Read(file_, off, buf, page_size_));
  std::memcpy(buf + offset, bytes.data(), bytes.size());
  if (fix_checksum) {
    reinterpret_cast<PageHeader*>(buf)->checksum = PageChecksum(buf, page_size_);
  }
  return io_->Write(file_, off, buf, page_size_);
}

std::string NumKey(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%013llu", static_cast<unsigned long long>(n));
  return buf;  // 16 bytes
}

std::string MakeValue(std::mt19937_64& rng, size_t len) {
  std::string v(len, 'a' + static_cast<char>(rng() % 26));
  for (size_t i = 0; i < len; i += 97) v[i] = static_cast<char>(rng());
  return v;
}

// Values carry their key, so a reader can tell a value written for another
// key (or a torn one) from a real one.
std::string TaggedValue(const std::string& key, uint64_t version, size_t len) {
  std::string v = key + "|" + std::to_string(version) + "|";
  v.resize(std::max(v.size(), len), static_cast<char>('a' + version % 26));
  return v;
}

bool ValueFits(std::string_view key, std::string_view value) {
  if (value.size() < key.size() + 1 || value.substr(0, key.size()) != key) return false;
  if (value[key.size()] != '|') return false;
  size_t bar = value.find('|', key.size() + 1);
  if (bar == std::string_view::npos) return false;
  uint64_t version = std::stoull(std::string(value.substr(key.size() + 1, bar - key.size() - 1)));
  char fill = static_cast<char>('a' + version % 26);
  for (size_t i = bar + 1; i < value.size(); ++i) {
    if (value[i] != fill) return false;
  }
  return true;
}

void ExpectVerify(BTree* tree) {
  std::string report;
  Status s = tree->Verify(&report);
  EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << report.substr(0, 2000);
}

void CheckLookupsMatch(BTree* tree, const std::map<std::string, std::string>& model,
                       const std::string& key, bool backward) {
  std::string v;
  Status s = tree->Get(key, &v);
  auto m = model.find(key);
  ASSERT_EQ(s.ok(), m != model.end()) << s.ToString();
  if (m != model.end()) {
    ASSERT_EQ(v, m->second);
  }
  auto it = tree->NewIterator();
  it->Seek(key);
  auto lb = model.lower_bound(key);
  ASSERT_EQ(it->Valid(), lb != model.end());
  if (lb != model.end()) {
    ASSERT_EQ(it->key(), lb->first);
  }
  if (!backward) return;
  it->SeekForPrev(key);
  auto ub = model.upper_bound(key);
  ASSERT_EQ(it->Valid(), ub != model.begin());
  if (ub != model.begin()) {
    ASSERT_EQ(it->key(), std::prev(ub)->first);
  }
}

void ExpectScansMatch(BTree* tree, const std::map<std::string, std::string>& model) {
  auto it = tree->NewIterator();
  auto m = model.begin();
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m, ++n) {
    ASSERT_NE(m, model.end()) << "extra key " << it->key().substr(0, 40);
    ASSERT_EQ(it->key(), m->first);
    ASSERT_EQ(it->value(), m->second) << "key " << m->first.substr(0, 40);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(n, model.size());
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
    ASSERT_NE(r, model.rend()) << "extra key " << it->key().substr(0, 40);
    ASSERT_EQ(it->key(), r->first);
    ASSERT_EQ(it->value(), r->second) << "key " << r->first.substr(0, 40);
  }
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  ASSERT_EQ(r, model.rend());
}

std::string TestCell(const std::string& key, bool leaf, uint32_t page_size,
                     std::string_view value, PageId child) {
  btree::KeyRef ref;
  ref.inline_key = key;
  ref.full_len = static_cast<uint32_t>(key.size());
  if (key.size() > btree::MaxInlineKey(page_size)) {
    ref.overflow = true;
    ref.inline_key = std::string_view(key).substr(0, btree::KeyPrefixLen(page_size));
    ref.blob = PageId{99};
  }
  std::string cell;
  if (leaf) {
    btree::EncodeLeafCell(ref, false, value, value.size(), PageId{}, &cell);
  } else {
    btree::EncodeInnerCell(ref, child, &cell);
  }
  return cell;
}

}  // namespace ringdb::test
