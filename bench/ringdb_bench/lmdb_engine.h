// LmdbEngine: the KvEngine adapter over LMDB (Debian liblmdb-dev), the
// in-memory ceiling beside ringdb and RocksDB. Built only when LMDB is
// found (RINGDB_BENCH_HAVE_LMDB); see NewLmdbEngine.
#pragma once

#include <memory>
#include <string>

#include "kv_engine.h"

namespace ringdb_bench {

// True when the bench was built with LMDB.
bool HaveLmdb();

// LMDB as shipped (no MDB_WRITEMAP, default read-ahead), one named
// database, a 64 GiB map (address space only; the file grows as used).
// It has no cache of its own: every read goes through the kernel page
// cache, so EngineConfig::cache_bytes is ignored and HasBudget() is
// false. Durability per write, matching ringdb and RocksDB: the
// environment is opened with MDB_NOSYNC | MDB_NOMETASYNC, so a commit
// writes its pages into the page cache (survives a process crash, like
// their sync = false); a write with sync = true is followed by
// mdb_env_sync(force), which fdatasyncs data and meta page (survives a
// machine crash, like LMDB's default durable commit). One write
// transaction per Put/Delete and one per KvBatch, as the other engines do
// one log write per call. Reads use one read-only transaction per Get,
// MultiGet batch or Scan, reset and renewed per thread (no allocation per
// read). Returns nullptr when the bench was built without LMDB.
std::unique_ptr<KvEngine> NewLmdbEngine();

// mdb_version() as "MAJOR.MINOR.PATCH", or "" without LMDB.
std::string LmdbVersion();

}  // namespace ringdb_bench
