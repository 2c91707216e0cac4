// DBImpl::Backup: an online, consistent copy of the database. See db.h.
//
// The last checkpoint's pages never move until the next checkpoint (shadow
// paging, page_store.h), so holding checkpoints off makes them a stable
// image: the data file's bytes up to its size at the start (superblocks,
// page map and the checkpoint's slots all lie below it; slots written
// since are garbage the copied map does not reference) plus every log
// segment from the checkpoint's on, after the log was flushed, give a
// database that recovers to at least the state when Backup began.
//
// Steps: (1) under write_mu_: mark the backup running, flush the log up to
// every acknowledged write, note the checkpoint's segment and the data
// file's size; (2) without locks: create the target with an "incomplete"
// marker (Open refuses such a directory), copy the log segments, then the
// data file under a temporary name, fdatasync'ing each copy; (3) rename
// the data file into place, remove the marker, fsync the directory after
// each; (4) under write_mu_: let checkpoints run again.

#include <chrono>

#include "engine/db_impl.h"
#include "io/file_copy.h"

namespace ringdb {

Status DBImpl::Backup(const std::string& dir, BackupInfo* info) {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  auto started = std::chrono::steady_clock::now();
  std::string target = dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (target.empty()) return Status::InvalidArgument("empty backup directory");

  // (1) The backup point.
  uint64_t first_segment, data_bytes;
  {
    MutexLock lock(&write_mu_);
    if (backup_running_) return Status::Busy("a backup of " + dir_ + " is already running");
    if (!options_.read_only) {
      std::shared_lock<std::shared_mutex> wl(wal_mu_);
      if (wal_ && wal_->appended_lsn() > wal_->durable_lsn()) {
        RINGDB_RETURN_IF_ERROR(wal_->SyncTo(wal_->appended_lsn()));
      }
    }
    Result<uint64_t> size = io_->FileSize(data_file_);
    if (!size.ok()) return size.status();
    data_bytes = *size;
    first_segment = sb_.log_segment;
    backup_running_ = true;
  }
  auto release = [&] {
    MutexLock lock(&write_mu_);
    backup_running_ = false;
  };

  // (2) and (3).
  Status s = io_->MakeDirectory(target);
  if (s.ok()) {
    for (const char* name : {kDataFileName, kLockFileName, kBackupMarkerName}) {
      if (io::PathKindOf(target + "/" + name) != io::PathKind::kMissing) {
        s = Status::InvalidArgument(target + " already holds a database or a backup; back up "
                                             "into a new or empty directory");
      }
    }
  }
  // The marker says "incomplete" until the very end: Open refuses a
  // directory that holds it.
  const std::string marker = target + "/" + kBackupMarkerName;
  if (s.ok()) {
    io::CopyResult unused;
    s = io::CopyFilePrefix("/dev/null", marker, 0, io::CopyMethod::kReadWrite, &unused);
  }
  if (s.ok()) s = io_->SyncDirectory(target);
  BackupInfo result;
  auto copy = [&](const std::string& from, const std::string& to, uint64_t length) {
    io::CopyResult r;
    Status c = io::CopyFilePrefix(from, to, length, io::CopyMethod::kCopyFileRange, &r);
    if (c.ok()) {
      result.bytes += r.bytes;
      result.files++;
      if (result.method.empty() || r.method != io::CopyMethod::kCopyFileRange) {
        result.method = io::CopyMethodName(r.method);
      }
    }
    return c;
  };
  // Segments are created and deleted only by checkpoints, held off now.
  Result<std::vector<uint64_t>> segments = wal::ListSegments(dir_);
  if (s.ok() && !segments.ok()) s = segments.status();
  for (size_t i = 0; s.ok() && i < segments->size(); i++) {
    if ((*segments)[i] < first_segment) continue;
    std::string name = wal::SegmentFileName((*segments)[i]);
    uint64_t before = result.bytes;
    s = copy(dir_ + "/" + name, target + "/" + name, UINT64_MAX);
    result.log_bytes += result.bytes - before;
  }
  const std::string partial = target + "/" + kDataFileName + ".backup-partial";
  if (s.ok()) s = copy(dir_ + "/" + kDataFileName, partial, data_bytes);
  if (s.ok()) s = io_->Rename(partial, target + "/" + kDataFileName);
  if (s.ok()) s = io_->SyncDirectory(target);
  if (s.ok()) s = io_->Unlink(marker);
  if (s.ok()) s = io_->SyncDirectory(target);
  release();
  if (!s.ok()) return s.WithContext("backup of " + dir_ + " into " + target);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (info != nullptr) *info = result;
  return Status::OK();
}

}  // namespace ringdb
