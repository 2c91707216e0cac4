// DBImpl: the DB behind include/ringdb/db.h.
//
// Files in the database directory: ringdb.data (superblock, pages, page
// map), wal-<n>.log (the log since the last checkpoint), LOCK (flock'd
// while open: exclusive for read-write, shared for read-only) and READERS.
//
// Readers beside a writer (db_readers.cc): a read-only open that finds LOCK
// held exclusively does not wait for it. It takes READERS shared instead
// and reads the newest checkpoint (the log is not replayed, so it sees the
// database as of that checkpoint, and says so). The writer keeps that
// checkpoint's pages intact for as long as the reader stays: shadow paging
// never overwrites the pages of the last checkpoint, and each checkpoint
// probes READERS (exclusive, without waiting) to learn whether the slots
// only older checkpoints use may be handed out again (PageStore's reuse
// gate; held slots make the file grow meanwhile).
//
// Write path: a writer takes write_mu_, appends its batch to the log (one
// record of any size; its LSN orders it), applies it to the B+tree,
// releases write_mu_ and then waits in LogWriter::WriteTo (sync = false:
// the record reaches the kernel) or LogWriter::SyncTo (sync = true: also
// fdatasync), where concurrent writers share one write and one fdatasync
// (group commit). A concurrent reader may see a write just before its log
// record reaches the kernel (or the disk, for a sync write). Batches of more
// than one operation are applied between BTree::BeginBatch and EndBatch, so
// no reader sees half a batch (readers take no lock for it: see btree.h);
// single puts and deletes need no bracket.
//
// Durability: recovery loads the last checkpoint (shadow paging keeps it
// intact, see page_store.h) and replays every log record after it. A
// checkpoint rotates the log to a new segment, flushes every dirty page,
// writes the page map and the superblock, then deletes older segments.
//
// Write errors (db_resume.cc): a failed write sets the background error
// with a severity. Soft (no space, an I/O error on the log, a checkpoint or
// a write-back; nothing half-applied): writes are refused until Resume(),
// which replaces a failed log writer (the failed segment is cut back to its
// last whole record written, the new one continues from there) and
// checkpoints, so the tree, which holds every batch that was applied whole,
// becomes durable. Hard (a batch failed after part of it changed the tree):
// refused until reopen. The auto-resume thread calls Resume with backoff.
//
// Snapshots (version_store.h): under write_mu_, before a batch is logged,
// the writer reads the values its keys hold (when a snapshot is open) and,
// once the batch has its LSN, saves them in versions_ before changing the
// tree. Readers at a snapshot read the tree, then versions_.
//
// Buffered deletes (delete_buffer.h): a single delete whose leaf is not
// cached is logged and kept in deletes_ instead of the tree; readers look
// there before the tree; checkpoints (and a full buffer) apply them.
//
// Row cache (row_cache.h): Get without a snapshot looks there first and
// fills it from the tree; a writer drops each key of its batch from it
// before changing the tree and refuses fills until it is done.
//
// Lock order: write_mu_ -> the tree's batch mutex -> page latches -> wal_mu_ (shared, in
// the pool's write gate) -> LogWriter's and the pool's internal mutexes.
// A checkpoint holds write_mu_ and briefly wal_mu_ exclusive to swap the
// log writer, never while holding a page latch. error_mu_, and the mutexes
// inside deletes_, rows_ and versions_, are leaves: taken under any of them (or
// none), with nothing taken under them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "bufferpool/buffer_pool.h"
#include "bufferpool/striped_counter.h"
#include "engine/btree.h"
#include "engine/delete_buffer.h"
#include "engine/page_store.h"
#include "engine/row_cache.h"
#include "engine/superblock.h"
#include "engine/version_store.h"
#include "engine/wal.h"
#include "engine/write_batch_internal.h"
#include "io/io_backend.h"
#include "util/thread_annotations.h"
#include "ringdb/db.h"

namespace ringdb {

inline constexpr const char* kDataFileName = "ringdb.data";
inline constexpr const char* kLockFileName = "LOCK";
// flock'd shared by readers beside a writer (see above).
inline constexpr const char* kReadersFileName = "READERS";
// Present while a backup into the directory is incomplete (db_backup.cc).
inline constexpr const char* kBackupMarkerName = "BACKUP-INCOMPLETE";
// Log record types.
inline constexpr uint8_t kBatchRecord = 1;
// The log writer's mapped window (wal::LogWriterOptions::map_bytes): also
// the most a writer that was not closed leaves reserved past its records.
inline constexpr size_t kLogMapBytes = 256u << 10;

// "12.3 MiB": bytes for messages (db_properties.cc).
std::string HumanBytes(uint64_t bytes);

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
  Status CompactIfSparse(bool* compacted) override;
  Status Verify(std::string* report) override EXCLUDES(compact_mu_);
  bool GetProperty(std::string_view name, std::string* value) override;
  Status SetEvictionPolicy(std::string_view name) override;
  Status SetEvictionPolicy(std::shared_ptr<EvictionPolicy> policy) override;
  Status SetBufferPoolBytes(size_t bytes) override;
  using DB::Backup;
  Status Backup(const std::string& dir, BackupInfo* info) override;
  Status Resume() override;
  Status GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) override;
  Status Close() override;

  // Tests: called by Compact with no lock held (a write from another thread
  // must then go through) before each step of its leaf packing ("pack")
  // and before each checkpoint after the packing ("checkpoint"), and
  // before each step that lays out one parent's leaves ("order").
  void SetCompactStepHookForTest(std::function<void(std::string_view step)> hook)
      EXCLUDES(compact_mu_) {
    MutexLock lock(&compact_mu_);  // not while a compaction runs
    compact_step_hook_ = std::move(hook);
  }
  // Tests: the file offsets of the leaves in key order (db_compact.cc).
  Status LeafOffsetsForTest(std::vector<uint64_t>* offsets) EXCLUDES(write_mu_);
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;

 private:
  // db_snapshots.cc. The snapshot a read uses: options.snapshot (checked to
  // be this DB's, else InvalidArgument), or a new one when `implicit`
  // (*owned set: the caller releases it), or none.
  Status ReadSnapshot(const ReadOptions& options, bool implicit, const SnapshotImpl** snap,
                      bool* owned);
  // Get's answer at snapshot `snap`, after the tree's (`tree_status`,
  // *value): a saved version overrides it.
  Status ResolveAt(const SnapshotImpl* snap, std::string_view key, Status tree_status,
                   std::string* value);
  // The values the keys of `batch` hold now (nullopt: absent), first
  // occurrence of each, for the versions snapshots need.
  Status ReadOldValues(const WriteBatch& batch,
                       std::vector<std::pair<std::string, std::optional<std::string>>>* olds);

  Status LockDirectory();
  // db_readers.cc: LOCK shared, or, when a writer holds it, READERS shared
  // (snapshot_note_ is then set).
  Status LockForReading();
  // Whether a reader beside the writer may be reading an older checkpoint
  // (READERS is locked, or cannot be probed). Creates READERS.
  bool ReadersPresent();
  // Logs and keeps the note that this read-only handle sees the last
  // checkpoint only.
  void NoteSnapshotReader() REQUIRES(write_mu_);
  Status CreateDatabase();
  Status OpenFiles() REQUIRES(write_mu_);
  Status Recover() REQUIRES(write_mu_);
  class Recovery;  // its steps (db_open.cc)
  // Refuses while writes are stopped (see Resume), else CheckpointBody.
  Status CheckpointLocked() REQUIRES(write_mu_);
  // Rotates the log (replacing a failed writer, see RepairLogLocked),
  // flushes every dirty page and writes the page map and superblock.
  // Require: write_mu_ held.
  Status CheckpointBodyLocked() REQUIRES(write_mu_);
  // Applies the batch; *applied counts the operations that completed, and
  // *untouched says the failing one (if any) left the tree unchanged.
  Status Apply(const WriteBatch& batch, Lsn lsn, size_t* applied, bool* untouched);
  // db_delete_buffer.cc. Whether `batch` is one delete to buffer (see
  // delete_buffer.h): a single delete, no snapshot open (`recording`
  // false), a leaf that is not cached; *key is then its key (a view into
  // `batch`). Makes room first (applying buffered deletes) when the buffer
  // is full. Require: write_mu_ held.
  Status ShouldBufferLocked(const WriteBatch& batch, bool recording, std::string_view* key,
                            bool* buffer) REQUIRES(write_mu_);
  // Applies up to `max_entries` buffered deletes to the tree (all of them:
  // SIZE_MAX), in key order, a chunk of a quarter of the pool at a time
  // (their leaves read by one pipeline).
  // Applied entries are erased when no snapshot is open. A failure is a
  // hard error (the tree may hold part of a delete; the log holds them
  // all). Require: write_mu_ held.
  Status ApplyBufferedDeletesLocked(size_t max_entries) REQUIRES(write_mu_);
  // Hands the log up to `lsn` to the kernel, or makes it durable (sync).
  // `gen` is the generation of the writer that holds the record.
  Status CommitLog(Lsn lsn, uint64_t gen, bool sync) EXCLUDES(write_mu_);
  // After a write whose record `lsn` took the log past
  // Options::checkpoint_log_bytes: checkpoints in the calling writer's
  // thread (there is no background checkpointer), unless another writer
  // did meanwhile. A failure is logged; the next write retries.
  // Require: write_mu_ not held.
  void CheckpointInline(Lsn lsn) EXCLUDES(write_mu_);

  // db_resume.cc.
  enum class Severity : uint8_t { kNone, kSoft, kHard };
  static Severity Classify(const Status& s);
  // Records a failed write: the first error stays, a hard one replaces a
  // soft one. `what` says what failed and is the read-only reason. Wakes
  // the auto-resume thread.
  void SetBackgroundError(const Status& s, Severity severity, const std::string& what)
      EXCLUDES(error_mu_);
  // OK while writes are accepted, else the error that stops them.
  Status BackgroundError() EXCLUDES(error_mu_);
  Severity background_severity() EXCLUDES(error_mu_);
  // Whether `bytes` more may be written while leaving free the reserve plus
  // what a checkpoint would write now (CheckpointBytes), so that a clean
  // close always has room (statvfs at most every kSpaceCheckInterval
  // unless `force` or the margin is short). Require: write_mu_ held.
  Status CheckSpaceLocked(uint64_t bytes, bool force) REQUIRES(write_mu_);
  // Disk space a checkpoint with `dirty_pages` dirty pages may need: each
  // page in a fresh slot, the page map and a new log segment's first block.
  uint64_t CheckpointBytes(uint64_t dirty_pages);
  // With the log writer failed: closes it without writing. Then cuts
  // abandoned_ (that writer's file, or a torn last segment recovery found)
  // back to its last whole record and syncs it, so the next segment
  // continues the log from log_end_. Require: write_mu_ held and
  // wal_mu_ held exclusive.
  Status RepairLogLocked() REQUIRES(write_mu_);
  // Resume's work; `check_space` false lets Close use the reserve.
  Status ResumeLocked(bool check_space) REQUIRES(write_mu_);
  void StartAutoResume();
  void StopAutoResume() EXCLUDES(error_mu_);
  void AutoResumeLoop() EXCLUDES(error_mu_);
  // The adaptive split of buffer_pool_bytes between the pool and rows_
  // (Options::kAutoRowCacheBytes; db_cache_balance.cc). `on` is set at
  // Open and not changed after.
  struct CacheSplit {
    bool on = false;
    uint64_t budget = 0;  // pool + row cache, bytes
    uint64_t rows = 0;    // the row cache's share now
    uint64_t step = 0;    // one move, and the ghost's size
    // Counts at the start of the window being measured.
    uint64_t lookups = 0, hot = 0, get_reads = 0, pool_reads = 0, evictions = 0;
    uint64_t ghost_reads = 0, pool_hits = 0, extra_reads = 0;
    uint32_t quiet_ticks = 0;
    uint64_t moves_to_rows = 0;
    uint64_t moves_to_pool = 0;
  };
  // db_cache_balance.cc: the adaptive split. PlanCacheSplit decides at
  // Open whether it is on and sizes the pool options for it; StartCacheSplit
  // grows the pool to the budget once it exists; BalanceCaches, called by
  // the background thread every 20 ms while the split is on (100 ms while
  // off), moves one step of memory toward the share the last window of
  // reads calls for.
  void PlanCacheSplit(size_t* pool_bytes, size_t* max_pool_bytes, size_t* chunk_bytes,
                      uint32_t page_size) EXCLUDES(split_mu_);
  Status StartCacheSplit() EXCLUDES(split_mu_);
  // Returns whether the split is on (the caller ticks sooner).
  bool BalanceCaches() EXCLUDES(split_mu_, write_mu_);
  void TurnRowsOn() EXCLUDES(split_mu_, write_mu_);
  Status SetSplitBudget(size_t bytes) EXCLUDES(split_mu_);
  bool split_on() EXCLUDES(split_mu_);
  CacheSplit split_snapshot() EXCLUDES(split_mu_);
  // db_cleaner.cc: the page cleaner thread (Options::page_cleaner), which
  // also runs BalanceCaches when the split is adaptive.
  void StartPageCleaner();
  void StopPageCleaner() EXCLUDES(cleaner_mu_);
  void PageCleanerLoop() EXCLUDES(cleaner_mu_);
  bool cleaner_stopping() EXCLUDES(cleaner_mu_);
  // One pass: writes the dirty pages no write has touched for the last
  // sixteenth of a checkpoint interval, once the log since the checkpoint
  // has passed a quarter of it. Returns the pages written.
  size_t CleanOnce() EXCLUDES(flush_mu_);
  // db_compact.cc: writes every dirty page that no write has changed since
  // it was called, as the cleaner does, without write_mu_ (so before a
  // checkpoint that holds writers back, it leaves that one little to do).
  void WriteAhead() EXCLUDES(flush_mu_);
  // db_compact.cc: whether the file system has room for the leaves'
  // layout (a copy of them past the end of the file) beside the reserve and
  // what a checkpoint needs; says in the info log when not.
  bool RoomToLayOutLeaves() REQUIRES(compact_mu_) EXCLUDES(write_mu_);
  // db_compact.cc: gives the parent of leaves LeafRun finds for
  // first/from and its leaves consecutive slots in key order (`where`) and
  // dirties those that moved, so the next checkpoint writes them there.
  Status PlaceLeafRun(bool first, std::string_view from, PageStore::Place where,
                      std::string* next, bool* more) REQUIRES(compact_mu_, write_mu_);
  // db_compact.cc: Compact's second layout pass, after the packing put each
  // parent of leaves and its leaves past the end of the file in key order:
  // moves them, in order, into the lowest free slots, and ends with
  // `checkpoint`. `stop` is checked before each parent (the stop request
  // of CompactLocked): true ends it early, with OK.
  Status OrderLeaves(const std::function<Status()>& checkpoint,
                     const std::function<bool()>& stop) REQUIRES(compact_mu_)
      EXCLUDES(write_mu_);
  // db_compact.cc: Compact's body, one at a time. A `stop` (may be empty)
  // that returns true between two steps ends it early: *stopped, the tree
  // valid and packed up to there, OK unless punching the held blocks fails.
  Status CompactLocked(const std::function<bool()>& stop, bool* stopped)
      REQUIRES(compact_mu_) EXCLUDES(write_mu_);
  // db_idle_compact.cc: the idle compactor (Options::idle_compact_ms).
  void StartIdleCompactor();
  void StopIdleCompactor() EXCLUDES(idle_mu_);
  void IdleCompactLoop() EXCLUDES(idle_mu_);
  bool idle_stopping() EXCLUDES(idle_mu_);
  // Samples the leaves and compacts when they are sparse enough (see
  // Options::idle_compact_fill); without `sample`, compacts (taking up one
  // a write stopped). `stop` as CompactLocked's; *compacted when a
  // compaction ran to its end.
  Status CompactIfSparseImpl(const std::function<bool()>& stop, bool sample, bool* compacted,
                             bool* stopped) EXCLUDES(compact_mu_, write_mu_);
  // CompactLocked, counting a compaction that ran to its end.
  Status FinishCompaction(const std::function<bool()>& stop, bool* compacted, bool* stopped)
      REQUIRES(compact_mu_) EXCLUDES(write_mu_);
  // Options::reserved_disk_bytes resolved for a file system of `total` bytes.
  uint64_t ReserveFor(uint64_t total) const;
  std::string ErrorStateLine() EXCLUDES(error_mu_);
  // " (DIR needs at least N free; its file system has F free of T)".
  std::string SpaceHint();
  std::string Notices() EXCLUDES(error_mu_);
  Status GateWrite(Lsn lsn);
  void Log(const std::string& msg);
  Status CheckOpen() const;
  std::string StatsString();
  // The counters of every layer, read once (GetProperty and StatsString).
  struct StatsSnapshot {
    PoolStats pool;
    io::IoStats io;
    PageStoreStats store;
    uint64_t log_segment = 0;  // the segment being written
    uint64_t log_records = 0;  // since the last checkpoint (current writer)
    uint64_t log_bytes_written = 0, log_syncs = 0, log_group_commits = 0;  // since open
  };
  StatsSnapshot TakeStats();
  // GetProperty's steps. WriteStateProperty answers the write-state names
  // (false for any other); CounterProperties gives every single-number
  // property by name; PropertyNames is "ringdb.properties".
  using PropertyMap = std::map<std::string, std::string, std::less<>>;
  bool WriteStateProperty(std::string_view name, std::string* value) EXCLUDES(error_mu_);
  PropertyMap CounterProperties();
  std::string PropertyNames(const PropertyMap& counters);
  // Bytes the data file occupies on disk (0 when unknown).
  uint64_t DiskBytes();

  const Options options_;
  std::string dir_;
  std::unique_ptr<io::FileLock> lock_;  // the directory's lock file, held while open
  // A read-only handle beside a writer: reads the last checkpoint only.
  bool snapshot_reader_ = false;
  std::string writer_holder_;  // who held LOCK (io::LockHolders), may be ""
  std::string snapshot_note_;  // "ringdb.read_only_snapshot"; set at open
  // Set by Close. Atomic because readers check it (CheckOpen) without a
  // lock; Close itself must not race them (db.h), so this only keeps a
  // caller that breaks that rule from a data race on the flag.
  std::atomic<bool> closed_{false};
  // SetCompactStepHookForTest; the idle compactor's thread reads it too.
  std::function<void(std::string_view)> compact_step_hook_ GUARDED_BY(compact_mu_);
  bool opened_ = false;  // OpenOrCreate succeeded

  std::shared_ptr<io::IoBackend> io_;
  io::FileId data_file_;
  std::unique_ptr<PageStore> store_;
  std::unique_ptr<BufferPool> pool_;
  std::unique_ptr<BTree> tree_;
  Mutex write_mu_;
  Superblock sb_ GUARDED_BY(write_mu_);

  // Takes write_mu_ for DBImpl::Write: polls briefly before sleeping when
  // it is the only waiter (db_impl.cc).
  void LockWriters() ACQUIRE(write_mu_);
  // What the locked part of a write (WriteLocked) hands back to Write.
  struct LockedWrite {
    Lsn lsn{};
    uint64_t gen = 0;
    bool need_checkpoint = false;
    std::string notice;  // a snapshot's note for the log, if any
  };
  Status WriteLocked(const WriteBatch& batch, LockedWrite* out) REQUIRES(write_mu_);
  std::atomic<int> write_waiters_{0};  // writers inside LockWriters
  std::shared_mutex wal_mu_;  // guards wal_ (the pointer)
  std::shared_ptr<wal::LogWriter> wal_;
  std::unique_ptr<wal::LogBuffer> log_buffer_;  // reused by every segment's writer
  // Written under write_mu_ and wal_mu_ exclusive (at open, under
  // write_mu_ alone: no other thread has the handle), read under either.
  uint64_t segment_ = 0;
  // Where the next log segment starts while wal_ is null (after recovery,
  // a rotation, or a failed writer cut back).
  Lsn log_end_ GUARDED_BY(write_mu_);
  // The current writer failed (its errors are sticky).
  bool log_failed_ GUARDED_BY(write_mu_) = false;
  // A segment to cut back to its last whole record before the next one is
  // started (RepairLogLocked): a failed writer's taken out of service, or
  // the last segment recovery found with a torn tail (set by an open that
  // will write).
  struct AbandonedLog {
    std::string path;
    Lsn start;        // the segment's start LSN
    Lsn written_end;  // end of its last whole record written
  };
  std::optional<AbandonedLog> abandoned_ GUARDED_BY(write_mu_);
  // Generation of wal_ (bumped when it is replaced or reset) and the
  // generations whose writer failed: a committer holding a record of a
  // replaced writer learns from them whether its record was written.
  // Written under write_mu_ and wal_mu_ exclusive, read under either.
  uint64_t wal_gen_ = 0;
  std::vector<uint64_t> failed_gens_;
  Status failed_gen_status_;
  // Free-space check (reserved_disk_bytes).
  std::chrono::steady_clock::time_point space_checked_at_ GUARDED_BY(write_mu_){};  // CoarseNow() (db_resume.cc)
  bool space_checked_ GUARDED_BY(write_mu_) = false;
  uint64_t space_margin_ GUARDED_BY(write_mu_) = 0;  // free - reserve - checkpoint at the last check
  uint64_t bytes_since_space_check_ GUARDED_BY(write_mu_) = 0;  // log bytes appended since
  uint64_t dirty_bytes_at_check_ GUARDED_BY(write_mu_) = 0;     // the pool's dirty pages then, in bytes
  uint64_t pool_written_at_check_ GUARDED_BY(write_mu_) = 0;    // PoolStats::bytes_written then
  bool checkpoint_for_space_ GUARDED_BY(write_mu_) = false;     // CheckSpaceLocked is checkpointing
  std::atomic<uint64_t> checkpoints_for_space_{0};  // checkpoints it made early

  // The background error (see the header comment) and the auto-resume
  // thread's state.
  Mutex error_mu_;
  Status bg_error_ GUARDED_BY(error_mu_);
  // bg_error_ is not OK: set and cleared with it, under error_mu_. A writer
  // reads it without the lock and takes error_mu_ only when it is set.
  std::atomic<bool> bg_error_set_{false};
  Severity bg_severity_ GUARDED_BY(error_mu_) = Severity::kNone;
  std::string bg_what_ GUARDED_BY(error_mu_);  // what failed
  uint64_t resumes_ GUARDED_BY(error_mu_) = 0;         // successful
  uint64_t resume_failures_ GUARDED_BY(error_mu_) = 0;
  bool stop_auto_resume_ GUARDED_BY(error_mu_) = false;
  std::string notices_ GUARDED_BY(error_mu_);  // fallbacks and degradations, one per line
  std::condition_variable_any error_cv_;  // bg_severity_ or stop_auto_resume_ changed
  std::thread auto_resume_;
  std::atomic<uint64_t> checkpoints_{0};
  // The page cleaner. flush_mu_ keeps its write-backs and a checkpoint's
  // flush and page map apart (PageStore::Checkpoint requires that no page
  // write starts after its flush). Lock order: write_mu_ -> flush_mu_ ->
  // page latches (only tried) -> wal_mu_.
  Mutex flush_mu_;
  // Compacts run one at a time (DB::Compact, CompactIfSparse, the idle
  // compactor). Taken before write_mu_.
  Mutex compact_mu_ ACQUIRED_BEFORE(write_mu_);
  // The idle compactor's thread and its stop flag; its counters (read by
  // StatsString and the properties).
  std::thread idle_thread_;
  Mutex idle_mu_;
  bool stop_idle_ GUARDED_BY(idle_mu_) = false;
  std::condition_variable_any idle_cv_;
  std::atomic<uint64_t> sparse_checks_{0};    // samples taken (both callers)
  std::atomic<uint64_t> sparse_compacts_{0};  // compactions run to their end by them
  std::atomic<uint64_t> idle_stops_{0};       // idle compactions a write stopped
  std::atomic<uint64_t> sparse_deferred_{0};  // sparse, but too few writes since the last one
  // Where the last whole compaction started (0: none in this process).
  Lsn compacted_at_ GUARDED_BY(compact_mu_);
  std::atomic<uint64_t> last_sampled_fill_permille_{0};
  Mutex cleaner_mu_;
  bool stop_cleaner_ GUARDED_BY(cleaner_mu_) = false;
  std::condition_variable_any cleaner_cv_;
  std::thread cleaner_;
  // The newest applied LSN and the last checkpoint's LSN, for the cleaner
  // (which does not take write_mu_).
  std::atomic<Lsn> applied_lsn_{Lsn()};
  std::atomic<Lsn> ckpt_lsn_{Lsn()};
  std::atomic<uint64_t> cleaner_pages_{0};   // pages the cleaner wrote
  std::atomic<uint64_t> checkpoint_pages_{0};  // pages the last checkpoint's flush wrote
  // A backup is copying the last checkpoint's pages: checkpoints wait (the
  // automatic one is deferred, an explicit one returns Busy). Set and
  // cleared under write_mu_.
  bool backup_running_ GUARDED_BY(write_mu_) = false;
  std::atomic<uint64_t> recovered_records_{0};
  // Deletes logged but not yet in the tree (delete_buffer.h); disabled
  // for a read-only handle. Made in the constructor.
  std::unique_ptr<DeleteBuffer> deletes_;
  // Where a full buffer's next partial apply starts (the last key applied).
  std::string apply_cursor_ GUARDED_BY(write_mu_);
  // Hot pairs for Get (row_cache.h; disabled when row_cache_bytes is 0).
  // Made in the constructor.
  std::unique_ptr<RowCache> rows_;
  // Get consults rows_, and writers mark their keys in it: always, unless
  // the split is adaptive; then only while it is on (db_cache_balance.cc:
  // marking starts, and the writes that did not mark are waited out,
  // before Gets look).
  std::atomic<bool> rows_on_{true};
  std::atomic<bool> rows_marking_{true};
  // Device reads made by Gets while rows_on_ (db_cache_balance.cc).
  std::atomic<uint64_t> get_reads_{0};
  // Of the Gets that missed the row cache while rows_on_: those whose key
  // was in its ghost and that read the device (reads one more step of row
  // cache would have saved), those the pool served without a read, and
  // the device reads beyond the first of one Get (inner pages the pool
  // lacked). The split's climb above kBaseRowSteps weighs them.
  StripedCounter get_ghost_reads_;
  StripedCounter get_pool_hits_;
  StripedCounter get_extra_reads_;
  Mutex split_mu_;
  CacheSplit split_ GUARDED_BY(split_mu_);
  // Old versions for snapshots (version_store.h). Made in the constructor
  // and kept until the destructor, so ReleaseSnapshot works after Close.
  std::unique_ptr<VersionStore> versions_;
  uint64_t log_bytes_written_before_ = 0;  // from closed writers
  uint64_t log_syncs_before_ = 0;
  uint64_t log_group_commits_before_ = 0;
};

}  // namespace ringdb
