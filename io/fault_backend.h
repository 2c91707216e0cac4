// FaultBackend: an IoBackend for tests that wraps a real backend and makes
// chosen operations fail the way a failing device or a crashing machine
// does, and that can simulate a power cut by dropping every write that was
// not followed by an fdatasync of its file.
//
// Faults: Arm() names the nth read, write, sync or open (counted from the
// Arm call) and how it fails:
//   kEio / kEnospc  the operation does nothing and returns IOError/NoSpace;
//   kShortWrite     only the first `bytes` bytes of the write reach the file
//                   and the request returns IOError("... short write ...");
//   kTornWrite      the first `bytes` bytes reach the file, the rest does
//                   not, and the request returns IOError (EIO), as a crash
//                   in the middle of the write would leave it.
// For short and torn writes on a direct inner backend the prefix is written
// by read-modify-write of whole 4096-byte blocks: the rest of the touched
// blocks keeps its old content (zeros past the old end of file, so a torn
// extending write leaves the file ending at the next block boundary).
// kShortWrite/kTornWrite armed on a read, sync or open act as kEio. Other
// requests of the same Submit proceed normally. A fault fires once; with
// `crash` set every later operation (read, write, sync, open, size,
// truncate) fails with EIO until Disarm() or PowerCut() restarts the
// "machine". Close always goes through so descriptors are not leaked.
//
// Power cuts: with TrackUnsynced(true), before each write (and each
// shrinking Truncate) the backend saves the pre-image of the range, unless
// that range is already saved since the file's last successful Sync; Sync
// forgets the file's pre-images. PowerCut() puts every saved pre-image back
// and cuts each file to its size at its last sync (the size when tracking
// first touched it since then). Pre-images are read and restored with plain
// buffered pread/pwrite on the path, so any range works whatever the inner
// backend's alignment rules. With tear=true some pre-images (chosen by
// `seed`) keep a random non-empty 512-byte-multiple prefix of the new data
// (a torn page). Files are tracked by path, so closing a file does not
// protect its unsynced writes.
//
// Directory entries: Rename, Unlink and MakeDirectory can be failed with
// FaultOp::kDirectory (counted with SyncDirectory, which fails the same
// way). With TrackUnsynced(true) the backend also remembers, per
// directory, the files created (Open with kCreateReadWrite of a missing
// file), renamed and unlinked since that directory's last SyncDirectory;
// PowerCut() undoes them newest first (a created file vanishes, a rename
// is reversed, an unlinked file comes back), as a machine crash can leave a
// directory whose change never reached the disk. Renamed-over and unlinked
// files are kept as hard links named "<path>.fault-keep" until then.
//
// Thread-safety: every IoBackend method may be called concurrently, as for
// any backend. Arm, Disarm, fired, count and TrackUnsynced are thread-safe.
// PowerCut requires that no other call on this backend is in progress.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/io_backend.h"

namespace ringdb::io {

enum class FaultOp : uint8_t { kRead, kWrite, kSync, kOpen, kDirectory };
inline constexpr size_t kFaultOpCount = 5;
enum class FaultKind : uint8_t { kEio, kEnospc, kShortWrite, kTornWrite };

struct Fault {
  FaultOp op = FaultOp::kWrite;
  // 1-based: the nth operation of type `op` counted since Arm fails. A
  // Submit counts each of its requests as one read or write.
  uint64_t nth = 1;
  FaultKind kind = FaultKind::kEio;
  // kShortWrite/kTornWrite: how many bytes of the write reach the file
  // (clamped to the request length).
  uint32_t bytes = 0;
  // After firing, every later operation fails with EIO (a dead machine).
  bool crash = false;
};

class FaultBackend final : public IoBackend {
 public:
  // Require: inner != nullptr. Owns `inner`.
  explicit FaultBackend(std::unique_ptr<IoBackend> inner);
  FaultBackend(const FaultBackend&) = delete;
  FaultBackend& operator=(const FaultBackend&) = delete;

  // "fault(<inner name>)".
  std::string Name() const override;
  bool direct() const override { return inner_->direct(); }
  Status RegisterBuffer(void* base, size_t len) override;
  void UnregisterBuffer(void* base) override { inner_->UnregisterBuffer(base); }
  Result<FileId> Open(const std::string& path, OpenMode mode) override;
  // Counts as an open for faults, like Open.
  Result<FileId> OpenBuffered(const std::string& path, OpenMode mode) override;
  Status Close(FileId file) override;
  // Forwarded: a hint, never faulted.
  Status AdviseCache(FileId file, uint64_t offset, uint64_t len,
                     CacheAdvice advice) override {
    return inner_->AdviseCache(file, offset, len, advice);
  }
  Status Submit(std::span<IoRequest> requests) override;
  Status Sync(FileId file) override;
  Result<uint64_t> FileSize(FileId file) override;
  Status Truncate(FileId file, uint64_t size) override;
  // Counted and failed as a write; its pre-image is saved like a write's.
  Status PunchHole(FileId file, uint64_t offset, uint64_t len) override;
  Status Allocate(FileId file, uint64_t offset, uint64_t len) override;
  Result<uint64_t> AllocatedBytes(FileId file) override { return inner_->AllocatedBytes(file); }
  std::string PathOf(FileId file) const override;
  Status SyncDirectory(const std::string& dir) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status MakeDirectory(const std::string& dir) override;
  // The inner backend's statistics (faulted requests are not in them).
  IoStats stats() const override { return inner_->stats(); }

  // Replaces any armed fault and restarts the per-type op counts used by
  // Fault::nth. Clears fired().
  void Arm(const Fault& fault);
  // Removes the armed fault and revives a crashed backend.
  void Disarm();
  // True once the armed fault has fired (until the next Arm).
  bool fired() const { return fired_.load(); }
  // Operations of type `op` seen since construction (faulted ones too).
  uint64_t count(FaultOp op) const;

  // Starts or stops saving pre-images of unsynced writes. Turning it off
  // forgets what was saved.
  void TrackUnsynced(bool on);
  // Simulates a power cut (see the header comment), then forgets every
  // pre-image, disarms and revives the backend. Open files stay open.
  // Require: no other call on this backend is in progress.
  Status PowerCut(uint64_t seed, bool tear);

  IoBackend& inner() { return *inner_; }

 private:
  // What Submit does with one request.
  struct Action {
    enum class Kind : uint8_t { kForward, kFail, kPartial } kind = Kind::kForward;
    FaultKind fault = FaultKind::kEio;
    uint32_t bytes = 0;
  };
  // The saved old content of [offset, offset + len); `old` is shorter than
  // len when the range reached past the end of the file.
  struct PreImage {
    uint64_t offset = 0;
    uint64_t len = 0;
    std::string old;
  };
  // One directory change not yet made durable by a directory fsync.
  struct DirChange {
    enum class Kind : uint8_t { kCreated, kRenamed, kUnlinked } kind;
    std::string path;   // created / unlinked file, or the rename's target
    std::string from;   // kRenamed: the old name
    bool kept = false;  // a ".fault-keep" link holds the replaced or unlinked file
  };
  struct Shadow {
    uint64_t synced_size = 0;
    std::map<uint64_t, uint64_t> saved;  // disjoint [start, end) ranges
    std::vector<PreImage> images;
  };

  // Counts one operation of type `op` and decides whether it fails.
  // Returns true and fills *action when it must not simply go through.
  bool NextOpFaults(FaultOp op, Action* action);  // REQUIRES(mu_)
  // Saves the pre-image of the parts of [offset, offset + len) of `file`
  // not saved since its last sync.
  Status SaveRange(FileId file, uint64_t offset, uint64_t len);  // REQUIRES(mu_)
  // Counts a directory operation; Status to fail it with, or OK.
  Status DirectoryFault(std::string_view what, const std::string& path);
  // Records the creation of `path` (when tracking).
  void NoteCreated(const std::string& path);
  // Records a directory change when tracking. REQUIRES(mu_).
  void NoteDirChangeLocked(DirChange change);
  // Undoes the unsynced directory changes (part of PowerCut). REQUIRES(mu_).
  Status UndoDirChangesLocked();
  // Writes the first `bytes` bytes of `req` through the inner backend.
  Status WritePrefix(const IoRequest& req, uint32_t bytes);

  // Counts an open and decides whether it fails.
  Status OpenFaults(const std::string& path);

  std::unique_ptr<IoBackend> inner_;
  std::array<std::atomic<uint64_t>, kFaultOpCount> counts_{};
  // Files opened with OpenBuffered (their writes need no alignment).
  std::array<std::atomic<bool>, 1024> buffered_{};
  std::atomic<bool> fired_{false};

  std::mutex mu_;
  bool armed_ = false;                  // GUARDED_BY(mu_)
  Fault fault_;                         // GUARDED_BY(mu_)
  std::array<uint64_t, kFaultOpCount> since_arm_{};  // GUARDED_BY(mu_)
  bool crashed_ = false;                // GUARDED_BY(mu_)
  bool tracking_ = false;               // GUARDED_BY(mu_)
  std::map<std::string, Shadow> shadows_;  // GUARDED_BY(mu_), by path
  // GUARDED_BY(mu_): unsynced changes per directory, oldest first.
  std::map<std::string, std::vector<DirChange>> dir_changes_;
};

}  // namespace ringdb::io
