// The write-ahead log: LogWriter appends records to one segment file with
// group commit, LogReader reads a segment back and finds where it ends, and
// a few functions name, list and delete segment files. The format is in
// engine/wal_format.h.
//
// Who uses it: the DB appends every WriteBatch through one LogWriter (any
// number of writer threads), and recovery reads the segments from the last
// checkpoint with LogReader (one thread). Rolling over to a new segment is
// the caller's job: Close the old writer and Create the next segment at the
// old writer's appended_lsn(); records never cross segments.
//
// All file I/O goes through an io::IoBackend; log files are opened through
// the page cache (IoBackend::OpenBuffered), as MySQL writes its redo log in
// O_DIRECT mode, and the writer keeps them from filling the page cache.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bufferpool/page.h"
#include "io/io_backend.h"
#include "util/result.h"
#include "ringdb/status.h"

namespace ringdb::wal {

// The unit of the log's direct I/O: segment writes, reads and the mapped
// window are aligned to it (shared by wal.cc and wal_writer.cc).
inline constexpr uint64_t kBlock = io::kDirectIoAlignment;
inline constexpr uint64_t AlignDown(uint64_t v) { return v & ~(kBlock - 1); }

// "wal-<16 hex digits>.log".
std::string SegmentFileName(uint64_t segment);
// dir + "/" + SegmentFileName(segment).
std::string SegmentPath(const std::string& dir, uint64_t segment);
// True when `name` (no directory) is a segment file name; sets *segment.
bool ParseSegmentFileName(std::string_view name, uint64_t* segment);
// The segment numbers found in `dir`, ascending. Other files are ignored.
Result<std::vector<uint64_t>> ListSegments(const std::string& dir);
// Deletes every segment numbered below `segment`, then syncs the directory.
// Require: no LogWriter or LogReader has one of them open.
// Goes through `io` (unlinks and the directory fsync), so tests can fail it.
Status DeleteSegmentsBefore(io::IoBackend* io, const std::string& dir, uint64_t segment);

// The aligned memory a LogWriter appends into: two buffers of
// buffer_bytes, allocated once with mmap and registered with the backend
// once, then reused by successive writers (one per segment), so that log
// writes are fixed-buffer writes on io_uring.
//
// Lifetime: it must outlive every writer using it, and the backend must
// outlive it (the destructor unregisters the region before unmapping it).
// Create one per DB open and reuse it for every segment: each costs a
// registration slot and pinned memory.
//
// Thread-safety: used by one LogWriter at a time (Create fails otherwise).
class LogBuffer {
 public:
  // `buffer_bytes`: a multiple of 4096, at least 8192. A registration the
  // kernel refuses (RLIMIT_MEMLOCK, slot limits) is not an error: see
  // registration().
  static Result<std::unique_ptr<LogBuffer>> Create(io::IoBackend* io,
                                                   size_t buffer_bytes);
  ~LogBuffer();

  LogBuffer(const LogBuffer&) = delete;
  LogBuffer& operator=(const LogBuffer&) = delete;

  size_t buffer_bytes() const { return buffer_bytes_; }
  // OK, or why the backend refused to register the region (writes then use
  // plain I/O). The caller reports it once.
  const Status& registration() const { return registration_; }

 private:
  friend class LogWriter;
  LogBuffer(io::IoBackend* io, char* region, size_t buffer_bytes)
      : io_(io), region_(region), buffer_bytes_(buffer_bytes) {}

  io::IoBackend* const io_;
  char* const region_;  // 2 * buffer_bytes_
  const size_t buffer_bytes_;
  Status registration_;
  std::atomic<bool> in_use_{false};
};

struct LogWriterOptions {
  // Bytes appended but not yet written that the writer holds in memory. Two
  // buffers of this size are used: one fills while the other is written.
  // A multiple of 4096, at least 8192. Ignored when `buffer` is set.
  size_t buffer_bytes = 4u << 20;
  // Shared, registered buffers (not owned; must outlive the writer). When
  // null the writer allocates its own, which it does not register (see
  // LogBuffer for why).
  LogBuffer* buffer = nullptr;
  // Keeps the log out of the page cache: once this many bytes are written
  // since the last such step, the writer starts their write-back and drops
  // the previous step's pages; after a sync it drops every synced page once
  // this many have accumulated. 0 turns it off.
  size_t cache_drop_bytes = 1u << 20;
  // Writes by copying into a shared mapping of the segment (a window of
  // this many bytes, a multiple of 4096) instead of one write(2) per group
  // commit: a copy reaches the file as a write does (it survives a crash
  // of the process), without a system call. The window's blocks are
  // reserved (fallocate) before it is mapped, which extends the file, so a
  // writer that was not closed leaves zeros after its last record;
  // recovery reads a zero tail as the end of the log (wal_format.h), and
  // Close cuts the file back to its last record. 0 writes with write(2).
  // Falls back to write(2) where the backend (the fault backend) or the
  // file system cannot map or reserve, and for a write the full disk
  // leaves no reserve for (it then fails as write(2) does).
  size_t map_bytes = 0;
};

struct LogWriterStats {
  uint64_t records = 0;        // records appended
  uint64_t fragments = 0;      // fragments appended (records split in many)
  uint64_t bytes = 0;          // record bytes appended (headers included)
  uint64_t writes = 0;         // write requests issued to the backend
  uint64_t bytes_written = 0;  // (the segment header is not counted)
  uint64_t syncs = 0;          // fdatasync calls
  uint64_t write_calls = 0;    // WriteTo calls
  uint64_t sync_calls = 0;     // SyncTo calls
  // SyncTo calls that needed a sync and were satisfied by another thread's.
  uint64_t group_commits = 0;
  uint64_t cache_drops = 0;       // page-cache drop hints issued
  uint64_t cache_advice_errors = 0;  // hints the kernel refused
  uint64_t mapped_writes = 0;  // writes done by copying into the mapping
};

// Appends records to one segment.
//
// The file is opened through the page cache (IoBackend::OpenBuffered) and
// records are only ever added after the last one; see wal_format.h. Create
// writes and syncs the segment header. With LogWriterOptions::map_bytes the
// leader copies into a mapping of the file instead of writing, and the file
// is reserved ahead of its records (its size runs ahead of them until
// Close cuts it back).
//
// Memory: appended records are copied into the active buffer (buffer_bytes,
// 4 MiB by default). WriteTo, SyncTo and Close write everything appended so
// far with one write (group commit: whoever is the leader writes for all);
// Append writes only when the buffer fills, so memory never grows past the
// two buffers, and a record larger than a buffer is written in
// buffer-sized pieces.
//
// Thread-safety: Append, WriteTo, SyncTo, Flush and the accessors may be
// called concurrently from any threads. Close must not run concurrently
// with any other method; after it Append returns InvalidArgument.
//
// Locking: one mutex, mu_, guards all mutable state. It is a leaf: nothing
// else is locked and no I/O is done while it is held (the backend's own
// locks are only taken with mu_ released). At most one thread at a time,
// the leader (io_busy_), does I/O: it detaches the active buffer under mu_,
// writes it (and syncs) with mu_ released while other threads append into
// the other buffer, then retakes mu_ to publish the result. The page-cache
// bookkeeping (wb_end_, dropped_end_) belongs to the leader. Threads that
// need I/O while the leader works wait on cv_; an Append that must write in
// the middle of its record sets append_busy_ so that no other record is
// copied into the buffer until it is complete.
//
// Failure: the first I/O error makes the writer failed. Every waiter whose
// records were not yet written (or durable), and every later Append,
// WriteTo, SyncTo and Flush, returns that error: the file's tail is then
// unknown, so the DB must stop writing and reopen (recovery finds the valid
// prefix). Arguments a call refuses (InvalidArgument) never fail the
// writer.
class LogWriter {
 public:
  // Creates segment file `segment` in `dir`, whose first byte has LSN
  // `start_lsn`, writes and syncs its header, and syncs the directory so
  // the file survives a crash. Fails (InvalidArgument) if the segment file
  // already exists or options.buffer is in use by another writer. `io`
  // must outlive the writer.
  static Result<std::unique_ptr<LogWriter>> Create(io::IoBackend* io,
                                                   const std::string& dir,
                                                   uint64_t segment,
                                                   Lsn start_lsn);
  static Result<std::unique_ptr<LogWriter>> Create(
      io::IoBackend* io, const std::string& dir, uint64_t segment,
      Lsn start_lsn, const LogWriterOptions& options);

  // Closes the file without writing: records not written by WriteTo,
  // SyncTo or Close are dropped, as in a crash of the process. Call Close()
  // to keep them.
  ~LogWriter();

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one record of any size and returns its LSN (the position just
  // past it). Records from concurrent callers never interleave; their
  // order in the log is the order in which they got mu_. Copies the
  // payload, split into fragments of at most kMaxFragmentPayload bytes;
  // does no I/O unless the buffer is full, in which case it writes
  // buffered bytes out (or waits for the thread doing so).
  // Require: type != 0 (else InvalidArgument).
  Result<Lsn> Append(uint8_t type, std::string_view payload);

  // Returns once every record whose LSN is <= lsn is written to the file
  // (in the kernel: it survives a crash of the process, not of the
  // machine). Group commit: if another thread is doing I/O this one waits
  // for it; then, if lsn is still not written, it becomes the leader and
  // writes everything appended so far with one write. Require: lsn <=
  // appended_lsn() (else InvalidArgument).
  Status WriteTo(Lsn lsn);

  // Returns once every record whose LSN is <= lsn is written and
  // fdatasync'd (it survives a crash of the machine). Group commit as in
  // WriteTo, with one write and one fdatasync per group. Require: lsn <=
  // appended_lsn() (else InvalidArgument).
  Status SyncTo(Lsn lsn);

  // WriteTo(appended_lsn()).
  Status Flush();

  // Writes and syncs everything appended, cuts a reserved tail off (the
  // file then ends at its last record) and syncs the size, drops the file
  // from the page cache, then closes it. Returns the first error (the file
  // is closed anyway; a reserve is then left for the owner to cut, as
  // DBImpl::RepairLogLocked does). Calling it again returns OK.
  Status Close();

  // The segment's first LSN; the LSN just past the last appended record;
  // the LSN up to which records are written (in the kernel); the LSN up to
  // which they are durable.
  Lsn start_lsn() const { return start_lsn_; }
  Lsn appended_lsn() const;
  Lsn written_lsn() const;
  Lsn durable_lsn() const;
  LogWriterStats stats() const;
  const std::string& path() const { return path_; }

 private:
  LogWriter(io::IoBackend* io, std::string path, io::FileId file,
            Lsn start_lsn, const LogWriterOptions& options,
            size_t buffer_bytes, char* region, LogBuffer* shared);

  // Copies `part` into the active buffer, writing full buffers out.
  // Require: lock holds mu_ and append_busy_ is set by this thread when
  // the record has more to copy after a write.
  Status CopyIn(std::unique_lock<std::mutex>& lock, std::string_view part);
  // Waits until no I/O is in flight, then, if the active buffer is still
  // full, writes it out. Require: lock holds mu_.
  Status MakeRoom(std::unique_lock<std::mutex>& lock);
  // Becomes the leader: detaches the active buffer, writes it (and syncs
  // when `sync`) with mu_ released, then publishes the result. Require:
  // lock holds mu_, !io_busy_, failed_.ok().
  Status WriteOut(std::unique_lock<std::mutex>& lock, bool sync);
  // Waits until `done()` holds, leading writes (and syncs when `sync`) as
  // needed. Require: lock holds mu_.
  template <typename Done>
  Status LeadUntil(std::unique_lock<std::mutex>& lock, bool sync, Done done,
                   bool* led);
  // The leader's page-cache step after writing up to `end` (synced when
  // `synced`). Runs with mu_ released; returns the hints issued and failed.
  void DropCache(uint64_t end, bool synced, uint64_t* drops,
                 uint64_t* errors);
  // The leader's write of the file's bytes [base, base + len) from `buf`:
  // through the mapping when it can (sets *mapped), else with write(2).
  Status WriteBytes(uint64_t base, const char* buf, size_t len, bool* mapped);
  // Copies into the mapping, mapping and reserving windows as it goes.
  // False when it cannot (the caller writes instead): the backend or file
  // system cannot map or reserve (map_off_ is then set), or the disk is
  // full.
  bool CopyToMapping(uint64_t base, const char* buf, size_t len);
  // Maps the window starting at `start` in place of the current one and
  // reserves its blocks.
  bool MapWindow(uint64_t start);
  void UnmapWindow();
  // Close's last step for a reserved file (unmapped by then): cuts the
  // file to its `end` (the last record) and syncs the new size.
  Status TrimReserve(uint64_t end);

  io::IoBackend* const io_;
  const std::string path_;
  const io::FileId file_;
  const Lsn start_lsn_;
  const size_t buffer_bytes_;
  const size_t cache_drop_bytes_;
  char* const region_;  // two buffers of buffer_bytes_
  LogBuffer* const shared_;  // region_'s owner, or null: the writer owns it

  // The fields every committing writer touches start on their own cache
  // line, and the fields after them on another, so that no neighbour on the
  // heap shares their lines (how fast two writers go depended on where the
  // allocator happened to put this object).
  alignas(64) mutable std::mutex mu_;
  std::condition_variable cv_;  // signalled when io_busy_ or append_busy_
                                // clears
  // The active buffer holds the file's bytes [cur_base_, cur_base_ +
  // cur_len_), which follow every byte written or being written.
  char* cur_;                 // GUARDED_BY(mu_)
  char* spare_;               // GUARDED_BY(mu_); the leader's while io_busy_
  uint64_t cur_base_ = 0;     // GUARDED_BY(mu_)
  size_t cur_len_ = 0;        // GUARDED_BY(mu_)
  Lsn appended_lsn_;          // GUARDED_BY(mu_); end of last complete record
  // Written under mu_ (release); written_lsn() and durable_lsn() read them
  // without it (the DB asks before every commit whether another leader
  // already wrote its record).
  std::atomic<Lsn> written_lsn_;  // end of last complete record written
  std::atomic<Lsn> durable_lsn_;  // ... of last one synced
  static_assert(std::atomic<Lsn>::is_always_lock_free);
  bool io_busy_ = false;      // GUARDED_BY(mu_); a leader does I/O
  bool append_busy_ = false;  // GUARDED_BY(mu_); a record is half copied
  bool closed_ = false;       // GUARDED_BY(mu_)
  Status failed_;             // GUARDED_BY(mu_); first I/O error
  LogWriterStats stats_;      // GUARDED_BY(mu_)
  // The leader's (see Locking): file bytes whose write-back was started,
  // and those dropped from the page cache.
  alignas(64) uint64_t wb_end_ = 0;
  uint64_t dropped_end_ = 0;
  // The leader's too: the mapped window [map_start_, map_start_ +
  // map_bytes_) or null, whether it is mlocked (so a write never faults in
  // a page from the device, where a read error would be SIGBUS), the file
  // bytes reserved (the file's size once reserving started), and whether
  // mapping was found impossible.
  const size_t map_bytes_;
  char* map_ = nullptr;
  uint64_t map_start_ = 0;
  bool map_locked_ = false;
  uint64_t reserved_ = 0;
  bool map_off_ = false;
};

// Copies `n` bytes from `src` to `dst` storing them in increasing address
// order (stores of up to 16 bytes, none straddling two pages), so that a
// process killed during the copy leaves a prefix of it in `dst`. The mapped
// log writer copies with it: memcpy has no such order (glibc stores the
// first bytes of a long copy last), and a killed copy then left a record
// header of zeros in front of whole records, which recovery must read as
// damage, not as a torn tail.
void CopyInOrder(char* dst, const char* src, size_t n);

// Why a LogReader stopped.
enum class LogTail : uint8_t {
  kNotReached,   // Next has not returned eof yet
  kEndOfFile,    // the last record ended exactly at the end of the file
  kZeroFill,     // zeros where a record should begin
  kTruncated,    // a record (or the segment header) runs past the end of
                 // the file
  kBadLsn,       // a header's lsn is not its position (stale or garbage)
  kBadType,      // type 0
  kBadLength,    // length > kMaxFragmentPayload
  kBadChecksum,  // torn or corrupted fragment
  kBadFragment,  // unknown fragment kind, or fragments out of order
  kBadSegmentHeader,  // bad magic or checksum in the segment header
};
const char* LogTailName(LogTail tail);

// What lies past the point where a LogReader stopped (LogReader::Diagnose).
struct LogDamage {
  uint64_t offset = 0;     // file offset of the fragment that failed
  Lsn lsn;             // its LSN
  bool followed = false;   // a valid record starts later in the file
  uint64_t next_offset = 0;  // where (file offset), when followed
  Lsn next_lsn;          // its LSN
  // Valid records from next_offset up to the end of the file or the next
  // damage, and the largest durable field among them.
  uint64_t records_after = 0;
  Lsn max_durable_after;
  // An all-zero, kSectorSize-aligned sector lies in [offset, next_offset).
  bool zero_sector = false;
  // Nothing but zeros from offset to the end of the file (not followed):
  // the reserved tail of a mapped writer that was not closed, or pages a
  // machine crash lost up to the end (see wal_format.h).
  bool zero_to_end = false;

  // True when the stop is explainable by a crash (see wal_format.h): the
  // normal, quiet end of a log. False: the log is damaged.
  bool TornTail() const {
    if (!followed) return true;
    return max_durable_after < next_lsn && zero_sector;
  }
};

// Reads the records of one segment in order, in big aligned chunks.
//
// Thread-safety: not thread-safe; use from one thread at a time.
class LogReader {
 public:
  static constexpr size_t kDefaultChunkBytes = 1u << 20;

  // Opens segment file `path` (read-only, through the page cache) whose
  // first byte should have LSN `start_lsn`, and checks its header. A
  // segment whose header names another start LSN stops at offset 0 with
  // kBadLsn. NotSupported for a segment of another log format version
  // (named in the message). `chunk_bytes` (a multiple of 4096) is the read
  // size. `io` must outlive the reader.
  static Result<std::unique_ptr<LogReader>> Open(
      io::IoBackend* io, const std::string& path, Lsn start_lsn,
      size_t chunk_bytes = kDefaultChunkBytes);
  ~LogReader();

  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads the next record (its fragments joined) into *payload and *type,
  // sets *end_lsn to its LSN and *eof = false. At the end of the valid log
  // (end of file, or the first record that fails a check, see
  // wal_format.h) sets *eof = true, leaves *type and *end_lsn unchanged and
  // *payload unspecified; later calls return eof again. An I/O error
  // returns a non-OK Status.
  Status Next(std::string* payload, uint8_t* type, Lsn* end_lsn, bool* eof);

  // After eof with a tail other than kEndOfFile: looks past the failed
  // fragment for the next valid record and reads on from there (see
  // LogDamage). Costs a scan of the rest of the file.
  Status Diagnose(LogDamage* damage);

  // After Diagnose found damage.followed: continues reading at
  // damage.next_offset (the damaged bytes are skipped).
  void SkipTo(const LogDamage& damage);

  // The LSN just past the last record returned; after eof, where the valid
  // log ends (a new segment or writer continues from here).
  Lsn end_of_valid_log() const { return start_lsn_ + pos_; }
  // Why the reader stopped (kNotReached before eof).
  LogTail tail() const { return tail_; }
  // File offset of the fragment that failed (after eof).
  uint64_t failed_offset() const { return failed_offset_; }
  Lsn start_lsn() const { return start_lsn_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& path() const { return path_; }

 private:
  LogReader(io::IoBackend* io, io::FileId file, std::string path,
            Lsn start_lsn, uint64_t file_size, size_t chunk_bytes,
            char* chunk);

  // Checks the segment header; sets pos_ past it or stops.
  Status ReadSegmentHeader();
  // Copies file bytes [offset, offset + n) to dst, reading chunks as
  // needed. Require: offset + n <= file_size_.
  Status Copy(uint64_t offset, size_t n, char* dst);
  // Checks the fragment header at `offset` (without its checksum). Sets
  // *tail to kNotReached when it is plausible.
  Status CheckHeader(uint64_t offset, char* header, LogTail* tail);
  // Reads the record at `offset`: on success *tail is kNotReached and
  // *next is where the next record begins; otherwise *tail says why and
  // *failed where. *max_durable is raised to the records' durable fields.
  Status ReadRecordAt(uint64_t offset, std::string* payload, uint8_t* type,
                      uint64_t* next, Lsn* max_durable, LogTail* tail,
                      uint64_t* failed);
  Status Stop(LogTail tail, bool* eof);

  io::IoBackend* const io_;
  const io::FileId file_;
  const std::string path_;
  const Lsn start_lsn_;
  const uint64_t file_size_;
  const size_t chunk_bytes_;
  char* const chunk_;  // chunk_bytes_, aligned
  uint64_t chunk_offset_ = 0;
  size_t chunk_len_ = 0;  // 0: nothing loaded
  uint64_t pos_ = 0;      // file offset of the next record
  uint64_t failed_offset_ = 0;
  LogTail tail_ = LogTail::kNotReached;
};

}  // namespace ringdb::wal
