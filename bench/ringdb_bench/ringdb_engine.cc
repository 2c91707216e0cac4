// KvEngine over ringdb. Uses the public headers only.
#include "ringdb_engine.h"

#include <cstdlib>
#include <string_view>

#include "ringdb/db.h"
#include "ringdb/eviction_policy.h"
#include "ringdb/iterator.h"
#include "ringdb/options.h"
#include "ringdb/status.h"
#include "ringdb/write_batch.h"

namespace ringdb_bench {
namespace {

EngineStatus Convert(const ringdb::Status& s) {
  if (s.ok()) return EngineStatus::OK();
  if (s.IsNotFound()) return EngineStatus::NotFound();
  return EngineStatus::Error(s.ToString());
}

class RingdbEngine final : public KvEngine {
 public:
  // delete_buffer_bytes: Options::delete_buffer_bytes (UINT64_MAX: the default).
  RingdbEngine(ringdb::IoBackendKind backend, std::string backend_name, std::string policy,
               uint64_t delete_buffer_bytes, double row_cache_fraction)
      : backend_(backend),
        backend_name_(std::move(backend_name)),
        policy_(std::move(policy)),
        delete_buffer_bytes_(delete_buffer_bytes),
        row_cache_fraction_(row_cache_fraction) {}
  ~RingdbEngine() override { (void)Close(); }

  std::string Name() const override { return "ringdb[" + backend_name_ + "," + policy_ + "]"; }
  std::string Kind() const override { return "ringdb"; }
  std::string Version() const override { return ringdb::Version(); }

  std::map<std::string, std::string> Describe() const override {
    return {{"io_backend", backend_name_},
            {"eviction_policy", policy_},
            {"buffer_pool_bytes", std::to_string(options_.buffer_pool_bytes)},
            {"page_size", std::to_string(options_.page_size)},
            {"delete_buffer_bytes",
             delete_buffer_bytes_ == ringdb::Options::kAutoDeleteBufferBytes
                 ? "default (a quarter of the budget)"
                 : std::to_string(delete_buffer_bytes_)},
            {"row_cache_bytes",
             row_cache_fraction_ < 0
                 ? std::string("auto (the engine splits the budget with the pool)")
                 : std::to_string(options_.row_cache_bytes) + " (taken out of the budget)"},
            {"wal", "on (always)"}};
  }

  EngineStatus Open(const EngineConfig& config, const std::string& dir) override {
    options_ = ringdb::Options();
    options_.create_if_missing = true;
    // One budget: the row cache's share comes out of the pool.
    // A negative share: the adaptive split, inside the pool's budget.
    options_.row_cache_bytes =
        row_cache_fraction_ < 0
            ? ringdb::Options::kAutoRowCacheBytes
            : static_cast<uint64_t>(static_cast<double>(config.cache_bytes) * row_cache_fraction_);
    options_.buffer_pool_bytes =
        config.cache_bytes - (row_cache_fraction_ < 0 ? 0 : options_.row_cache_bytes);
    // The delete buffer's default is a quarter of the pool; with a row
    // cache it stays a quarter of the whole budget, so the row cache's
    // share does not shrink it.
    options_.delete_buffer_bytes =
        delete_buffer_bytes_ == ringdb::Options::kAutoDeleteBufferBytes && row_cache_fraction_ > 0
            ? config.cache_bytes / 4
            : delete_buffer_bytes_;
    options_.eviction_policy = policy_;
    options_.io_backend = backend_;
    // Fallback notices go to stderr once each; keep them visible.
    ringdb::Status s = ringdb::DB::Open(options_, dir, &db_);
    if (!s.ok()) return EngineStatus::Error("ringdb open " + dir + ": " + s.ToString());
    return EngineStatus::OK();
  }

  EngineStatus Close() override {
    if (!db_) return EngineStatus::OK();
    (void)HoldSnapshot(false);
    ringdb::Status s = db_->Close();
    db_.reset();
    return Convert(s);
  }

  // As RocksDB's Flush waits for the compactions its writes started, this
  // runs at once the compaction ringdb's idle compactor would start once
  // the writes stop (Options::idle_compact_ms): when the sampled leaf fill
  // is below Options::idle_compact_fill (a load of random keys), it packs
  // the leaves and shrinks the file.
  EngineStatus Flush() override {
    if (!db_) return EngineStatus::OK();
    ringdb::Status s = db_->Checkpoint();  // every dirty page, then the page map
    if (s.ok()) s = db_->CompactIfSparse();
    return Convert(s);
  }

  EngineStatus Compact() override {
    if (!db_) return EngineStatus::Error("ringdb is not open");
    return Convert(db_->Compact());  // synchronous: returns after its last checkpoint
  }

  EngineStatus Destroy(const std::string& dir) override {
    return Convert(ringdb::DestroyDB(dir));
  }

  EngineStatus Put(std::string_view key, std::string_view value, bool sync) override {
    ringdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Put(wo, key, value));
  }

  EngineStatus Delete(std::string_view key, bool sync) override {
    ringdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Delete(wo, key));
  }

  EngineStatus Write(const KvBatch& batch, bool sync) override {
    ringdb::WriteBatch wb;
    for (const KvBatch::Op& op : batch.ops) {
      if (op.is_delete) {
        wb.Delete(op.key);
      } else {
        wb.Put(op.key, op.value);
      }
    }
    ringdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Write(wo, &wb));
  }

  EngineStatus Get(std::string_view key, std::string* value) override {
    return Convert(db_->Get(ringdb::ReadOptions(), key, value));
  }

  void MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<EngineStatus>* statuses) override {
    std::vector<ringdb::Status> st = db_->MultiGet(ringdb::ReadOptions(), keys, values);
    statuses->resize(keys.size());
    for (size_t i = 0; i < keys.size(); i++) {
      (*statuses)[i] = i < st.size() ? Convert(st[i])
                                     : EngineStatus::Error("ringdb MultiGet: short result");
    }
  }

  EngineStatus Scan(std::string_view start, size_t count, size_t* visited,
                    size_t* bytes, std::string* last_key) override {
    std::unique_ptr<ringdb::Iterator> it = db_->NewIterator(ringdb::ReadOptions());
    ScanWithIterator(it.get(), start, count, visited, bytes, last_key);
    return Convert(it->status());
  }

  EngineStats Stats() override {
    EngineStats stats;
    if (!db_) return stats;
    // Property names may still change: read what exists, skip the rest.
    auto number = [&](const char* prop, const char* key) {
      std::string v;
      if (!db_->GetProperty(prop, &v)) return;
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end != v.c_str()) stats.numbers[key] = d;
    };
    number("ringdb.pool.hits", "cache.hits");
    number("ringdb.pool.misses", "cache.misses");
    number("ringdb.pool.hit_ratio", "cache.hit_ratio");
    number("ringdb.io.bytes_read", "engine.bytes_read");
    number("ringdb.io.bytes_written", "engine.bytes_written");
    number("ringdb.log.syncs", "log.syncs");
    std::string v;
    if (db_->GetProperty("ringdb.io.backend", &v)) stats.text["io_backend"] = v;
    // Every other property the engine lists, under its own name, so the
    // JSON keeps whatever the engine reports even after renames.
    std::string names;
    if (db_->GetProperty("ringdb.properties", &names)) {
      for (char& c : names) {
        if (c == ',' || c == '\n' || c == '\t') c = ' ';
      }
      size_t pos = 0;
      while (pos < names.size()) {
        size_t end = names.find(' ', pos);
        if (end == std::string::npos) end = names.size();
        std::string name = names.substr(pos, end - pos);
        pos = end + 1;
        if (name.empty() || name == "ringdb.stats" || name == "ringdb.properties") continue;
        // Walks of the tree (every leaf): they would read the data into the
        // pool just before the phase they are measured for, and count in
        // its hits, misses and miss-ratio curve.
        if (name == "ringdb.btree.fill" || name == "ringdb.btree.fill-summary" ||
            name == "ringdb.estimate-num-keys") {
          continue;
        }
        if (!db_->GetProperty(name, &v) || v.size() > 200) continue;
        char* num_end = nullptr;
        double d = std::strtod(v.c_str(), &num_end);
        if (num_end != v.c_str() && *num_end == '\0') {
          stats.numbers[name] = d;
        } else {
          stats.text[name] = v;
        }
      }
    }
    return stats;
  }

  bool Property(const std::string& name, std::string* value) override {
    return db_ != nullptr && db_->GetProperty(name, value);
  }

  EngineStatus HoldSnapshot(bool hold) override {
    if (!db_) return EngineStatus::Error("ringdb is not open");
    if (hold && snapshot_ == nullptr) snapshot_ = db_->GetSnapshot();
    if (!hold && snapshot_ != nullptr) {
      db_->ReleaseSnapshot(snapshot_);
      snapshot_ = nullptr;
    }
    return EngineStatus::OK();
  }

 private:
  const ringdb::Snapshot* snapshot_ = nullptr;  // HoldSnapshot
  const ringdb::IoBackendKind backend_;
  const std::string backend_name_;
  const std::string policy_;
  ringdb::Options options_;
  const uint64_t delete_buffer_bytes_;
  const double row_cache_fraction_;
  std::unique_ptr<ringdb::DB> db_;
};

}  // namespace

std::unique_ptr<KvEngine> NewRingdbEngine(const std::string& io_backend,
                                          const std::string& policy,
                                          uint64_t delete_buffer_bytes,
                                          double row_cache_fraction, std::string* error) {
  ringdb::IoBackendKind kind;
  if (io_backend == "io_uring") {
    kind = ringdb::IoBackendKind::kIoUring;
  } else if (io_backend == "pread") {
    kind = ringdb::IoBackendKind::kPread;
  } else if (io_backend == "buffered") {
    kind = ringdb::IoBackendKind::kBuffered;
  } else {
    *error = "unknown --io_backends entry '" + io_backend + "' (io_uring, pread, buffered)";
    return nullptr;
  }
  if (ringdb::NewEvictionPolicy(policy) == nullptr) {
    std::string names;
    for (const std::string& n : ringdb::EvictionPolicyNames()) names += (names.empty() ? "" : ", ") + n;
    *error = "unknown --policies entry '" + policy + "' (" + names + ")";
    return nullptr;
  }
  return std::make_unique<RingdbEngine>(kind, io_backend, policy, delete_buffer_bytes,
                                        row_cache_fraction);
}

std::string RingdbVersion() { return ringdb::Version(); }

}  // namespace ringdb_bench
