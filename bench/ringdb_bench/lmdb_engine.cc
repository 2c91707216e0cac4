// KvEngine over LMDB.
#include "lmdb_engine.h"

#ifdef RINGDB_BENCH_HAVE_LMDB

#include <lmdb.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

namespace ringdb_bench {
namespace {

constexpr size_t kMapSize = 64ull << 30;
constexpr unsigned kMaxReaders = 4096;  // each thread of each phase keeps one slot

EngineStatus Error(const char* what, int rc) {
  return EngineStatus::Error(std::string("lmdb ") + what + ": " + mdb_strerror(rc));
}

MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// Which open of which engine a thread's cached read transaction belongs to.
std::atomic<uint64_t> next_generation{1};

// A thread's read transaction and cursor, kept reset between reads. Owned
// by the engine (freed at Close, also for threads that have exited); the
// thread remembers which one is its own for which open.
struct Reader {
  MDB_txn* txn = nullptr;
  MDB_cursor* cursor = nullptr;
};
struct ThreadReader {
  uint64_t generation = 0;
  Reader* reader = nullptr;
};
thread_local ThreadReader tls_reader;

class LmdbEngine final : public KvEngine {
 public:
  ~LmdbEngine() override { (void)Close(); }

  std::string Name() const override { return "lmdb"; }
  std::string Kind() const override { return "lmdb"; }
  std::string Version() const override { return LmdbVersion(); }
  bool HasBudget() const override { return false; }
  // LMDB has no in-place compaction: pages freed by deletes go to its free
  // list and are reused by later writes, and the file never shrinks.
  // mdb_env_copy2(MDB_CP_COMPACT) writes a compacted copy to another path,
  // which is a backup, not a compaction of the open database.
  bool HasCompaction() const override { return false; }

  std::map<std::string, std::string> Describe() const override {
    return {
        {"cache", "none of its own: the kernel page cache (mmap, read-only map)"},
        {"env_flags", "MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOTLS"},
        {"sync_true", "mdb_env_sync(env, 1) after the commit"},
        {"map_size", std::to_string(kMapSize)},
        {"write_txn", "one per Put/Delete, one per batch"},
        {"multiget", "a loop of mdb_get in one read transaction"},
    };
  }

  EngineStatus Open(const EngineConfig& /*config: no budget*/, const std::string& dir) override {
    if (env_ != nullptr) return EngineStatus::Error("lmdb: already open");
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, kMapSize);
    if (rc == 0) rc = mdb_env_set_maxreaders(env_, kMaxReaders);
    // MDB_NOTLS: a read transaction is not bound to the thread's slot, so
    // the engine can free every thread's transaction at Close.
    if (rc == 0) rc = mdb_env_open(env_, dir.c_str(), MDB_NOSYNC | MDB_NOMETASYNC | MDB_NOTLS, 0644);
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);
      txn = nullptr;
    }
    if (rc != 0) {
      if (txn != nullptr) mdb_txn_abort(txn);
      mdb_env_close(env_);
      env_ = nullptr;
      return Error(("open " + dir).c_str(), rc);
    }
    generation_ = next_generation.fetch_add(1);
    return EngineStatus::OK();
  }

  EngineStatus Flush() override {
    if (env_ == nullptr) return EngineStatus::OK();
    int rc = mdb_env_sync(env_, 1);  // the page cache's dirty pages to the file
    return rc == 0 ? EngineStatus::OK() : Error("sync", rc);
  }

  // Nothing to do (HasCompaction() is false: the bench skips the phase).
  EngineStatus Compact() override { return EngineStatus::OK(); }

  // A read transaction: LMDB keeps the pages it sees (writers then take
  // fresh pages, and the file grows) until it ends.
  EngineStatus HoldSnapshot(bool hold) override {
    if (env_ == nullptr) return EngineStatus::Error("lmdb is not open");
    if (hold && snapshot_txn_ == nullptr) {
      int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &snapshot_txn_);
      if (rc != 0) {
        snapshot_txn_ = nullptr;
        return EngineStatus::Error(std::string("mdb_txn_begin: ") + mdb_strerror(rc));
      }
    }
    if (!hold && snapshot_txn_ != nullptr) {
      mdb_txn_abort(snapshot_txn_);
      snapshot_txn_ = nullptr;
    }
    return EngineStatus::OK();
  }

  EngineStatus Close() override {
    if (env_ == nullptr) return EngineStatus::OK();
    (void)HoldSnapshot(false);
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      for (const std::unique_ptr<Reader>& r : readers_) {
        if (r->cursor != nullptr) mdb_cursor_close(r->cursor);
        mdb_txn_abort(r->txn);
      }
      readers_.clear();
    }
    // Writes are in the page cache; make them durable before closing, as
    // the other engines flush or checkpoint at Close.
    int rc = mdb_env_sync(env_, 1);
    mdb_env_close(env_);
    env_ = nullptr;
    generation_ = 0;
    return rc == 0 ? EngineStatus::OK() : Error("sync at close", rc);
  }

  EngineStatus Destroy(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(dir) / "data.mdb", ec);
    std::filesystem::remove(std::filesystem::path(dir) / "lock.mdb", ec);
    return EngineStatus::OK();
  }

  EngineStatus Put(std::string_view key, std::string_view value, bool sync) override {
    return WriteTxn(sync, [&](MDB_txn* txn) {
      MDB_val k = ToVal(key), v = ToVal(value);
      int rc = mdb_put(txn, dbi_, &k, &v, 0);
      return rc == 0 ? EngineStatus::OK() : Error("put", rc);
    });
  }

  EngineStatus Delete(std::string_view key, bool sync) override {
    return WriteTxn(sync, [&](MDB_txn* txn) { return DeleteIn(txn, key); });
  }

  EngineStatus Write(const KvBatch& batch, bool sync) override {
    return WriteTxn(sync, [&](MDB_txn* txn) {
      for (const KvBatch::Op& op : batch.ops) {
        EngineStatus s;
        if (op.is_delete) {
          s = DeleteIn(txn, op.key);
        } else {
          MDB_val k = ToVal(op.key), v = ToVal(op.value);
          int rc = mdb_put(txn, dbi_, &k, &v, 0);
          if (rc != 0) s = Error("put", rc);
        }
        if (!s.ok()) return s;
      }
      return EngineStatus::OK();
    });
  }

  EngineStatus Get(std::string_view key, std::string* value) override {
    Reader* r;
    if (int rc = BeginRead(&r); rc != 0) return Error("read txn", rc);
    EngineStatus s = GetIn(r->txn, key, value);
    mdb_txn_reset(r->txn);
    return s;
  }

  void MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<EngineStatus>* statuses) override {
    values->resize(keys.size());
    statuses->resize(keys.size());
    Reader* r;
    if (int rc = BeginRead(&r); rc != 0) {
      for (EngineStatus& s : *statuses) s = Error("read txn", rc);
      return;
    }
    for (size_t i = 0; i < keys.size(); i++) (*statuses)[i] = GetIn(r->txn, keys[i], &(*values)[i]);
    mdb_txn_reset(r->txn);
  }

  EngineStatus Scan(std::string_view start, size_t count, size_t* visited, size_t* bytes,
                    std::string* last_key) override {
    *visited = 0;
    *bytes = 0;
    Reader* r;
    if (int rc = BeginRead(&r); rc != 0) return Error("read txn", rc);
    int rc = r->cursor == nullptr ? mdb_cursor_open(r->txn, dbi_, &r->cursor)
                                  : mdb_cursor_renew(r->txn, r->cursor);
    size_t n = 0, b = 0;
    MDB_val k = ToVal(start), v;
    if (rc == 0) rc = mdb_cursor_get(r->cursor, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && n < count) {
      b += k.mv_size + v.mv_size;
      n++;
      if (last_key != nullptr && n == count) last_key->assign(FromVal(k));
      if (n < count) rc = mdb_cursor_get(r->cursor, &k, &v, MDB_NEXT);
    }
    mdb_txn_reset(r->txn);
    *visited = n;
    *bytes = b;
    return rc == 0 || rc == MDB_NOTFOUND ? EngineStatus::OK() : Error("scan", rc);
  }

  EngineStats Stats() override {
    EngineStats stats;
    if (env_ == nullptr) return stats;
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(env_, &info) == 0 && mdb_env_stat(env_, &st) == 0) {
      stats.numbers["lmdb.depth"] = st.ms_depth;
      stats.numbers["lmdb.branch_pages"] = static_cast<double>(st.ms_branch_pages);
      stats.numbers["lmdb.leaf_pages"] = static_cast<double>(st.ms_leaf_pages);
      stats.numbers["lmdb.overflow_pages"] = static_cast<double>(st.ms_overflow_pages);
      stats.numbers["lmdb.entries"] = static_cast<double>(st.ms_entries);
      stats.numbers["lmdb.used_bytes"] =
          static_cast<double>(info.me_last_pgno + 1) * static_cast<double>(st.ms_psize);
    }
    return stats;
  }

 private:
  template <typename Fn>
  EngineStatus WriteTxn(bool sync, Fn&& fn) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);  // waits for the one writer
    if (rc != 0) return Error("write txn", rc);
    EngineStatus s = fn(txn);
    if (!s.ok()) {
      mdb_txn_abort(txn);
      return s;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) return Error("commit", rc);
    if (sync && (rc = mdb_env_sync(env_, 1)) != 0) return Error("sync", rc);
    return EngineStatus::OK();
  }

  EngineStatus DeleteIn(MDB_txn* txn, std::string_view key) {
    MDB_val k = ToVal(key);
    int rc = mdb_del(txn, dbi_, &k, nullptr);
    return rc == 0 || rc == MDB_NOTFOUND ? EngineStatus::OK() : Error("del", rc);
  }

  EngineStatus GetIn(MDB_txn* txn, std::string_view key, std::string* value) {
    MDB_val k = ToVal(key), v;
    int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return EngineStatus::NotFound();
    if (rc != 0) return Error("get", rc);
    value->assign(FromVal(v));
    return EngineStatus::OK();
  }

  // This thread's read transaction, renewed (or created on the thread's
  // first read since Open). The caller resets it when done.
  int BeginRead(Reader** out) {
    ThreadReader& t = tls_reader;
    if (t.generation == generation_) {
      *out = t.reader;
      return mdb_txn_renew(t.reader->txn);
    }
    auto r = std::make_unique<Reader>();
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &r->txn);
    if (rc != 0) return rc;
    t.generation = generation_;
    t.reader = r.get();
    *out = r.get();
    std::lock_guard<std::mutex> lock(readers_mu_);
    readers_.push_back(std::move(r));
    return 0;
  }

  MDB_env* env_ = nullptr;
  MDB_txn* snapshot_txn_ = nullptr;  // HoldSnapshot
  MDB_dbi dbi_ = 0;
  uint64_t generation_ = 0;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;  // every thread's, for Close
};

}  // namespace

bool HaveLmdb() { return true; }

std::unique_ptr<KvEngine> NewLmdbEngine() { return std::make_unique<LmdbEngine>(); }

std::string LmdbVersion() {
  int major = 0, minor = 0, patch = 0;
  mdb_version(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace ringdb_bench

#else  // !RINGDB_BENCH_HAVE_LMDB

namespace ringdb_bench {
bool HaveLmdb() { return false; }
std::unique_ptr<KvEngine> NewLmdbEngine() { return nullptr; }
std::string LmdbVersion() { return ""; }
}  // namespace ringdb_bench

#endif
