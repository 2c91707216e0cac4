// DB: an embedded, self-caching key-value store (a B+tree over a buffer pool
// that moves pages with O_DIRECT and io_uring, with a write-ahead log).
//
// A database is a directory holding a data file, the log and lock files.
// One process at a time opens it for writing (the lock file is flock'd);
// read-only handles may open beside it, in other processes too, and then
// see the database as of its last checkpoint (Options::read_only).
//
// Thread-safety: every method of DB except Close may be called from any
// number of threads at once. Readers are not blocked by writers of other
// pages. Close (and the destructor) must not race any other call on the
// same DB: the caller makes sure every other call has returned and every
// iterator is destroyed first.
//
// Statuses common to every method below (each method lists only its own):
// - InvalidArgument "database is closed" after Close.
// - InvalidArgument for a key over kMaxKeySize or a value over
//   kMaxValueSize (nothing is written; the database stays usable).
// - Writes (Put, Delete, Write, DeleteRange, Checkpoint, Compact) on a
//   database opened with Options::read_only: InvalidArgument.
// - After a failed write (I/O error, NoSpace) writes return that error
//   until Resume() succeeds (soft error) or until the database is closed
//   and reopened (hard error): see Resume below. Reads go on.
// - Corruption when a page read from disk fails its checksum (always
//   verified) or a tree invariant; IOError when the device fails a read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringdb/iterator.h"
#include "ringdb/options.h"
#include "ringdb/status.h"
#include "ringdb/write_batch.h"

namespace ringdb {

// Longest key and value accepted (an empty key is a valid key). A batch has
// no limit of its own: any number of operations that fits in memory.
inline constexpr size_t kMaxKeySize = 4096;
inline constexpr size_t kMaxValueSize = 64ull << 20;

// A consistent point-in-time view of a database (DB::GetSnapshot): reads
// through ReadOptions::snapshot see every batch applied before it was
// taken, whole, and nothing written after. Opaque; released with
// DB::ReleaseSnapshot (or ManagedSnapshot), never deleted by the caller.
class Snapshot {
 public:
  // Orders snapshots: a later snapshot has a sequence >= an earlier one's
  // (equal when no batch was applied between them). The log position of
  // the newest batch it sees.
  virtual uint64_t sequence() const = 0;

 protected:
  virtual ~Snapshot() = default;
};

class DB {
 public:
  // Opens (and, with create_if_missing, creates) the database in directory
  // `path`, recovering from the log if the last run did not close cleanly.
  // On success stores the DB in *db; on failure leaves *db empty and has
  // written nothing. A damaged log gives Corruption naming the segment file
  // and offset, unless Options::wal_recovery_mode says to salvage. Other
  // statuses: Busy when another process or another open DB in this one
  // holds the directory (the lock file); InvalidArgument for a bad
  // page_size, a path that is a file or not a ringdb database, a missing
  // directory without create_if_missing, an interrupted backup; IOError or
  // NoSpace from the file system. An unavailable io_uring is not an error:
  // Open falls back to pread/pwrite and logs why.
  static Status Open(const Options& options, const std::string& path,
                     std::unique_ptr<DB>* db);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Closes if Close() was not called: that is, checkpoints (writes every
  // dirty page and syncs; this may take as long as Checkpoint) and releases
  // the files. Errors are then only logged (Options::info_log): call
  // Close() to see them. Must not race other calls (see above).
  virtual ~DB() = default;

  // Sets `key` to `value` (a batch of one). OK once the write is in the
  // log (durable as WriteOptions::sync says); see the common statuses.
  virtual Status Put(const WriteOptions& options, std::string_view key,
                     std::string_view value) = 0;
  // Removes `key`; OK also when it was absent. Statuses as Put. Reads see
  // the delete at once; when the key's leaf page is not cached it may
  // reach the B+tree later (Options::delete_buffer_bytes).
  virtual Status Delete(const WriteOptions& options, std::string_view key) = 0;
  // Applies every operation of `batch` or none, also across a crash. A
  // batch may be of any size that fits in memory. A key or value over the
  // limits gives InvalidArgument: nothing is written and the database
  // stays usable. Durability: see WriteOptions::sync. A null or empty
  // batch is OK and writes nothing. The batch is only read.
  virtual Status Write(const WriteOptions& options, WriteBatch* batch) = 0;

  // Stores the value in *value. A missing key gives IsNotFound() (*value is
  // then unspecified). Sees every write acknowledged before the call, or
  // reads as of options.snapshot. InvalidArgument for a snapshot of another
  // DB or one that expired (Options::snapshot_max_bytes).
  virtual Status Get(const ReadOptions& options, std::string_view key,
                     std::string* value) = 0;

  // Looks up all keys, issuing the page reads they miss together. Resizes
  // *values to keys.size(); returns one Status per key (each as Get's).
  // All keys are read as of one snapshot (options.snapshot, else one taken
  // for the call), so a batch is seen whole or not at all.
  virtual std::vector<Status> MultiGet(const ReadOptions& options,
                                       const std::vector<std::string_view>& keys,
                                       std::vector<std::string>* values) = 0;

  // A new iterator, initially not Valid(). It reads the database as of
  // options.snapshot, or else as of this call (it holds a snapshot of its
  // own until destroyed: later writes are not seen, and the values they
  // replace stay in memory meanwhile; see Options::snapshot_max_bytes).
  // The caller owns it and must destroy it before the DB (and before
  // Close). Never null: called after Close, or with a snapshot of another
  // DB, it returns an iterator whose status() is InvalidArgument.
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;

  // A snapshot of the database as it is now: every batch applied before
  // the call, none after (each whole). Pass it in ReadOptions::snapshot;
  // release it with ReleaseSnapshot before Close. While it is held, writes
  // keep the values they replace in memory (Options::snapshot_max_bytes
  // bounds them; past it the oldest snapshots expire and their reads fail
  // with InvalidArgument). Snapshots live in memory only: they do not
  // survive a close or a crash. Costs a lock and an allocation; reads and
  // writes pay nothing extra while no snapshot or iterator is open. After
  // Close it returns null.
  virtual const Snapshot* GetSnapshot() = 0;
  // Releases `snapshot` (from this DB's GetSnapshot; null is ignored) and
  // the old versions only it needed. It must not be used afterwards. May be
  // called after Close, but not after the DB is destroyed. A snapshot of
  // another DB is a programming error: the process aborts.
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Writes every dirty page, fdatasyncs the data file and trims the log.
  // InvalidArgument on a read-only database; Busy while a backup runs.
  virtual Status Checkpoint() = 0;

  // Shrinks the data file to about what the data needs: checkpoints, packs
  // the leaves (moves entries into each leaf's left neighbour until it is
  // Options::compact_leaf_fill full, freeing the leaves that empty; reads
  // every leaf once) and lays them out in key order (each parent's leaves
  // at consecutive offsets, so a scan's read-ahead reaches the device as a
  // few large reads), rewrites the live pages that sit beyond the new size
  // into free slots at lower offsets, and checkpoints again so the end of
  // the file can be cut off. The leaves are written twice: packed, past the
  // end of the file in key order, then into its emptied low part, so the
  // file grows by about the size of the leaves while Compact runs; without
  // that much room on the file system (beyond
  // Options::reserved_disk_bytes) the layout is skipped, with a line in the
  // info log, and the packed leaves go into free slots inside the file. A
  // second Compact finds the leaves in place and moves none.
  // (Every checkpoint already cuts free slots off the end and punches
  // holes in free slots, so the disk space follows the data down; Compact
  // also packs and moves pages.) Keys and values do not change; a crash
  // during Compact loses nothing. Readers go on throughout; writers wait
  // only while one parent's leaves (a few hundred) are packed or laid out,
  // and during the checkpoints and the moves of pages at the end. Busy
  // while a backup runs; InvalidArgument on a read-only database.
  virtual Status Compact() = 0;

  // What the idle compactor (Options::idle_compact_ms) would do once writes
  // stop, done now, in the caller's thread: samples the leaves' fill and
  // runs Compact when it is below Options::idle_compact_fill, the live
  // pages take at least Options::idle_compact_min_bytes and the log has
  // grown by half their bytes since the last compaction (see
  // Options::idle_compact_ms). *compacted (when not null) says whether it
  // ran. For a caller that wants the file at its
  // packed size now (the end of a bulk load of random keys, before a
  // backup) without knowing whether packing would pay. Waits for a
  // compaction already running (Compacts run one at a time). Errors and
  // read-only as Compact.
  virtual Status CompactIfSparse(bool* compacted = nullptr) = 0;

  // Deletes every key in [start, end) and stores how many in *deleted (when
  // not null). Implemented over the public API: an iterator collects up to
  // 1000 keys, one WriteBatch deletes them, and so on; so each chunk is
  // atomic, the whole range is not (a crash or a failure midway leaves a
  // prefix of the range deleted), and keys written into the range meanwhile
  // may survive. start >= end deletes nothing.
  Status DeleteRange(const WriteOptions& options, std::string_view start,
                     std::string_view end, uint64_t* deleted = nullptr);

  // A key range [start, limit) for GetApproximateSizes (as RocksDB's
  // Range). The views must stay valid during the call.
  struct Range {
    std::string_view start;
    std::string_view limit;
  };
  // Stores in sizes[i] an estimate of the data-file bytes that hold
  // ranges[i] (start >= limit gives 0), for i < n, as RocksDB estimates
  // the file bytes of a range: the share of the tree's key order between
  // start and limit (found by one descent per key, reading the inner nodes
  // on the way and one leaf) times the bytes of the live pages. O(tree
  // height) per range whatever the range holds; exact only as far as
  // sibling subtrees hold equal shares (a B+tree keeps them within about
  // a factor of two), so treat it as an estimate, like RocksDB's. Values
  // that overflowed into their own pages are spread over the key order,
  // not charged to their key. A read error stops it with that error (sizes
  // from i on are then unset); InvalidArgument for null arrays.
  virtual Status GetApproximateSizes(const Range* ranges, int n, uint64_t* sizes) = 0;

  // Checks every reachable page's checksum and the tree's order invariants.
  // Appends one line per problem to *report (when not null). OK when none;
  // Corruption (the first problem) otherwise; IOError when a read fails.
  // Verify waits for a running compaction (Compact() or the idle
  // compactor's) to finish, and none starts while it walks the tree.
  virtual Status Verify(std::string* report) = 0;

  // Writes a consistent, openable copy of the database into directory
  // `dir` (created; it must not exist or be empty) while readers and
  // writers go on. The copy holds every write acknowledged before the call
  // began and possibly some that raced with it, batches whole. It is made
  // of the pages of the last checkpoint (shadow paging keeps them intact;
  // checkpoints are held off while the copy runs) and the log written since,
  // moved file to file inside the kernel (copy_file_range, else sendfile,
  // else read/write). The copy is fdatasync'd, and its data file gets its
  // final name only at the end, so an interrupted backup is never mistaken
  // for a database. On success *info (when not null) says what was copied.
  // Busy when another backup of this database is running.
  struct BackupInfo {
    uint64_t bytes = 0;        // bytes copied
    uint64_t files = 0;        // files copied
    std::string method;        // "copy_file_range", "sendfile" or "read/write"
    uint64_t log_bytes = 0;    // of `bytes`, log written since the checkpoint
    double seconds = 0;
  };
  virtual Status Backup(const std::string& dir, BackupInfo* info) = 0;
  Status Backup(const std::string& dir) { return Backup(dir, nullptr); }

  // Properties: "ringdb.stats" (human-readable summary) and single numbers,
  // e.g. "ringdb.pool.hits", "ringdb.pool.misses", "ringdb.pool.hit_ratio",
  // "ringdb.io.bytes_read", "ringdb.io.bytes_written", "ringdb.log.syncs",
  // "ringdb.io.backend". Returns false for an unknown name.
  // "ringdb.properties" lists every name. "ringdb.estimate-num-keys" is the
  // number of keys counted from the leaves' headers (no value is read).
  // "ringdb.background_error" is "OK" or the error that stops writes;
  // "ringdb.read_only_reason" is empty while writes are accepted, else why
  // not and what to do.
  // "ringdb.btree.fill" walks the whole tree (O(pages), reading pages
  // that are not cached): leaf_fill and inner_fill (used / usable bytes,
  // mean over pages), page counts, and user_bytes_per_page_byte (key +
  // value bytes of the live entries per byte of the tree's pages), as
  // space-separated name=value pairs; "ringdb.btree.fill-summary" is the
  // same as one line (the shell's stats prints it).
  virtual bool GetProperty(std::string_view name, std::string* value) = 0;

  // Write errors and Resume (as RocksDB's error handler). A write that
  // fails for lack of space (ENOSPC, EDQUOT, the reserve of
  // Options::reserved_disk_bytes) or with an I/O error on the log, a
  // checkpoint or a page write-back is *soft*: the database turns
  // read-only (every write returns that error, reads, scans and Verify go
  // on) until Resume() succeeds. A write whose batch was partly applied to
  // the in-memory tree when it failed (there is no undo) is *hard*: writes
  // are refused until the database is closed and reopened, and recovery
  // replays the log. "ringdb.background_error" and
  // "ringdb.read_only_reason" say which.
  //
  // A write that returned an error is either wholly in the database or
  // wholly absent, never in part (which one may only be known by reading
  // it, as after a timeout); every write acknowledged before or after the
  // error keeps its promise (WriteOptions::sync) across Resume.
  //
  // Resume retries what failed: it writes a fresh log segment (the failed
  // one is cut back to its last whole record), checkpoints (every dirty
  // page, including those whose write-back failed, the page map and the
  // superblock) and, on success, accepts writes again. OK when writes are
  // accepted (also when there was nothing to resume); the new failure when
  // it fails again (still soft: call again later); InvalidArgument naming
  // the fatal error when the error is hard, or the database is read-only
  // or closed. Options::auto_resume_interval_ms calls it from a background
  // thread. Blocks writers while it runs, not readers.
  virtual Status Resume() = 0;

  // Switches the buffer pool to the built-in eviction policy `name` (see
  // NewEvictionPolicy; "ringdb.cache.policies" compares them on the live
  // workload) without reopening; safe while other threads read and write.
  // The new policy starts from the pages cached now, in no particular
  // order. InvalidArgument for an unknown name; lasts until Close (Options
  // decides the policy at the next Open). Each switch keeps the replaced
  // policy's memory (tens of bytes per frame) until Close.
  virtual Status SetEvictionPolicy(std::string_view name) = 0;
  // The same for a policy the application implements (see
  // eviction_policy.h for what it must allow: OnAccess runs without a lock
  // while the other methods are serialized). The pool shares ownership
  // until Close. InvalidArgument when `policy` is null.
  virtual Status SetEvictionPolicy(std::shared_ptr<EvictionPolicy> policy) = 0;

  // Resizes the buffer pool to `bytes` (rounded down to whole pages) while
  // the database is in use, without reopening; safe while other threads
  // read and write. It may grow up to Options::buffer_pool_max_bytes (by
  // default buffer_pool_bytes, the size at Open; beyond the size at Open
  // the memory is taken in chunks of buffer_pool_chunk_bytes) and shrink to
  // 16 pages. A grow takes (locks) the memory before pages may enter it. A
  // shrink evicts the pages of the frames it retires (writing the dirty
  // ones first), returns when they are free, so the budget holds from then
  // on, and gives their memory back; Busy when some of them stayed pinned
  // for 5 s (the pool keeps the smaller size and frees them as they are
  // released). InvalidArgument beyond the maximum or under 16 pages. Lasts
  // until Close.
  // "ringdb.cache.mrc" then reports the curve around the new size.
  virtual Status SetBufferPoolBytes(size_t bytes) = 0;

  // Checkpoints and releases the files. Further calls return InvalidArgument.
  // Must not race any other call on this DB, and every iterator must be
  // destroyed first. Returns the checkpoint's or the files' error, if any;
  // the DB is closed either way.
  // After a soft error, first tries Resume() so the close is clean; on a
  // hard error (or if Resume fails) returns that error without a
  // checkpoint (the next Open recovers from the log).
  virtual Status Close() = 0;
};

// Holds a snapshot for a scope: ManagedSnapshot snap(db.get());
// ReadOptions r; r.snapshot = snap.get();
class ManagedSnapshot {
 public:
  explicit ManagedSnapshot(DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ManagedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ManagedSnapshot(const ManagedSnapshot&) = delete;
  ManagedSnapshot& operator=(const ManagedSnapshot&) = delete;
  const Snapshot* get() const { return snapshot_; }

 private:
  DB* const db_;
  const Snapshot* const snapshot_;
};

// Removes the database in `path` (its files and the directory). OK when
// `path` does not exist; InvalidArgument when it is not a ringdb database
// (other files are never removed); Busy while the database is open.
Status DestroyDB(const std::string& path);

// "ringdb <major>.<minor>.<patch>".
const char* Version();

}  // namespace ringdb
