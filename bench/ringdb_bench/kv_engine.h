// KvEngine: the small interface ringdb_bench drives, so that every workload
// runs unchanged against ringdb, RocksDB or a third engine.
//
// An adapter wraps one embedded key-value store. The bench opens it, runs a
// sequence of workloads against it and closes it before the next engine is
// opened (one engine open per process at a time).
//
// Thread-safety: after Open returns and until Close is called, Put, Get,
// Delete, Write, MultiGet and Scan may be called from many threads at once.
// Open, Close, Flush, Stats and Property are called from the main thread
// only, with no operation in flight; Compact from one thread (the compact
// phase's), with no other operation in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringdb_bench {

// The result of one engine call. OK and NotFound carry no message (free to
// construct); an error carries the engine's own text.
class EngineStatus {
 public:
  enum class Code : uint8_t { kOk, kNotFound, kError };

  EngineStatus() = default;
  static EngineStatus OK() { return EngineStatus(); }
  static EngineStatus NotFound() { return EngineStatus(Code::kNotFound, {}); }
  static EngineStatus Error(std::string msg) {
    return EngineStatus(Code::kError, std::move(msg));
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsError() const { return code_ == Code::kError; }
  const std::string& message() const { return msg_; }

 private:
  EngineStatus(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

// What every engine is given at Open: the same for all engines of a run.
struct EngineConfig {
  // The memory budget for cached data: ringdb's buffer pool, RocksDB's block
  // cache (which then also holds index and filter blocks).
  size_t cache_bytes = 0;
};

// A group of puts and deletes applied atomically.
struct KvBatch {
  struct Op {
    bool is_delete = false;
    std::string key;
    std::string value;
  };
  std::vector<Op> ops;
};

// Counters and facts an engine reports about itself. Numbers that only grow
// (hits, bytes) are cumulative since Open; the bench subtracts snapshots.
// Well-known keys: "cache.hits", "cache.misses" (lookups in the engine's
// own cache), "engine.bytes_read", "engine.bytes_written" (as the engine
// counts them), "memtable.bytes".
struct EngineStats {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> text;
};

class KvEngine {
 public:
  virtual ~KvEngine() = default;

  // A stable row label naming the engine and its variant, e.g.
  // "ringdb[io_uring,clock]". Unique within a run.
  virtual std::string Name() const = 0;
  // The engine family: "ringdb", "rocksdb", "lmdb".
  virtual std::string Kind() const = 0;
  // False for an engine without a memory budget of its own (LMDB reads
  // through the kernel page cache): the bench then skips its @disk phases,
  // which are defined by the budget, and reports its page-cache growth.
  virtual bool HasBudget() const { return true; }
  // False for an engine that cannot compact its database in place (LMDB):
  // the bench then skips its compact phase rather than time a no-op.
  virtual bool HasCompaction() const { return true; }
  // The engine's version string.
  virtual std::string Version() const = 0;
  // The options the engine was configured with, for the JSON report.
  virtual std::map<std::string, std::string> Describe() const = 0;

  // Opens (creating if missing) the database in directory `dir`.
  virtual EngineStatus Open(const EngineConfig& config, const std::string& dir) = 0;
  // Flushes and releases everything Open acquired. Idempotent.
  virtual EngineStatus Close() = 0;
  // Writes what earlier writes left in memory (memtables, dirty pages) to
  // the files and waits for the background work they started (RocksDB:
  // the flush and the compactions it triggers), so that a phase's device
  // bytes include what it deferred. No operation may be in flight.
  virtual EngineStatus Flush() = 0;
  // Compacts the whole database once and returns when that is finished,
  // background work included (ringdb: DB::Compact, which packs leaves,
  // moves live pages down and cuts the end of the file off; RocksDB:
  // CompactRange over every key, bottommost level included, then waits as
  // Flush does). Keys and values do not change. An engine whose
  // HasCompaction() is false returns OK and changes nothing.
  virtual EngineStatus Compact() = 0;
  // Removes the database in `dir` (the engine must be closed).
  virtual EngineStatus Destroy(const std::string& dir) = 0;

  // `sync`: the write is durable when the call returns.
  virtual EngineStatus Put(std::string_view key, std::string_view value, bool sync) = 0;
  virtual EngineStatus Delete(std::string_view key, bool sync) = 0;
  virtual EngineStatus Write(const KvBatch& batch, bool sync) = 0;

  // A missing key gives IsNotFound().
  virtual EngineStatus Get(std::string_view key, std::string* value) = 0;
  // Resizes *values and *statuses to keys.size().
  virtual void MultiGet(const std::vector<std::string_view>& keys,
                        std::vector<std::string>* values,
                        std::vector<EngineStatus>* statuses) = 0;
  // Seeks to the first key >= `start` and steps on from it (fewer at
  // the end of the data): `count` entries in all, each key and value
  // touched. Stores the number of entries visited in *visited, their total
  // size in *bytes and, when last_key is not null and `count` entries were
  // visited, the last of them (fewer means the end of the data was reached).
  virtual EngineStatus Scan(std::string_view start, size_t count, size_t* visited,
                            size_t* bytes, std::string* last_key) = 0;

  virtual EngineStats Stats() = 0;
  // Takes (hold) or releases (!hold) one snapshot of the whole database,
  // held by the bench while a phase runs (--hold_snapshot): ringdb's and
  // RocksDB's GetSnapshot, an LMDB read transaction. Main thread only.
  virtual EngineStatus HoldSnapshot(bool hold) {
    (void)hold;
    return EngineStatus::Error(Kind() + " has no snapshots in this bench");
  }
  // The text of the engine's property `name` (ringdb: DB::GetProperty),
  // for long values Stats() leaves out (e.g. ringdb.cache.mrc). False when
  // the engine has no such property.
  virtual bool Property(const std::string& name, std::string* value) {
    (void)name;
    (void)value;
    return false;
  }
};

// KvEngine::Scan for an engine whose iterator has Seek, Valid, Next, key()
// and value() (ringdb, RocksDB): the loop both adapters share. `start` is
// the key in the iterator's own type; the caller reports it->status().
template <typename Iter, typename Key>
void ScanWithIterator(Iter* it, const Key& start, size_t count, size_t* visited, size_t* bytes,
                      std::string* last_key) {
  size_t n = 0, b = 0;
  for (it->Seek(start); it->Valid() && n < count; it->Next()) {
    b += it->key().size() + it->value().size();
    n++;
    if (last_key != nullptr && n == count) last_key->assign(it->key().data(), it->key().size());
  }
  *visited = n;
  *bytes = b;
}

}  // namespace ringdb_bench
