// KvEngine over RocksDB.
#include "rocksdb_engine.h"

#include <chrono>
#include <thread>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

namespace ringdb_bench {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

EngineStatus Convert(const rocksdb::Status& s) {
  if (s.ok()) return EngineStatus::OK();
  if (s.IsNotFound()) return EngineStatus::NotFound();
  return EngineStatus::Error(s.ToString());
}

class RocksDbEngine final : public KvEngine {
 public:
  explicit RocksDbEngine(const RocksDbSettings& settings) : settings_(settings) {}
  ~RocksDbEngine() override { (void)Close(); }

  std::string Name() const override {
    return settings_.buffered ? "rocksdb[buffered]" : "rocksdb[direct]";
  }
  std::string Kind() const override { return "rocksdb"; }
  std::string Version() const override { return RocksDbVersion(); }

  std::map<std::string, std::string> Describe() const override {
    size_t memtables = settings_.write_buffer_size * settings_.max_write_buffer_number;
    return {
        {"block_cache_bytes", std::to_string(cache_bytes_ - row_cache_bytes_)},
        {"block_cache", "LRUCache, cache_index_and_filter_blocks=true, with high priority"},
        {"index", settings_.partitioned_index
                      ? "kTwoLevelIndexSearch, partition_filters, pin_top_level_index_and_filter"
                      : "kBinarySearch (one block per file)"},
        {"filter", "bloom 10 bits/key"},
        {"compression", "kNoCompression at every level"},
        {"use_direct_reads", settings_.buffered ? "false" : "true"},
        {"use_direct_io_for_flush_and_compaction", settings_.buffered ? "false" : "true"},
        {"write_buffer_size", std::to_string(settings_.write_buffer_size)},
        {"max_write_buffer_number", std::to_string(settings_.max_write_buffer_number)},
        {"memtable_bytes_max_beyond_budget", std::to_string(memtables)},
        {"max_background_jobs", std::to_string(settings_.max_background_jobs)},
        {"wal", "on"},
        {"block_size", "4096"},
        {"row_cache_bytes", std::to_string(row_cache_bytes_) + " (taken out of the budget)"},
    };
  }

  EngineStatus Open(const EngineConfig& config, const std::string& dir) override {
    cache_bytes_ = config.cache_bytes;
    rocksdb::Options options;
    options.create_if_missing = true;
    options.compression = rocksdb::kNoCompression;
    options.bottommost_compression = rocksdb::kNoCompression;
    options.compression_per_level.assign(options.num_levels, rocksdb::kNoCompression);
    options.write_buffer_size = settings_.write_buffer_size;
    options.max_write_buffer_number = settings_.max_write_buffer_number;
    options.max_background_jobs = settings_.max_background_jobs;
    options.use_direct_reads = !settings_.buffered;
    options.use_direct_io_for_flush_and_compaction = !settings_.buffered;
    options.statistics = rocksdb::CreateDBStatistics();
    options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
    statistics_ = options.statistics;

    rocksdb::BlockBasedTableOptions table;
    rocksdb::LRUCacheOptions cache_options;
    const size_t row_bytes =
        static_cast<size_t>(static_cast<double>(config.cache_bytes) * settings_.row_cache_fraction);
    cache_options.capacity = config.cache_bytes - row_bytes;
    if (row_bytes > 0) options.row_cache = rocksdb::NewLRUCache(row_bytes);
    row_cache_bytes_ = row_bytes;
    cache_options.high_pri_pool_ratio = 0.5;
    table.block_cache = rocksdb::NewLRUCache(cache_options);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    if (settings_.partitioned_index) {
      table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
      table.partition_filters = true;
      table.pin_top_level_index_and_filter = true;
      table.metadata_block_size = 4096;
    }
    table.block_size = 4096;
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options_ = options;

    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, dir, &db);
    if (!s.ok()) return EngineStatus::Error("rocksdb open " + dir + ": " + s.ToString());
    db_.reset(db);
    return EngineStatus::OK();
  }

  EngineStatus Flush() override {
    if (!db_) return EngineStatus::OK();
    rocksdb::FlushOptions fo;
    fo.wait = true;
    rocksdb::Status s = db_->Flush(fo);
    if (!s.ok()) return Convert(s);
    WaitForBackgroundWork();
    return EngineStatus::OK();
  }

  // Every level into the bottommost one: CompactRange flushes the memtable
  // first and returns when its own compactions are done; then, as in
  // Flush, until nothing else runs. kForceOptimized rewrites the bottommost
  // level's files too, but not the ones this compaction has just written.
  EngineStatus Compact() override {
    if (!db_) return EngineStatus::Error("rocksdb is not open");
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    rocksdb::Status s = db_->CompactRange(co, nullptr, nullptr);
    if (!s.ok()) return Convert(s);
    WaitForBackgroundWork();
    return EngineStatus::OK();
  }

  EngineStatus HoldSnapshot(bool hold) override {
    if (!db_) return EngineStatus::Error("rocksdb is not open");
    if (hold && snapshot_ == nullptr) snapshot_ = db_->GetSnapshot();
    if (!hold && snapshot_ != nullptr) {
      db_->ReleaseSnapshot(snapshot_);
      snapshot_ = nullptr;
    }
    return EngineStatus::OK();
  }

  EngineStatus Close() override {
    if (!db_) return EngineStatus::OK();
    (void)HoldSnapshot(false);
    // Flush the memtable so the data reaches the files (and is counted in
    // the device bytes written) before Close, as ringdb checkpoints on Close.
    rocksdb::Status s = db_->Flush(rocksdb::FlushOptions());
    rocksdb::Status c = db_->Close();
    db_.reset();
    if (!s.ok()) return Convert(s);
    return Convert(c);
  }

  EngineStatus Destroy(const std::string& dir) override {
    return Convert(rocksdb::DestroyDB(dir, options_));
  }

  EngineStatus Put(std::string_view key, std::string_view value, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Put(wo, ToSlice(key), ToSlice(value)));
  }

  EngineStatus Delete(std::string_view key, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Delete(wo, ToSlice(key)));
  }

  EngineStatus Write(const KvBatch& batch, bool sync) override {
    rocksdb::WriteBatch wb;
    for (const KvBatch::Op& op : batch.ops) {
      rocksdb::Status s = op.is_delete ? wb.Delete(op.key) : wb.Put(op.key, op.value);
      if (!s.ok()) return Convert(s);
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return Convert(db_->Write(wo, &wb));
  }

  EngineStatus Get(std::string_view key, std::string* value) override {
    return Convert(db_->Get(rocksdb::ReadOptions(), ToSlice(key), value));
  }

  void MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<EngineStatus>* statuses) override {
    const size_t n = keys.size();
    std::vector<rocksdb::Slice> slices(n);
    for (size_t i = 0; i < n; i++) slices[i] = ToSlice(keys[i]);
    std::vector<rocksdb::PinnableSlice> pinned(n);
    std::vector<rocksdb::Status> st(n);
    // The batched MultiGet (one call, reads issued together where RocksDB
    // can), the counterpart of ringdb's.
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, slices.data(),
                  pinned.data(), st.data());
    values->resize(n);
    statuses->resize(n);
    for (size_t i = 0; i < n; i++) {
      (*statuses)[i] = Convert(st[i]);
      if (st[i].ok()) (*values)[i].assign(pinned[i].data(), pinned[i].size());
    }
  }

  EngineStatus Scan(std::string_view start, size_t count, size_t* visited,
                    size_t* bytes, std::string* last_key) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    ScanWithIterator(it.get(), ToSlice(start), count, visited, bytes, last_key);
    return Convert(it->status());
  }

  EngineStats Stats() override {
    EngineStats stats;
    if (!db_) return stats;
    if (statistics_) {
      stats.numbers["cache.hits"] =
          static_cast<double>(statistics_->getTickerCount(rocksdb::BLOCK_CACHE_HIT));
      stats.numbers["cache.misses"] =
          static_cast<double>(statistics_->getTickerCount(rocksdb::BLOCK_CACHE_MISS));
      stats.numbers["engine.bytes_read"] =
          static_cast<double>(statistics_->getTickerCount(rocksdb::BYTES_READ));
      stats.numbers["engine.bytes_written"] =
          static_cast<double>(statistics_->getTickerCount(rocksdb::BYTES_WRITTEN));
      stats.numbers["wal.syncs"] =
          static_cast<double>(statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED));
    }
    uint64_t v = 0;
    if (db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) {
      stats.numbers["memtable.bytes"] = static_cast<double>(v);
    }
    if (db_->GetIntProperty(rocksdb::DB::Properties::kBlockCacheUsage, &v)) {
      stats.numbers["block_cache.usage"] = static_cast<double>(v);
    }
    if (db_->GetIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &v)) {
      stats.numbers["table_readers.bytes"] = static_cast<double>(v);
    }
    return stats;
  }

 private:
  // RocksDB 7.8 has no WaitForCompact: polls until no flush or compaction
  // runs or is pending (at most a minute).
  void WaitForBackgroundWork() {
    for (int i = 0; i < 6000; i++) {
      uint64_t pending = 0, compactions = 0, flushes = 0;
      db_->GetIntProperty("rocksdb.compaction-pending", &pending);
      db_->GetIntProperty("rocksdb.num-running-compactions", &compactions);
      db_->GetIntProperty("rocksdb.num-running-flushes", &flushes);
      if (pending == 0 && compactions == 0 && flushes == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  const RocksDbSettings settings_;
  size_t cache_bytes_ = 0;
  size_t row_cache_bytes_ = 0;  // of cache_bytes_
  rocksdb::Options options_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::unique_ptr<rocksdb::DB> db_;
  const rocksdb::Snapshot* snapshot_ = nullptr;  // HoldSnapshot
};

}  // namespace

std::unique_ptr<KvEngine> NewRocksDbEngine(const RocksDbSettings& settings) {
  return std::make_unique<RocksDbEngine>(settings);
}

std::string RocksDbVersion() {
  return std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
         std::to_string(ROCKSDB_PATCH);
}

}  // namespace ringdb_bench
