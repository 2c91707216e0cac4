// Options for opening a database and for single reads and writes.
//
// Plain structs: fill them on one thread, then hand them to DB::Open / the
// DB methods, which copy what they need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ringdb/eviction_policy.h"

namespace ringdb {

// How pages move between the buffer pool and the disk.
enum class IoBackendKind : uint8_t {
  kIoUring,   // O_DIRECT through io_uring with registered buffers (default).
  kPread,     // O_DIRECT with pread/pwrite; the fallback when io_uring is
              // unavailable.
  kBuffered,  // Through the kernel page cache. For comparisons only: the
              // page cache then holds a second copy of every page.
};

// What Open does when the write-ahead log is damaged (as RocksDB's
// WALRecoveryMode). The log ends, normally, where a crash cut it: a torn
// tail, the last record cut short or pages written after the last sync
// lost (see engine/wal_format.h for how ringdb tells that apart from
// damage: a damaged record followed by valid ones, or one that was synced
// before a later record was written). A refusal is a Corruption status
// naming the log segment file and the offset of the damaged record.
enum class WalRecoveryMode : uint8_t {
  // Default. A torn tail is a normal end: the writes in it were never
  // acknowledged as durable (and, for sync = false, only a machine crash
  // can tear the log). Damage anywhere else refuses to open.
  kTolerateCorruptedTailRecords,
  // Any stop other than the clean end of the log refuses to open, a torn
  // tail too (as in RocksDB, even a record cut by a crash of the process
  // in the middle of its write). For databases that are always closed
  // cleanly or that must never lose a logged write silently.
  kAbsoluteConsistency,
  // Salvage: recover up to the first damage of any kind and drop the rest
  // of the log (later segments too). Opens what came before and says so
  // through info_log (segment, offset, records dropped).
  kPointInTimeRecovery,
  // Salvage: skip each damaged region, keep every valid record after it,
  // and say through info_log how many regions and bytes were skipped. The
  // database may then hold a later write without an earlier one.
  kSkipAnyCorruptedRecords,
};

struct Options {
  // Create the database when `path` does not exist.
  bool create_if_missing = true;
  // Fail when the database already exists.
  bool error_if_exists = false;
  // Open for reading only: writes return InvalidArgument, nothing is written
  // to the files (not even recovery's checkpoint). Without a writer the
  // handle sees every write (and refuses a log that needs replaying: open
  // once read-write). Beside a writer (another process, or another handle,
  // holding the database) it opens at once and sees the database as of the
  // writer's last checkpoint, never later writes; the property
  // "ringdb.read_only_snapshot" then says so (empty otherwise), and the
  // writer keeps that checkpoint's pages, growing its file, until the
  // reader closes.
  bool read_only = false;

  // The memory budget for cached pages, in bytes, at Open. At least 16
  // pages. DB::SetBufferPoolBytes changes it while the database is open,
  // up to buffer_pool_max_bytes.
  size_t buffer_pool_bytes = 64ull << 20;

  // The most DB::SetBufferPoolBytes may grow the pool to; 0 (or less than
  // buffer_pool_bytes): buffer_pool_bytes. Only address space is reserved
  // for it at Open, plus about 100 bytes of bookkeeping per page of the
  // maximum; memory beyond buffer_pool_bytes is taken (locked, registered
  // for I/O) in chunks of buffer_pool_chunk_bytes as the pool grows into
  // them, and given back when it shrinks, as InnoDB does with
  // innodb_buffer_pool_chunk_size.
  size_t buffer_pool_max_bytes = 0;
  size_t buffer_pool_chunk_bytes = 128ull << 20;

  // Page size in bytes: a power of two from 4096 to 65536. Fixed when the
  // database is created; on an existing database a different value is
  // ignored (the stored one wins).
  uint32_t page_size = 4096;

  // Eviction policy by name: "lru", "clock", "midpoint", "sieve", "s3fifo".
  std::string eviction_policy = "clock";
  // A user-supplied policy; when set it wins over `eviction_policy`.
  std::shared_ptr<EvictionPolicy> eviction_policy_object;

  IoBackendKind io_backend = IoBackendKind::kIoUring;

  // Lock the buffer pool in memory (mlock) when RLIMIT_MEMLOCK allows.
  bool lock_pool_memory = true;

  // Write a checkpoint once the log grows past this many bytes.
  uint64_t checkpoint_log_bytes = 256ull << 20;

  // A background thread writes dirty pages that no write has changed for
  // the last 1/16 of checkpoint_log_bytes of log, once the log since the
  // checkpoint passes a quarter of it, so a checkpoint (which holds writers
  // back while it flushes) finds little left to write. Costs a second write
  // of a page changed again before the checkpoint. Off: the checkpoint
  // writes every dirty page itself.
  bool page_cleaner = true;

  // How full DB::Compact packs the leaves: the share of each leaf page's
  // usable bytes it fills before starting the next leaf, from 0.5 to 1
  // (Open refuses other values). The default, 1, makes the file as small
  // as the data allows, as an LSM's compaction writes full files; a key
  // later inserted into a full leaf splits it in two half-full ones, so a
  // database that will take many more random inserts may prefer about
  // 0.9 (InnoDB's bulk loads leave 1/16 of each page free).
  double compact_leaf_fill = 1.0;

  // The idle compactor: once no write has arrived for idle_compact_ms, a
  // background thread samples 64 leaves (random descents, reading at most
  // 64 pages) and, when their mean fill is below idle_compact_fill and the
  // live pages take at least idle_compact_min_bytes, runs what
  // DB::Compact runs, so that after a load of random keys (leaves about
  // 84% full) the file shrinks to the packed size without a call. Packed
  // leaves split at the first inserts, so a few percent of new keys make
  // the tree sparse again: it waits until the log has grown by half the
  // live pages' bytes since the last compaction (since the database was
  // created, for the first in a process), so compactions write a small
  // multiple of what the writes did, not the whole tree per burst. It
  // stops between steps as soon as a write arrives (a write waits at most
  // for one step: a parent's leaves, or a checkpoint) and tries again
  // after the next idle period; a tree it found dense enough is sampled
  // again only after more writes. 0 turns it off. DB::CompactIfSparse runs
  // the same test and compaction at once. Open refuses idle_compact_fill
  // outside [0, 1] (0: never sparse enough).
  uint32_t idle_compact_ms = 1000;
  double idle_compact_fill = 0.9;
  uint64_t idle_compact_min_bytes = 32ull << 20;

  // What Open does with a damaged log; see WalRecoveryMode.
  WalRecoveryMode wal_recovery_mode =
      WalRecoveryMode::kTolerateCorruptedTailRecords;

  // Space kept free on the file system of the database directory, so that
  // a checkpoint, a recovery and a clean close always have room. A write
  // is admitted only while the free space (statvfs) stays at least
  //   reserved_disk_bytes
  //   + what a checkpoint would write now: every dirty page of the pool
  //     (shadow paging may put each in a fresh slot), the page map and the
  //     first block of a new log segment
  //   + the write's own log record.
  // When it would not be, and the log since the last checkpoint is larger
  // than the shortfall, the write first checkpoints (deleting that log;
  // property "ringdb.checkpoints_for_space" counts these) and checks again.
  // Otherwise it fails with NoSpace (naming the directory, how much to free
  // and how the figure is made up) and the database turns read-only (a soft
  // error, see DB::Resume) before the disk is full to the last byte. So a
  // pool that holds many dirty pages stops writes earlier than a small one:
  // those pages are space the close will need. Free space is read at most
  // every 100 ms, or sooner once the log, the dirty pages and write-backs
  // have used half the margin left. kAutoReservedDiskBytes: the smaller of
  // 64 MiB and 1/8 of the file system's size (3 MiB on a 24 MiB file
  // system). 0 turns the whole check off (then the file system may fill,
  // and a close may fail with NoSpace; nothing acknowledged is lost: the
  // next Open replays the log once there is room).
  static constexpr uint64_t kAutoReservedDiskBytes = ~uint64_t{0};
  uint64_t reserved_disk_bytes = kAutoReservedDiskBytes;

  // After a soft write error (see DB::Resume) a background thread calls
  // Resume() after this many milliseconds, doubling the wait after each
  // failed attempt up to 32 times this interval, until writes are accepted
  // again or the database is closed. 0 disables it (call DB::Resume()
  // yourself). Hard errors are never retried.
  uint32_t auto_resume_interval_ms = 1000;

  // Snapshots (DB::GetSnapshot, and every iterator, which reads as of its
  // creation) keep the values that later writes replace, in memory, until
  // released. Past snapshot_notice_bytes of such old versions one notice
  // goes to info_log (again after they fall under half of it); past
  // snapshot_max_bytes the oldest snapshots expire until the rest fit: a
  // read through an expired snapshot (or an iterator on one) fails with
  // InvalidArgument naming this limit, instead of memory growing without
  // bound. 0 turns the notice or the limit off. Properties
  // "ringdb.snapshots.*" and the stats line show what is held.
  uint64_t snapshot_notice_bytes = 64ull << 20;
  uint64_t snapshot_max_bytes = 1ull << 30;

  // Deletes whose leaf page is not cached are logged and then buffered in
  // memory instead of reading that leaf at once (InnoDB's change buffer,
  // for deletes): reads see them at once; they reach the B+tree later, in
  // key order and with their leaves read together, when the buffer is
  // full, at each checkpoint and at Close. This bounds the buffer's memory
  // (keys plus about 96 bytes each, on the heap beside the pool).
  // Only DB::Delete of one key is buffered, and only while no snapshot or
  // iterator is open. kAutoDeleteBufferBytes: a quarter of
  // buffer_pool_bytes (InnoDB's default innodb_change_buffer_max_size is
  // 25% of its pool). 0: every delete reads its leaf at once. Properties
  // "ringdb.delete_buffer.*" and the stats line show it.
  static constexpr uint64_t kAutoDeleteBufferBytes = ~uint64_t{0};
  uint64_t delete_buffer_bytes = kAutoDeleteBufferBytes;

  // A cache of hot key-value pairs for DB::Get, beside the buffer pool
  // (RocksDB's row_cache). It helps skewed reads when the data does not
  // fit: the pool keeps whole pages, so a cached leaf holding one hot key
  // spends 4 KiB on it, while this cache spends the key and value plus
  // about 40 bytes. Gets without a snapshot read it first and fill it on a
  // miss; writes drop their keys from it, so it never returns a replaced
  // value. MultiGet, iterators and snapshot reads do not use it. Memory on
  // the heap, on top of buffer_pool_bytes: to keep one budget, take it out
  // of the pool (ringdb_bench's --ringdb_row_cache does). 0: off.
  // Properties "ringdb.row_cache.*" and the stats line show it.
  //
  // kAutoRowCacheBytes (the default): adaptive. buffer_pool_bytes is then
  // the whole budget. While the pool evicts (the data does not fit) and
  // the Gets are skewed (keys read again soon) and make at least half the
  // device reads, the engine moves a quarter of the budget from the pool
  // to the row cache, a thirty-second at a time, and then more, up to
  // three quarters, while one more step would save more device reads
  // than a step of pool costs; when that stops being so (scans, MultiGet,
  // uniform Gets, or data that fits) it moves it back
  // (engine/db_cache_balance.cc). While the pool does not evict,
  // Get does not look at the row cache. DB::SetBufferPoolBytes sets the
  // whole budget. The pool's memory then comes in chunks of one step
  // (buffer_pool_chunk_bytes is not used), so each move gives whole chunks
  // back. A pool under 512 pages (2 MiB of 4 KiB pages) is not split: no
  // row cache. The properties "ringdb.row_cache.adaptive", ".on" and
  // ".moves_to_*" and the stats line's "split:" show it.
  static constexpr uint64_t kAutoRowCacheBytes = ~uint64_t{0};
  uint64_t row_cache_bytes = kAutoRowCacheBytes;

  // Receives one-line notices (fallbacks, recovery, write errors and
  // resumes). Default: stderr. May be called from the auto-resume thread.
  std::function<void(std::string_view)> info_log;
};

class Snapshot;

// Options of a read. Page checksums are always verified when a page comes
// from disk (a cached page was verified when it was read), so there is no
// switch for them: an unverified page would be cached for every reader.
struct ReadOptions {
  // Read the database as of this snapshot (DB::GetSnapshot of the same
  // DB, not yet released). Null: Get reads the newest value; MultiGet and
  // a new iterator read as of the call (an implicit snapshot, released
  // when MultiGet returns or the iterator is destroyed).
  const Snapshot* snapshot = nullptr;
};

// Durability of an acknowledged write (one that returned OK), the two
// promises LevelDB and RocksDB make:
//   sync = false: it survives a crash of the process (SIGKILL, abort, an
//     uncaught exception): its log record was handed to the kernel (written
//     through the page cache) before the call returned. A crash of the
//     machine (power loss, kernel panic) may lose it, and then every later
//     write too, never an earlier synced one.
//   sync = true: it also survives a crash of the machine: its log record
//     was fdatasync'd before the call returned (group commit: concurrent
//     sync writers share one write and one fdatasync).
// Either way a batch is applied whole or not at all after recovery. Data
// pages use O_DIRECT; only the log goes through the page cache, and the
// engine drops its pages once they are written back, so the page cache
// does not grow with it (MySQL's O_DIRECT mode with
// innodb_flush_log_at_trx_commit = 2 for sync = false, = 1 for sync =
// true).
struct WriteOptions {
  bool sync = false;
};

}  // namespace ringdb
