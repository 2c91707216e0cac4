// DBImpl: write errors with a severity, Resume, the auto-resume thread and
// the free-space reserve (Options::reserved_disk_bytes). See db_impl.h and
// DB::Resume in db.h.
//
// Threads: SetBackgroundError and BackgroundError from any thread (error_mu_
// is a leaf lock); CheckSpaceLocked, RepairLogLocked and ResumeLocked with
// write_mu_ held; AutoResumeLoop is the auto-resume thread's body, started
// by OpenOrCreate and joined by Close.
#include <sys/statvfs.h>
#include <time.h>

#include <algorithm>

#include "engine/db_impl.h"

namespace ringdb {

namespace {

// How stale the free-space figure may get before a write reads it again.
constexpr auto kSpaceCheckInterval = std::chrono::milliseconds(100);
// The clock for the interval above, read on every write: the coarse
// monotonic clock (a few ns, ticks of 1 to 4 ms) instead of steady_clock.
// Its readings are only compared with each other (space_checked_at_).
std::chrono::steady_clock::time_point CoarseNow() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}
// The automatic reserve: min(kAutoReserveMax, file system size / 8).
constexpr uint64_t kAutoReserveMax = 64ull << 20;
// The auto-resume wait doubles up to this many times the interval.
constexpr uint32_t kMaxBackoff = 32;

}  // namespace

DBImpl::Severity DBImpl::Classify(const Status& s) {
  if (s.ok()) return Severity::kNone;
  // A full disk, a quota, an I/O error (possibly transient) or a pool whose
  // frames are all pinned: retrying may succeed. Anything else (damage
  // found on disk, a broken invariant) is not retried.
  if (s.IsIOError() || s.IsBusy()) return Severity::kSoft;
  return Severity::kHard;
}

std::string DBImpl::SpaceHint() {
  struct statvfs v;
  if (::statvfs(dir_.c_str(), &v) != 0) return "";
  const uint64_t total = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
  const uint64_t free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  // Room for a checkpoint: the reserve, or the pool's worth of pages.
  uint64_t want = ReserveFor(total);
  if (want == 0) want = std::min<uint64_t>(options_.buffer_pool_bytes, kAutoReserveMax);
  return " (" + dir_ + " needs at least " + HumanBytes(want) + " free; its file system has " +
         HumanBytes(free) + " free of " + HumanBytes(total) + ")";
}

void DBImpl::SetBackgroundError(const Status& s, Severity severity, const std::string& what) {
  Status stored;
  // A full disk from the file system itself: say where and how much.
  const std::string hint =
      s.IsNoSpace() && s.message().find("more free space") == std::string::npos ? SpaceHint()
                                                                                 : "";
  {
    MutexLock lock(&error_mu_);
    // The first error stays; a hard one replaces a soft one.
    if (severity <= bg_severity_) return;
    bg_severity_ = severity;
    bg_what_ = what;
    bg_error_ = s.WithContext(
        what + (severity == Severity::kHard
                    ? "; writes are refused until the database is reopened"
                    : "; the database is read-only until Resume() succeeds" + hint));
    stored = bg_error_;
    bg_error_set_.store(true, std::memory_order_release);
  }
  error_cv_.notify_all();
  Log(std::string(severity == Severity::kHard ? "fatal" : "soft") +
      " write error: " + stored.ToString());
}

Status DBImpl::BackgroundError() {
  MutexLock lock(&error_mu_);
  return bg_error_;
}

DBImpl::Severity DBImpl::background_severity() {
  MutexLock lock(&error_mu_);
  return bg_severity_;
}

uint64_t DBImpl::ReserveFor(uint64_t total) const {
  if (options_.reserved_disk_bytes != Options::kAutoReservedDiskBytes) {
    return options_.reserved_disk_bytes;
  }
  return std::min(kAutoReserveMax, total / 8);
}

uint64_t DBImpl::CheckpointBytes(uint64_t dirty_pages) {
  const uint64_t page_size = pool_->page_size();
  const uint64_t per_map_page = (page_size - kPageHeaderSize) / 8;
  // One more map page than today's ids need: new pages may add ids before
  // the next statvfs.
  const uint64_t map_pages = store_->stats().logical_pages / per_map_page + 2;
  // Each dirty page may land in a fresh slot (shadow paging), then the map
  // run, then the new log segment's first block.
  return (dirty_pages + map_pages + 1) * page_size;
}

Status DBImpl::CheckSpaceLocked(uint64_t bytes, bool force) {
  if (options_.reserved_disk_bytes == 0) return Status::OK();
  const auto now = CoarseNow();
  bytes_since_space_check_ += bytes;
  const uint64_t dirty_pages = pool_->dirty_pages();
  const uint64_t pool_written = pool_->bytes_written();
  // What may have eaten into the margin since the last statvfs: the log's
  // growth, more pages to write back at a checkpoint, and write-backs
  // (eviction places pages in the data file).
  const uint64_t dirty_bytes = dirty_pages * pool_->page_size();
  const uint64_t growth =
      bytes_since_space_check_ +
      (dirty_bytes > dirty_bytes_at_check_ ? dirty_bytes - dirty_bytes_at_check_ : 0) +
      (pool_written - pool_written_at_check_);
  // Cheap path: a recent figure, and less than half of the margin it left
  // has been used since.
  if (!force && space_checked_ && now - space_checked_at_ < kSpaceCheckInterval &&
      growth * 2 < space_margin_) {
    return Status::OK();
  }
  struct statvfs v;
  if (::statvfs(dir_.c_str(), &v) != 0) return Status::OK();  // cannot tell: no reserve
  const uint64_t total = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
  const uint64_t free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  const uint64_t reserve = ReserveFor(total);
  const uint64_t checkpoint = CheckpointBytes(dirty_pages);
  space_checked_ = true;
  space_checked_at_ = now;
  bytes_since_space_check_ = 0;
  dirty_bytes_at_check_ = dirty_bytes;
  pool_written_at_check_ = pool_written;
  const uint64_t need = reserve + checkpoint + bytes;
  if (free >= need) {
    space_margin_ = free - need;
    return Status::OK();
  }
  space_margin_ = 0;
  // The log since the last checkpoint is deleted by the next one: when it
  // is larger than the shortfall, checkpoint now (the margin kept so far
  // leaves it room) instead of refusing. Not while writes are stopped:
  // Resume checkpoints anyway.
  const uint64_t log_bytes = wal_ ? wal_->appended_lsn() - wal_->start_lsn() : 0;
  if (!force && !checkpoint_for_space_ && !backup_running_ && log_bytes > need - free &&
      background_severity() == Severity::kNone) {
    checkpoint_for_space_ = true;
    Status c = CheckpointBodyLocked();
    checkpoint_for_space_ = false;
    if (c.ok()) {
      checkpoints_for_space_++;
      return CheckSpaceLocked(bytes, /*force=*/true);
    }
    Log("a checkpoint to free log space failed: " + c.ToString());
    if (!BackgroundError().ok()) return BackgroundError();
  }
  Status s = Status::NoSpace(
      dir_ + " needs " + HumanBytes(need - free) + " more free space: " + HumanBytes(free) +
      " free of " + HumanBytes(total) + " on its file system, " + HumanBytes(reserve) +
      " kept in reserve (Options::reserved_disk_bytes) and " + HumanBytes(checkpoint) +
      " for a checkpoint to write back " + std::to_string(dirty_pages) + " dirty pages");
  SetBackgroundError(s, Severity::kSoft, "the file system of " + dir_ + " is nearly full");
  return BackgroundError();
}

Status DBImpl::RepairLogLocked() {
  if (wal_) {
    wal::LogWriterStats ls = wal_->stats();
    log_bytes_written_before_ += ls.bytes_written;
    log_syncs_before_ += ls.syncs;
    log_group_commits_before_ += ls.group_commits;
    // Records past written_lsn() are in the tree but not (wholly) in the
    // file; the checkpoint that follows puts them in the pages.
    abandoned_ = AbandonedLog{wal_->path(), wal_->start_lsn(), wal_->written_lsn()};
    failed_gens_.push_back(wal_gen_);
    failed_gen_status_ = BackgroundError();
    if (failed_gen_status_.ok()) failed_gen_status_ = Status::IOError("the log write failed");
    wal_.reset();  // closes the file without writing; frees the log buffer
    wal_gen_++;
    log_failed_ = false;
  }
  if (!abandoned_) return Status::OK();
  // Cut the failed segment back to its last whole record written, so that
  // until the checkpoint's superblock is durable, recovery reads it to a
  // clean end and continues with the next segment (which starts there).
  const AbandonedLog& a = *abandoned_;
  Result<io::FileId> f = io_->OpenBuffered(a.path, io::OpenMode::kReadWrite);
  if (!f.ok()) return f.status().WithContext("cutting back the failed log segment");
  Status s;
  Result<uint64_t> size = io_->FileSize(*f);
  s = size.status();
  const uint64_t keep = a.written_end - a.start;
  if (s.ok() && *size > keep) s = io_->Truncate(*f, keep);
  if (s.ok()) s = io_->Sync(*f);
  Status c = io_->Close(*f);
  if (s.ok()) s = c;
  if (!s.ok()) return s.WithContext("cutting back the failed log segment " + a.path);
  log_end_ = a.written_end;
  abandoned_.reset();
  return Status::OK();
}

Status DBImpl::Resume() {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::InvalidArgument("database is open read-only");
  MutexLock lock(&write_mu_);
  return ResumeLocked(/*check_space=*/true);
}

Status DBImpl::ResumeLocked(bool check_space) {
  Severity severity;
  Status error;
  {
    MutexLock lock(&error_mu_);
    severity = bg_severity_;
    error = bg_error_;
  }
  if (severity == Severity::kNone) return Status::OK();
  if (severity == Severity::kHard) {
    return Status::InvalidArgument("Resume refused: a fatal write error (" + error.ToString() +
                                   "); close and reopen the database");
  }
  Status s = check_space ? CheckSpaceLocked(0, /*force=*/true) : Status::OK();
  if (s.ok()) s = CheckpointBodyLocked();
  if (!s.ok()) {
    MutexLock lock(&error_mu_);
    resume_failures_++;
    return s;
  }
  {
    MutexLock lock(&error_mu_);
    bg_error_ = Status::OK();
    bg_error_set_.store(false, std::memory_order_release);
    bg_severity_ = Severity::kNone;
    bg_what_.clear();
    resumes_++;
  }
  error_cv_.notify_all();
  Log("writes resumed after: " + error.ToString());
  return Status::OK();
}

void DBImpl::StartAutoResume() {
  auto_resume_ = std::thread([this] { AutoResumeLoop(); });
}

void DBImpl::StopAutoResume() {
  {
    MutexLock lock(&error_mu_);
    stop_auto_resume_ = true;
  }
  error_cv_.notify_all();
  if (auto_resume_.joinable()) auto_resume_.join();
}

void DBImpl::AutoResumeLoop() {
  const auto interval = std::chrono::milliseconds(options_.auto_resume_interval_ms);
  auto delay = interval;
  error_mu_.Lock();
  while (!stop_auto_resume_) {
    if (bg_severity_ != Severity::kSoft) {
      delay = interval;
      error_cv_.wait(error_mu_);
      continue;
    }
    // Wait out the delay unless the error clears or Close stops us.
    const auto deadline = std::chrono::steady_clock::now() + delay;
    bool due = false;
    while (!stop_auto_resume_ && bg_severity_ == Severity::kSoft) {
      if (error_cv_.wait_until(error_mu_, deadline) == std::cv_status::timeout) {
        due = true;
        break;
      }
    }
    if (!due || stop_auto_resume_ || bg_severity_ != Severity::kSoft) continue;
    error_mu_.Unlock();
    Status s;
    {
      MutexLock lock(&write_mu_);
      s = ResumeLocked(/*check_space=*/true);
    }
    error_mu_.Lock();
    if (!s.ok()) delay = std::min(delay * 2, interval * kMaxBackoff);
  }
  error_mu_.Unlock();
}

std::string DBImpl::ErrorStateLine() {
  // The space line is read afresh (stats is not a hot path), so it shows
  // the reserve before the first write too.
  std::string space;
  struct statvfs v;
  if (options_.reserved_disk_bytes == 0) {
    space = "space: no reserve (reserved_disk_bytes 0): writes may fill the disk\n";
  } else if (::statvfs(dir_.c_str(), &v) == 0) {
    const uint64_t total = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
    const uint64_t free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
    const uint64_t dirty = pool_->stats().dirty_pages;
    space = "space: " + HumanBytes(free) + " free of " + HumanBytes(total) + " in " + dir_ +
            "; writes stop while less than " + HumanBytes(ReserveFor(total)) +
            " in reserve (reserved_disk_bytes) + " + HumanBytes(CheckpointBytes(dirty)) +
            " for a checkpoint (" + std::to_string(dirty) + " dirty pages) would stay free\n";
  }
  MutexLock lock(&error_mu_);
  std::string s;
  if (options_.read_only) {
    s = "state: read-only (opened read-only)";
  } else if (bg_severity_ == Severity::kNone) {
    s = "state: writable";
  } else if (bg_severity_ == Severity::kSoft) {
    s = "state: read-only until resume (" + bg_error_.ToString() + ")";
  } else {
    s = "state: writes refused until reopen (" + bg_error_.ToString() + ")";
  }
  s += ", resumes " + std::to_string(resumes_) + ", failed resumes " +
       std::to_string(resume_failures_) + "\n";
  if (!options_.read_only) s += space;
  return s;
}

std::string DBImpl::Notices() {
  MutexLock lock(&error_mu_);
  return notices_;
}

}  // namespace ringdb
