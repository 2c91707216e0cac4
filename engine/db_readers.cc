// Read-only handles beside a writer: the lock protocol of LOCK and READERS
// (see db_impl.h for why the last checkpoint stays readable).
#include <unistd.h>

#include <chrono>
#include <thread>

#include "engine/db_impl.h"
#include "io/dir_ops.h"

namespace ringdb {

Status DBImpl::LockForReading() {
  const std::string lock_path = dir_ + "/" + kLockFileName;
  Result<std::unique_ptr<io::FileLock>> lock =
      io_->LockFile(lock_path, io::LockKind::kShared, /*create=*/true);
  if (lock.ok()) {  // No writer: the log is read (and refused if it needs replaying).
    lock_ = std::move(lock.value());
    return Status::OK();
  }
  if (!lock.status().IsBusy()) return lock.status();
  // A writer holds the database. READERS is held exclusively only for the
  // instant of a writer's probe, so a few short retries get it.
  writer_holder_ = io::LockHolders(lock_path);
  const std::string readers_path = dir_ + "/" + kReadersFileName;
  for (int attempt = 0;; attempt++) {
    Result<std::unique_ptr<io::FileLock>> shared =
        io_->LockFile(readers_path, io::LockKind::kShared, /*create=*/true);
    if (shared.ok()) {
      lock_ = std::move(shared.value());
      break;
    }
    if (!shared.status().IsBusy() || attempt == 200) {
      return Status::Busy(dir_ + " is open for writing" +
                          (writer_holder_.empty() ? "" : " by " + writer_holder_) +
                          ", and reading beside the writer failed: " +
                          shared.status().ToString());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  snapshot_reader_ = true;
  return Status::OK();
}

bool DBImpl::ReadersPresent() {
  Result<std::unique_ptr<io::FileLock>> probe =
      io_->LockFile(dir_ + "/" + kReadersFileName, io::LockKind::kExclusive, /*create=*/true);
  // Busy: a reader holds it. Any other failure: one might.
  return !probe.ok();
}

void DBImpl::NoteSnapshotReader() {
  snapshot_note_ = dir_ + " is open for writing" +
                   (writer_holder_.empty() ? "" : " by " + writer_holder_) +
                   ": this read-only handle sees its last checkpoint (seq " +
                   std::to_string(sb_.seq) + "), not the writes logged since";
  Log(snapshot_note_);
}

}  // namespace ringdb
