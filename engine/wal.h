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
// All file I/O goes through an io::IoBackend (O_DIRECT, whole 4 KiB blocks).
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
#include "io/result.h"
#include "ringdb/status.h"

namespace ringdb::wal {

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
  // Bytes appended but not yet written that the writer holds in memory
  // before an Append writes them out itself. Two buffers of this size are
  // used: one fills while the other is written. A multiple of 4096, at least
  // 8192. Ignored when `buffer` is set.
  size_t buffer_bytes = 4u << 20;
  // Shared, registered buffers (not owned; must outlive the writer). When
  // null the writer allocates its own, which it does not register (see
  // LogBuffer for why).
  LogBuffer* buffer = nullptr;
};

struct LogWriterStats {
  uint64_t records = 0;        // records appended
  uint64_t bytes = 0;          // record bytes appended (headers included)
  uint64_t writes = 0;         // write requests issued to the backend
  uint64_t bytes_written = 0;  // including rewrites of the partial block
  uint64_t syncs = 0;          // fdatasync calls
  uint64_t sync_calls = 0;     // SyncTo calls
  // SyncTo calls that needed a sync and were satisfied by another thread's.
  uint64_t group_commits = 0;
};

// Appends records to one segment.
//
// Memory: appended records are copied into the active buffer (buffer_bytes,
// 4 MiB by default). I/O happens only when a buffer fills (the appender
// writes it out, or waits for the thread writing) or when SyncTo, Flush or
// Close asks for it, so memory never grows past the two buffers; a record
// larger than a buffer is copied and written in buffer-sized pieces. Each
// write covers whole 4 KiB blocks: the partial last block is written padded
// with zeros and rewritten, with its new bytes, by the next write.
//
// Thread-safety: Append, SyncTo, Flush and the accessors may be called
// concurrently from any threads. Close must not run concurrently with any
// other method; after it Append returns InvalidArgument.
//
// Locking: one mutex, mu_, guards all mutable state. It is a leaf: nothing
// else is locked and no I/O is done while it is held (the backend's own
// locks are only taken with mu_ released). At most one thread at a time,
// the leader (io_busy_), does I/O: it detaches the active buffer under mu_,
// writes it (and syncs) with mu_ released while other threads append into
// the other buffer, then retakes mu_ to publish the result. Threads that
// need I/O while the leader works wait on cv_; an Append that must write in
// the middle of its record sets append_busy_ so that no other record is
// copied into the buffer until it is complete.
//
// Failure: the first I/O error makes the writer failed. Every waiter whose
// records were not yet durable, and every later Append, SyncTo and Flush,
// returns that error: the file's tail is then unknown, so the DB must stop
// writing and reopen (recovery finds the valid prefix).
class LogWriter {
 public:
  // Creates segment file `segment` in `dir`, whose first byte has LSN
  // `start_lsn`, and syncs the directory so the file survives a crash.
  // Fails (InvalidArgument) if the segment file already exists or
  // options.buffer is in use by another writer. `io` must outlive the
  // writer. The first overload uses default options: private, unregistered
  // buffers; the DB passes a LogBuffer so that log writes use registered
  // buffers.
  static Result<std::unique_ptr<LogWriter>> Create(io::IoBackend* io,
                                                   const std::string& dir,
                                                   uint64_t segment,
                                                   Lsn start_lsn);
  static Result<std::unique_ptr<LogWriter>> Create(
      io::IoBackend* io, const std::string& dir, uint64_t segment,
      Lsn start_lsn, const LogWriterOptions& options);

  // Closes the file without writing: records not made durable by SyncTo or
  // Close are dropped, as in a crash. Call Close() to keep them.
  ~LogWriter();

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one record and returns its LSN (the position just past it).
  // Records from concurrent callers never interleave; their order in the
  // log is the order in which they got mu_. Copies the payload; does no I/O
  // unless the buffer is full, in which case it writes buffered blocks out
  // (or waits for the thread doing so). A payload larger than the buffer is
  // written through in buffer-sized pieces while other appenders wait.
  // Require: type != 0, payload.size() <= kMaxPayloadSize (else
  // InvalidArgument).
  Result<Lsn> Append(uint8_t type, std::string_view payload);

  // Returns once every record whose LSN is <= lsn is written and
  // fdatasync'd. Group commit: if another thread is doing I/O this one
  // waits for it; then, if lsn is still not durable, one waiter becomes the
  // leader and writes everything appended so far with one write and one
  // fdatasync. Require: lsn <= appended_lsn() (else InvalidArgument).
  Status SyncTo(Lsn lsn);

  // Writes every record appended so far to the file, without fdatasync (a
  // crash may still lose them).
  Status Flush();

  // Writes and syncs everything appended, then closes the file. Returns the
  // first error (the file is closed anyway). Calling it again returns OK.
  Status Close();

  // The segment's first LSN; the LSN just past the last appended record;
  // the LSN up to which records are durable.
  Lsn start_lsn() const { return start_lsn_; }
  Lsn appended_lsn() const;
  Lsn durable_lsn() const;
  LogWriterStats stats() const;
  const std::string& path() const { return path_; }

 private:
  LogWriter(io::IoBackend* io, std::string path, io::FileId file,
            Lsn start_lsn, size_t buffer_bytes, char* region,
            LogBuffer* shared);

  // Waits until no I/O is in flight, then, if the active buffer is still
  // full, writes it out. Require: lock holds mu_.
  Status MakeRoom(std::unique_lock<std::mutex>& lock);
  // Becomes the leader: detaches the active buffer, writes it (and syncs
  // when `sync`) with mu_ released, then publishes the result. Require:
  // lock holds mu_, !io_busy_, failed_.ok().
  Status WriteOut(std::unique_lock<std::mutex>& lock, bool sync);

  io::IoBackend* const io_;
  const std::string path_;
  const io::FileId file_;
  const Lsn start_lsn_;
  const size_t buffer_bytes_;
  char* const region_;  // two buffers of buffer_bytes_
  LogBuffer* const shared_;  // region_'s owner, or null: the writer owns it

  mutable std::mutex mu_;
  std::condition_variable cv_;  // signalled when io_busy_ or append_busy_
                                // clears
  // The active buffer holds the file's bytes [cur_base_, cur_base_ +
  // cur_len_); cur_base_ is block-aligned, and the bytes before
  // written_end_ are a copy of the partial last block already written.
  char* cur_;                 // GUARDED_BY(mu_)
  char* spare_;               // GUARDED_BY(mu_); the leader's while io_busy_
  uint64_t cur_base_ = 0;     // GUARDED_BY(mu_)
  size_t cur_len_ = 0;        // GUARDED_BY(mu_)
  uint64_t written_end_ = 0;  // GUARDED_BY(mu_); file bytes written so far
  Lsn appended_lsn_;          // GUARDED_BY(mu_); end of last complete record
  Lsn written_lsn_;           // GUARDED_BY(mu_); ... of last one written
  Lsn durable_lsn_;           // GUARDED_BY(mu_); ... of last one synced
  bool io_busy_ = false;      // GUARDED_BY(mu_); a leader does I/O
  bool append_busy_ = false;  // GUARDED_BY(mu_); a record is half copied
  bool closed_ = false;       // GUARDED_BY(mu_)
  Status failed_;             // GUARDED_BY(mu_); first I/O error
  LogWriterStats stats_;      // GUARDED_BY(mu_)
};

// Why a LogReader stopped.
enum class LogTail : uint8_t {
  kNotReached,   // Next has not returned eof yet
  kEndOfFile,    // the last record ended exactly at the end of the file
  kZeroFill,     // zeros after the last record: the normal end of a segment
  kTruncated,    // a record runs past the end of the file (or of its
                 // last whole block, see readable_)
  kBadLsn,       // a header's lsn is not its position (stale or garbage)
  kBadType,      // type 0
  kBadLength,    // length > kMaxPayloadSize
  kBadChecksum,  // torn or corrupted record
};
const char* LogTailName(LogTail tail);

// Reads the records of one segment in order, in big aligned chunks.
//
// Thread-safety: not thread-safe; use from one thread at a time.
class LogReader {
 public:
  static constexpr size_t kDefaultChunkBytes = 1u << 20;

  // Opens segment file `path` (read-only) whose first byte has LSN
  // `start_lsn`. `chunk_bytes` (a multiple of 4096) is the read size. `io`
  // must outlive the reader.
  static Result<std::unique_ptr<LogReader>> Open(
      io::IoBackend* io, const std::string& path, Lsn start_lsn,
      size_t chunk_bytes = kDefaultChunkBytes);
  ~LogReader();

  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads the next record into *payload and *type and sets *end_lsn to its
  // LSN and *eof = false. At the end of the valid log (end of file, or the
  // first record that fails a check, see wal_format.h) sets *eof = true,
  // leaves *type and *end_lsn unchanged and *payload unspecified; later
  // calls return eof again. An I/O error returns a non-OK Status.
  Status Next(std::string* payload, uint8_t* type, Lsn* end_lsn, bool* eof);

  // The LSN just past the last record returned; after eof, where the valid
  // log ends (a new segment or writer continues from here).
  Lsn end_of_valid_log() const { return start_lsn_ + pos_; }
  // Why the reader stopped (kNotReached before eof).
  LogTail tail() const { return tail_; }
  uint64_t file_size() const { return file_size_; }

 private:
  LogReader(io::IoBackend* io, io::FileId file, std::string path,
            Lsn start_lsn, uint64_t file_size, size_t chunk_bytes,
            char* chunk);

  // Copies file bytes [offset, offset + n) to dst, reading chunks as
  // needed. Require: offset + n <= readable_.
  Status Copy(uint64_t offset, size_t n, char* dst);
  Status Stop(LogTail tail, bool* eof);

  io::IoBackend* const io_;
  const io::FileId file_;
  const std::string path_;
  const Lsn start_lsn_;
  const uint64_t file_size_;
  // The io layer reads whole blocks and treats a request that runs past the
  // end of the file as an error, so the bytes after the last whole block of
  // a file whose size is not a multiple of 4096 cannot be read. LogWriter
  // never leaves such a file; the reader treats that part as truncated.
  const uint64_t readable_;
  const size_t chunk_bytes_;
  char* const chunk_;  // chunk_bytes_, aligned
  uint64_t chunk_offset_ = 0;
  size_t chunk_len_ = 0;  // 0: nothing loaded
  uint64_t pos_ = 0;      // file offset of the next record
  LogTail tail_ = LogTail::kNotReached;
};

}  // namespace ringdb::wal
