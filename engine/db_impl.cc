// DBImpl: reads, writes, checkpoints and close. See db_impl.h.
#include "engine/db_impl.h"

#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ringdb {

namespace {

Status CheckKey(std::string_view key) {
  if (key.size() > kMaxKeySize) {
    return Status::InvalidArgument("key of " + std::to_string(key.size()) +
                                   " bytes is longer than the limit of " +
                                   std::to_string(kMaxKeySize));
  }
  return Status::OK();
}

// Checks the sizes of every operation before anything is logged.
class SizeChecker : public WriteBatch::Handler {
 public:
  Status Put(std::string_view key, std::string_view value) override {
    RINGDB_RETURN_IF_ERROR(CheckKey(key));
    if (value.size() > kMaxValueSize) {
      return Status::InvalidArgument("value of " + std::to_string(value.size()) +
                                     " bytes is longer than the limit of " +
                                     std::to_string(kMaxValueSize));
    }
    return Status::OK();
  }
  Status Delete(std::string_view key) override { return CheckKey(key); }
};

// Applies a batch to the tree and counts what completed, so a failure can
// be told apart: nothing changed (soft) or part of the batch applied (hard).
class Applier : public WriteBatch::Handler {
 public:
  // A key the tree now holds a newer state of leaves `deletes`.
  Applier(BTree* tree, DeleteBuffer* deletes, Lsn lsn)
      : tree_(tree), deletes_(deletes), lsn_(lsn) {}
  Status Put(std::string_view key, std::string_view value) override {
    Status s = tree_->Put(key, value, lsn_);
    if (s.ok()) Applied(key);
    untouched_ = !s.ok();  // BTree::Put: on failure the tree is unchanged
    return s;
  }
  Status Delete(std::string_view key) override {
    bool existed = false;
    Status s = tree_->Delete(key, lsn_, &existed);
    if (s.ok()) Applied(key);
    untouched_ = false;  // BTree::Delete promises no such thing
    return s;
  }
  size_t applied() const { return applied_; }
  bool untouched() const { return untouched_; }

 private:
  void Applied(std::string_view key) {
    applied_++;
    if (!deletes_->empty()) deletes_->Erase(key);
  }

  BTree* tree_;
  DeleteBuffer* deletes_;
  Lsn lsn_;
  size_t applied_ = 0;
  bool untouched_ = false;
};

// Calls RowCache::BeginWrite for each key of a batch.
class RowWriteMarker : public WriteBatch::Handler {
 public:
  RowWriteMarker(RowCache* rows, RowCache::Writes* writes) : rows_(rows), writes_(writes) {}
  Status Put(std::string_view key, std::string_view) override { return Mark(key); }
  Status Delete(std::string_view key) override { return Mark(key); }

 private:
  Status Mark(std::string_view key) {
    rows_->BeginWrite(key, writes_);
    return Status::OK();
  }

  RowCache* rows_;
  RowCache::Writes* writes_;
};

}  // namespace

DBImpl::DBImpl(const Options& options, std::string dir, std::shared_ptr<io::IoBackend> backend)
    : options_(options),
      dir_(std::move(dir)),
      io_(std::move(backend)),
      deletes_(std::make_unique<DeleteBuffer>(
          options.read_only ? 0
          : options.delete_buffer_bytes == Options::kAutoDeleteBufferBytes
              ? options.buffer_pool_bytes / 4
              : options.delete_buffer_bytes)),
      rows_(options.row_cache_bytes == Options::kAutoRowCacheBytes
                ? std::make_unique<RowCache>(0, /*adjustable=*/true)
                : std::make_unique<RowCache>(options.row_cache_bytes)),
      versions_(std::make_unique<VersionStore>(VersionStore::Limits{
          options.snapshot_max_bytes, options.snapshot_notice_bytes})) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

DBImpl::~DBImpl() {
  if (!closed_) {
    Status s = Close();
    if (!s.ok()) Log("close: " + s.ToString());
  }
}

void DBImpl::Log(const std::string& msg) {
  {
    MutexLock lock(&error_mu_);
    notices_ += msg + "\n";
  }
  if (options_.info_log) {
    options_.info_log(msg);
  } else {
    std::fprintf(stderr, "ringdb: %s\n", msg.c_str());
  }
}

Status DBImpl::CheckOpen() const {
  if (closed_ || tree_ == nullptr) return Status::InvalidArgument("database is closed");
  return Status::OK();
}

Status DBImpl::GateWrite(Lsn lsn) {
  std::shared_lock<std::shared_mutex> lock(wal_mu_);
  // No writer yet (recovery) or a change older than this segment: the
  // records are already durable in the log on disk.
  if (!wal_ || lsn <= wal_->start_lsn()) return Status::OK();
  if (lsn <= wal_->durable_lsn()) return Status::OK();
  return wal_->SyncTo(std::min(lsn, wal_->appended_lsn()));
}

Status DBImpl::Apply(const WriteBatch& batch, Lsn lsn, size_t* applied, bool* untouched) {
  Applier applier(tree_.get(), deletes_.get(), lsn);
  Status s;
  if (batch.Count() > 1) {
    tree_->BeginBatch();
    s = batch.Iterate(&applier);
    tree_->EndBatch();
  } else {
    s = batch.Iterate(&applier);
  }
  *applied = applier.applied();
  *untouched = !s.ok() && applier.applied() == 0 && applier.untouched();
  return s;
}

namespace {

// DB::Put and DB::Delete build their one-operation batch in a batch kept
// per thread: it keeps its buffer, so a small write allocates nothing
// (a heap allocation and free per Put was 3 to 4% of fillseq). A buffer
// grown past kMaxKept by a big value is given back. `busy` sends a nested
// call (an info_log callback that writes) to a batch of its own.
struct ThreadBatch {
  static constexpr size_t kMaxKept = 64u << 10;
  WriteBatch batch;
  bool busy = false;
};
thread_local ThreadBatch tls_batch;

template <typename Fill>
Status WriteOne(DBImpl* db, const WriteOptions& options, Fill fill) {
  ThreadBatch& t = tls_batch;
  if (t.busy) {
    WriteBatch own;
    fill(&own);
    return db->Write(options, &own);
  }
  t.busy = true;
  t.batch.Clear();
  fill(&t.batch);
  Status s = db->Write(options, &t.batch);
  if (t.batch.ApproximateSize() > ThreadBatch::kMaxKept) t.batch = WriteBatch();
  t.busy = false;
  return s;
}

}  // namespace

Status DBImpl::Put(const WriteOptions& options, std::string_view key, std::string_view value) {
  return WriteOne(this, options, [&](WriteBatch* b) { b->Put(key, value); });
}

Status DBImpl::Delete(const WriteOptions& options, std::string_view key) {
  return WriteOne(this, options, [&](WriteBatch* b) { b->Delete(key); });
}

// How long a writer that finds write_mu_ held polls it before it sleeps.
// ringdb_bench fillrandom, 2 M keys, two writers on two cores, one run
// each: 127 k puts/s polling 10 us (the mutex is often held longer), 149 k
// at 30 us, 147 k at 100 us. At 50 us against sleeping at once (median of
// three): 154 k against 123 k, p99 58 against 278 us (bench/results/
// 2026-12-02-writer-poll.txt).
constexpr auto kWriterPoll = std::chrono::microseconds(50);

void DBImpl::LockWriters() {
  if (write_mu_.TryLock()) return;
  // Only the first waiter polls; the others sleep on the mutex at once.
  // With two writers, a sleeping waiter costs a futex wake per handoff
  // (a third of fillrandom's CPU went to futex wait and wake); with more
  // writers than cores, pollers would take the cores the other writers
  // need, so one is enough. It yields between tries, so a runnable thread
  // of the process (another writer, the page cleaner) gets the core first.
  struct Waiting {
    std::atomic<int>* n;
    ~Waiting() { n->fetch_sub(1, std::memory_order_relaxed); }
  } waiting{&write_waiters_};
  if (write_waiters_.fetch_add(1, std::memory_order_relaxed) == 0) {
    const auto deadline = std::chrono::steady_clock::now() + kWriterPoll;
    for (uint32_t i = 1;; ++i) {
      std::this_thread::yield();
      if (write_mu_.TryLock()) return;
      if (i % 4 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
  }
  write_mu_.Lock();
}

// The part of Write under write_mu_: logs the batch and applies it.
Status DBImpl::WriteLocked(const WriteBatch& batch, LockedWrite* out) {
  if (bg_error_set_.load(std::memory_order_acquire)) RINGDB_RETURN_IF_ERROR(BackgroundError());
  const std::string& rep = WriteBatchInternal::Contents(batch);
  RINGDB_RETURN_IF_ERROR(CheckSpaceLocked(rep.size(), /*force=*/false));
  // While a snapshot is open, the values the batch replaces are read
  // now (a failure leaves nothing written) and saved once it has its LSN,
  // before the tree changes (version_store.h). EndBatch runs on every
  // way out, after applied_lsn_ moved.
  struct BatchScope {
    DBImpl* db;
    bool recording;
    ~BatchScope() { db->versions_->EndBatch(db->applied_lsn_.load(std::memory_order_acquire)); }
  } scope{this, versions_->BeginBatch()};
  std::vector<std::pair<std::string, std::optional<std::string>>> olds;
  if (scope.recording) {
    Status s = ReadOldValues(batch, &olds);
    if (!s.ok()) return s.WithContext("reading the values an open snapshot needs (nothing written)");
  }
  std::string_view buffered_key;
  bool buffer = false;
  RINGDB_RETURN_IF_ERROR(ShouldBufferLocked(batch, scope.recording, &buffered_key, &buffer));
  Result<Lsn> appended = wal_->Append(kBatchRecord, rep);
  if (!appended.ok()) {
    // A refused argument wrote nothing; anything else failed the log
    // (its errors are sticky) before the tree was touched.
    if (!appended.status().IsInvalidArgument()) {
      log_failed_ = true;
      SetBackgroundError(appended.status(), Classify(appended.status()),
                         "appending to the log failed (nothing of the write was applied)");
      return BackgroundError();
    }
    return appended.status();
  }
  const Lsn lsn = appended.value();
  out->lsn = lsn;
  out->gen = wal_gen_;
  if (scope.recording) out->notice = versions_->Record(lsn, std::move(olds));
  size_t applied = 0;
  bool untouched = false;
  Status s;
  // Every key of the batch leaves the row cache before the tree (or the
  // delete buffer) changes, and no fill is kept until after
  // (row_cache.h); EndWrites runs on every way out.
  struct RowScope {
    RowCache* rows;
    bool on;
    RowCache::Writes writes;
    ~RowScope() {
      if (on) rows->EndWrites(writes);
    }
  } row_scope{rows_.get(), rows_->enabled() && rows_marking_.load(std::memory_order_acquire),
              {}};
  if (row_scope.on) {
    RowWriteMarker begin(rows_.get(), &row_scope.writes);
    (void)batch.Iterate(&begin);
  }
  if (buffer) {
    deletes_->Add(buffered_key, lsn);
  } else {
    s = Apply(batch, lsn, &applied, &untouched);
  }
  if (!s.ok()) {
    if (untouched && Classify(s) == Severity::kSoft) {
      // Nothing of the batch reached the tree. Its record is in the log:
      // a crash before Resume replays it whole; Resume's checkpoint
      // starts the log after it, so it is then wholly absent.
      SetBackgroundError(s, Severity::kSoft,
                         "a write failed before changing anything in memory");
    } else {
      // The log holds the batch; the tree may hold part of it and has no
      // undo. Refuse further writes: reopening replays the whole batch.
      SetBackgroundError(s, Severity::kHard,
                         "a write failed half-applied in memory (" + std::to_string(applied) +
                             " of " + std::to_string(batch.Count()) + " operations applied)");
    }
    return BackgroundError();
  }
  applied_lsn_.store(lsn, std::memory_order_release);
  out->need_checkpoint = lsn - sb_.ckpt_lsn > options_.checkpoint_log_bytes;
  return Status::OK();
}

Status DBImpl::Write(const WriteOptions& options, WriteBatch* batch) {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status::InvalidArgument("database is open read-only");
  if (batch == nullptr || batch->Count() == 0) return Status::OK();
  SizeChecker checker;
  RINGDB_RETURN_IF_ERROR(batch->Iterate(&checker));

  LockedWrite w;
  LockWriters();
  Status s = WriteLocked(*batch, &w);
  write_mu_.Unlock();
  RINGDB_RETURN_IF_ERROR(s);
  if (!w.notice.empty()) Log(w.notice);
  RINGDB_RETURN_IF_ERROR(CommitLog(w.lsn, w.gen, options.sync));
  if (w.need_checkpoint) CheckpointInline(w.lsn);
  return Status::OK();
}

void DBImpl::CheckpointInline(Lsn lsn) {
  MutexLock lock(&write_mu_);
  if (lsn - sb_.ckpt_lsn <= options_.checkpoint_log_bytes) return;  // another writer did it
  // The write itself is done; a failed checkpoint is retried by a later one.
  Status s = CheckpointLocked();
  if (!s.ok() && !s.IsBusy()) {
    Log("checkpoint run inline by a writer (checkpoint_log_bytes reached) failed: " +
        s.ToString());
  }
}

// Require: write_mu_ not held (the leader of a group writes for everyone
// waiting, while others append under write_mu_).
Status DBImpl::CommitLog(Lsn lsn, uint64_t gen, bool sync) {
  Status s;
  {
    std::shared_lock<std::shared_mutex> lock(wal_mu_);
    if (gen != wal_gen_) {
      // The writer holding the record was replaced: by a checkpoint that
      // closed it (it synced everything: the record is durable), or by
      // Resume after it failed (the record's write failed; Resume's
      // checkpoint may since have made it durable through the pages, so
      // the write is refused but present, never in part).
      if (std::find(failed_gens_.begin(), failed_gens_.end(), gen) != failed_gens_.end()) {
        return failed_gen_status_;
      }
      return Status::OK();
    }
    if (sync) {
      if (lsn > wal_->durable_lsn()) s = wal_->SyncTo(lsn);
    } else if (lsn > wal_->written_lsn()) {
      s = wal_->WriteTo(lsn);
    }
  }
  if (!s.ok()) {
    MutexLock wl(&write_mu_);
    if (gen == wal_gen_) log_failed_ = true;
    SetBackgroundError(s, Classify(s), sync ? "syncing the log failed" : "writing the log failed");
    Status stored = BackgroundError();
    if (!stored.ok()) return stored;
  }
  return s;
}

Status DBImpl::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  RINGDB_RETURN_IF_ERROR(CheckKey(key));
  const SnapshotImpl* snap = nullptr;
  bool owned = false;
  RINGDB_RETURN_IF_ERROR(ReadSnapshot(options, /*implicit=*/false, &snap, &owned));
  if (snap != nullptr) {
    // The buffer before the tree (delete_buffer.h).
    Status s = !deletes_->empty() && deletes_->Contains(key) ? Status::NotFound()
                                                             : tree_->Get(key, value);
    return ResolveAt(snap, key, std::move(s), value);
  }
  // The row cache, then the delete buffer, then the tree. The ticket is
  // taken before the buffer is checked, so a delete buffered after that
  // check refuses the fill (row_cache.h). With the adaptive split the
  // row cache is looked at only while it is on, and then the Gets' device
  // reads are counted (db_cache_balance.cc).
  RowCache::Ticket ticket;
  // Acquire: pairs with BalanceCaches' release after it waited out the
  // writes that did not mark their keys.
  const bool rows = rows_on_.load(std::memory_order_acquire);
  if (rows && rows_->Lookup(key, value, &ticket)) return Status::OK();
  if (!deletes_->empty() && deletes_->Contains(key)) return Status::NotFound();
  const uint64_t reads = rows ? BufferPool::ThreadDemandReads() : 0;
  Status s = tree_->Get(key, value);
  if (rows) {
    const uint64_t n = BufferPool::ThreadDemandReads() - reads;
    if (n > 0) {
      get_reads_.fetch_add(n, std::memory_order_relaxed);
      if (ticket.ghost) get_ghost_reads_.Add(1);
      if (n > 1) get_extra_reads_.Add(n - 1);
    } else {
      get_pool_hits_.Add(1);
    }
  }
  if (s.ok()) rows_->Fill(key, *value, ticket);
  return s;
}

std::vector<Status> DBImpl::MultiGet(const ReadOptions& options,
                                     const std::vector<std::string_view>& keys,
                                     std::vector<std::string>* values) {
  std::vector<Status> statuses(keys.size());
  values->assign(keys.size(), std::string());
  const SnapshotImpl* snap = nullptr;
  bool owned = false;
  Status open = CheckOpen();
  if (open.ok()) open = ReadSnapshot(options, /*implicit=*/true, &snap, &owned);
  if (!open.ok()) {
    statuses.assign(keys.size(), open);
    return statuses;
  }
  struct Release {
    VersionStore* versions;
    const SnapshotImpl* snap;
    ~Release() {
      if (snap != nullptr) versions->Release(snap);
    }
  } release{versions_.get(), owned ? snap : nullptr};
  std::vector<std::string_view> valid;
  std::vector<size_t> where;
  // The buffer before the tree (delete_buffer.h).
  const bool check_buffer = !deletes_->empty();
  for (size_t i = 0; i < keys.size(); i++) {
    Status s = CheckKey(keys[i]);
    if (s.ok() && check_buffer && deletes_->Contains(keys[i])) {
      statuses[i] = ResolveAt(snap, keys[i], Status::NotFound(), &(*values)[i]);
    } else if (s.ok()) {
      valid.push_back(keys[i]);
      where.push_back(i);
    } else {
      statuses[i] = s;
    }
  }
  std::vector<std::string> got;
  std::vector<Status> got_status;
  tree_->MultiGet(valid, &got, &got_status);
  for (size_t k = 0; k < where.size(); k++) {
    std::string* value = &(*values)[where[k]];
    *value = std::move(got[k]);
    statuses[where[k]] = ResolveAt(snap, valid[k], std::move(got_status[k]), value);
  }
  return statuses;
}

Status DBImpl::Checkpoint() {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) {
    return Status::InvalidArgument("database is open read-only: checkpoint refused");
  }
  MutexLock lock(&write_mu_);
  return CheckpointLocked();
}

// Require: write_mu_ held (no writer applies while the pages are flushed).
Status DBImpl::CheckpointLocked() {
  RINGDB_RETURN_IF_ERROR(BackgroundError());
  return CheckpointBodyLocked();
}

Status DBImpl::CheckpointBodyLocked() {
  if (backup_running_) return Status::Busy("a backup is copying the last checkpoint");
  // 0. The log this checkpoint makes unneeded may hold buffered deletes.
  RINGDB_RETURN_IF_ERROR(ApplyBufferedDeletesLocked(SIZE_MAX));
  // 1. Rotate the log: everything before `start` will be in the pages.
  Lsn start;
  uint64_t next_segment = segment_ + 1;
  {
    std::unique_lock<std::shared_mutex> lock(wal_mu_);
    if (wal_ && !log_failed_) {
      Status s = wal_->Close();
      if (!s.ok()) {
        // Its file is closed; RepairLogLocked counts its statistics and
        // cuts it back.
        log_failed_ = true;
        SetBackgroundError(s, Classify(s), "closing the log for a checkpoint failed");
        return s.WithContext("closing the log for a checkpoint");
      }
      wal::LogWriterStats ls = wal_->stats();
      log_bytes_written_before_ += ls.bytes_written;
      log_syncs_before_ += ls.syncs;
      log_group_commits_before_ += ls.group_commits;
      log_end_ = wal_->appended_lsn();
      wal_.reset();  // releases the shared log buffer for the next writer
      wal_gen_++;
    }
    // A failed writer (only Resume gets here with one: writes are refused).
    if (wal_ || abandoned_) RINGDB_RETURN_IF_ERROR(RepairLogLocked());
    start = log_end_;
    // A leftover segment with this number (a crash during an earlier
    // checkpoint) holds nothing the superblock needs: it was replayed.
    // Best effort: creating the segment below truncates it anyway.
    (void)io_->Unlink(wal::SegmentPath(dir_, next_segment));
    if (!log_buffer_) {
      Result<std::unique_ptr<wal::LogBuffer>> buf =
          wal::LogBuffer::Create(io_.get(), wal::LogWriterOptions().buffer_bytes);
      if (!buf.ok()) return buf.status();
      log_buffer_ = std::move(buf.value());
      if (!log_buffer_->registration().ok()) Log(log_buffer_->registration().message());
    }
    wal::LogWriterOptions wo;
    wo.buffer = log_buffer_.get();
    // Commits copy into a mapping of the segment instead of a write(2)
    // each: twice the rate of small unsynced writes (bench/results).
    wo.map_bytes = kLogMapBytes;
    Result<std::unique_ptr<wal::LogWriter>> w =
        wal::LogWriter::Create(io_.get(), dir_, next_segment, start, wo);
    if (!w.ok()) {
      SetBackgroundError(w.status(), Classify(w.status()), "starting a new log segment failed");
      return w.status().WithContext("starting a new log segment");
    }
    wal_ = std::shared_ptr<wal::LogWriter>(std::move(w.value()));
    log_failed_ = false;
    segment_ = next_segment;
  }
  // 2. Pages, map and superblock.
  Superblock sb = sb_;
  sb.ckpt_lsn = start;
  sb.log_segment = next_segment;
  Status s;
  {
    MutexLock flush(&flush_mu_);
    const uint64_t writes_before = pool_->stats().writes;
    s = store_->Checkpoint(&sb);
    checkpoint_pages_.store(pool_->stats().writes - writes_before, std::memory_order_relaxed);
  }
  if (!s.ok()) return s.WithContext("checkpoint");
  sb_ = sb;
  ckpt_lsn_.store(start, std::memory_order_release);
  checkpoints_++;
  // 3. Older segments are no longer needed.
  s = wal::DeleteSegmentsBefore(io_.get(), dir_, next_segment);
  if (!s.ok()) Log("could not delete old log segments: " + s.ToString());
  return Status::OK();
}

Status DBImpl::Verify(std::string* report) {
  RINGDB_RETURN_IF_ERROR(CheckOpen());
  std::string local;
  std::string* out = report ? report : &local;
  // A compaction's steps change the tree under page latches only, not
  // batch_mu_: a walk beside them sees pages mid-move (a freed page still
  // linked, keys outside a parent's new bounds). So Verify waits for a
  // running compaction (the idle compactor's too) and none starts during it.
  MutexLock no_compaction(&compact_mu_);
  Status s1 = store_->Verify(out);
  ReaderLock lock(&tree_->batch_mutex());
  Status s2 = tree_->Verify(out);
  return s1.ok() ? s2 : s1;
}

Status DBImpl::Close() {
  if (closed_) return Status::InvalidArgument("database is already closed");
  StopIdleCompactor();
  StopAutoResume();
  StopPageCleaner();
  closed_ = true;
  Status result;
  // A failed open writes nothing: its recovery may have stopped at damage
  // that the caller is told about, and a checkpoint would erase the log.
  if (tree_ != nullptr && !options_.read_only && opened_) {
    MutexLock lock(&write_mu_);
    switch (background_severity()) {
      case Severity::kNone: result = CheckpointLocked(); break;
      // The reserve is there for this checkpoint: do not check it.
      case Severity::kSoft: result = ResumeLocked(/*check_space=*/false); break;
      case Severity::kHard: result = BackgroundError(); break;
    }
    // The file keeps only what the checkpoint needs (a hint: the reserve
    // is free space).
    if (result.ok()) {
      Status s = store_->DropReservation();
      if (!s.ok()) Log("could not cut the data file's reserve: " + s.ToString());
    }
  }
  {
    std::unique_lock<std::shared_mutex> lock(wal_mu_);
    if (wal_) {
      Status s = wal_->Close();
      if (result.ok()) result = s;
      wal_.reset();
    }
  }
  log_buffer_.reset();
  tree_.reset();
  pool_.reset();
  store_.reset();
  if (io_ && data_file_.valid()) {
    Status s = io_->Close(data_file_);
    if (result.ok()) result = s;
  }
  io_.reset();
  lock_.reset();
  return result;
}

}  // namespace ringdb
