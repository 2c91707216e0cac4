// Directory and whole-file operations: fsync of a directory, rename,
// unlink, mkdir and the advisory lock a database holds on its directory.
//
// These are the plain implementations (direct syscalls); IoBackend's
// virtual methods of the same names call them, and the fault-injecting
// backend overrides those to fail them on purpose. Code that has no backend
// (DestroyDB) calls these directly.
//
// Errors name the operation and the path, never an offset: IOError, NoSpace
// for ENOSPC/EDQUOT, NotFound for ENOENT where the caller may expect it.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "ringdb/status.h"

namespace ringdb::io {

// Status for errno `err` during `what` on `path` (no offset).
Status PathErrnoStatus(int err, std::string_view what, const std::string& path);

// An flock()ed lock file, released (and its descriptor closed) on
// destruction.
class FileLock {
 public:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

enum class LockKind : uint8_t { kShared, kExclusive };

// The one directory fsync (O_CLOEXEC): makes the creation, rename or
// removal of entries of `dir` durable.
Status SyncDirectoryPlain(const std::string& dir);
Status RenamePlain(const std::string& from, const std::string& to);
// NotFound when `path` does not exist.
Status UnlinkPlain(const std::string& path);
// OK when `dir` exists already as a directory.
Status MakeDirectoryPlain(const std::string& dir);
// Removes the empty directory `dir`.
Status RemoveDirectoryPlain(const std::string& dir);

enum class PathKind : uint8_t { kMissing, kDirectory, kFile, kOther };
// What `path` names (kMissing also when it cannot be examined).
PathKind PathKindOf(const std::string& path);
// The names in `dir` other than "." and "..", in directory order; NotFound
// when `dir` does not exist.
Result<std::vector<std::string>> ListDirectoryPlain(const std::string& dir);
// Locks `path` (created when missing and `create`) without waiting: Busy
// when another holder (another process, or another open DB in this one)
// has it in a conflicting mode; the message names the holder when
// /proc/locks does (LockHolders).

Result<std::unique_ptr<FileLock>> LockFilePlain(const std::string& path, LockKind kind,
                                                bool create);

// Who holds an flock on `path`, from /proc/locks: "process 1234 (ringdb)",
// "this process" or, for several, a comma-separated list; "" when unknown
// (no /proc, or the holder is in another pid namespace).
std::string LockHolders(const std::string& path);

}  // namespace ringdb::io
