// DBImpl: the DB behind include/ringdb/db.h.
//
// Files in the database directory: ringdb.data (superblock, pages, page
// map), wal-<n>.log (the log since the last checkpoint) and LOCK (flock'd
// while open: exclusive for read-write, shared for read-only).
//
// Write path: a writer takes write_mu_, appends its batch to the log (one
// record of any size; its LSN orders it), applies it to the B+tree,
// releases write_mu_ and then waits in LogWriter::WriteTo (sync = false:
// the record reaches the kernel) or LogWriter::SyncTo (sync = true: also
// fdatasync), where concurrent writers share one write and one fdatasync
// (group commit). A concurrent reader may see a write just before its log
// record reaches the kernel (or the disk, for a sync write). Batches of more than
// one operation are applied under apply_mu_ exclusive, which point reads
// and iterator steps take shared, so no reader sees half a batch; single
// puts and deletes do not take it.
//
// Durability: recovery loads the last checkpoint (shadow paging keeps it
// intact, see page_store.h) and replays every log record after it. A
// checkpoint rotates the log to a new segment, flushes every dirty page,
// writes the page map and the superblock, then deletes older segments.
//
// Lock order: write_mu_ -> apply_mu_ -> page latches -> wal_mu_ (shared, in
// the pool's write gate) -> LogWriter's and the pool's internal mutexes.
// A checkpoint holds write_mu_ and briefly wal_mu_ exclusive to swap the
// log writer, never while holding a page latch.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "bufferpool/buffer_pool.h"
#include "engine/btree.h"
#include "engine/page_store.h"
#include "engine/superblock.h"
#include "engine/wal.h"
#include "io/io_backend.h"
#include "ringdb/db.h"

namespace ringdb {

inline constexpr const char* kDataFileName = "ringdb.data";
inline constexpr const char* kLockFileName = "LOCK";
// Present while a backup into the directory is incomplete (db_backup.cc).
inline constexpr const char* kBackupMarkerName = "BACKUP-INCOMPLETE";
// Log record types.
inline constexpr uint8_t kBatchRecord = 1;

// Opens `path` with a given io backend instead of the one Options names.
// For tests that inject faults (io::FaultBackend) or simulate power cuts;
// the caller may keep a pointer to the backend and use it after Close.
Status OpenWithBackend(const Options& options, const std::string& path,
                       std::shared_ptr<io::IoBackend> backend, std::unique_ptr<DB>* db);

class DBImpl final : public DB {
 public:
  DBImpl(const Options& options, std::string dir,
         std::shared_ptr<io::IoBackend> backend = nullptr);
  ~DBImpl() override;

  // Opens or creates the files and recovers. Called once by DB::Open.
  Status OpenOrCreate();

  Status Put(const WriteOptions& options, std::string_view key,
             std::string_view value) override;
  Status Delete(const WriteOptions& options, std::string_view key) override;
  Status Write(const WriteOptions& options, WriteBatch* batch) override;
  Status Get(const ReadOptions& options, std::string_view key, std::string* value) override;
  std::vector<Status> MultiGet(const ReadOptions& options,
                               const std::vector<std::string_view>& keys,
                               std::vector<std::string>* values) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  Status Checkpoint() override;
  Status Compact() override;
  Status Verify(std::string* report) override;
  bool GetProperty(std::string_view name, std::string* value) override;
  Status SetEvictionPolicy(std::string_view name) override;
  using DB::Backup;
  Status Backup(const std::string& dir, BackupInfo* info) override;
  Status Close() override;

  // For the iterator wrapper.
  std::shared_mutex& apply_mu() { return apply_mu_; }

 private:
  Status LockDirectory();
  Status CreateDatabase();
  Status OpenFiles();
  Status Recover(bool* replayed_any);
  Status CheckpointLocked();
  Status Apply(const WriteBatch& batch, Lsn lsn);
  // Hands the log up to `lsn` to the kernel, or makes it durable (sync).
  Status CommitLog(Lsn lsn, bool sync);
  Status GateWrite(Lsn lsn);
  void Log(const std::string& msg);
  Status CheckOpen() const;
  std::string StatsString();
  // Bytes the data file occupies on disk (0 when unknown).
  uint64_t DiskBytes();

  const Options options_;
  std::string dir_;
  std::unique_ptr<io::FileLock> lock_;  // the directory's lock file, held while open
  bool closed_ = false;
  bool opened_ = false;  // OpenOrCreate succeeded
  std::string notices_;  // fallbacks and degradations, one per line

  std::shared_ptr<io::IoBackend> io_;
  io::FileId data_file_;
  std::unique_ptr<PageStore> store_;
  std::unique_ptr<BufferPool> pool_;
  std::unique_ptr<BTree> tree_;
  Superblock sb_;  // guarded by write_mu_

  std::mutex write_mu_;
  std::shared_mutex apply_mu_;
  std::shared_mutex wal_mu_;  // guards wal_ (the pointer)
  std::shared_ptr<wal::LogWriter> wal_;
  std::unique_ptr<wal::LogBuffer> log_buffer_;  // reused by every segment's writer
  uint64_t segment_ = 0;      // guarded by write_mu_
  Status bg_error_;           // guarded by write_mu_: writes refused after it
  std::atomic<uint64_t> checkpoints_{0};
  // A backup is copying the last checkpoint's pages: checkpoints wait (the
  // automatic one is deferred, an explicit one returns Busy). Set and
  // cleared under write_mu_.
  bool backup_running_ = false;
  std::atomic<uint64_t> recovered_records_{0};
  uint64_t log_bytes_written_before_ = 0;  // from closed writers
  uint64_t log_syncs_before_ = 0;
  uint64_t log_group_commits_before_ = 0;
};

}  // namespace ringdb
