// Opening, creating and recovering a database; DB::Open and DestroyDB.

#include <cstdio>

#include "engine/db_impl.h"

namespace ringdb {

Status DB::Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db) {
  db->reset();
  if (path.empty()) return Status::InvalidArgument("empty database path");
  auto impl = std::make_unique<DBImpl>(options, path);
  RINGDB_RETURN_IF_ERROR(impl->OpenOrCreate());
  *db = std::move(impl);
  return Status::OK();
}

Status OpenWithBackend(const Options& options, const std::string& path,
                       std::shared_ptr<io::IoBackend> backend, std::unique_ptr<DB>* db) {
  db->reset();
  if (path.empty()) return Status::InvalidArgument("empty database path");
  if (!backend) return Status::InvalidArgument("no io backend");
  auto impl = std::make_unique<DBImpl>(options, path, std::move(backend));
  RINGDB_RETURN_IF_ERROR(impl->OpenOrCreate());
  *db = std::move(impl);
  return Status::OK();
}

Status DestroyDB(const std::string& path) {
  io::PathKind kind = io::PathKindOf(path);
  if (kind == io::PathKind::kMissing) return Status::OK();
  if (kind != io::PathKind::kDirectory) {
    return Status::InvalidArgument(path + " is not a ringdb database directory");
  }
  Result<std::vector<std::string>> listed = io::ListDirectoryPlain(path);
  if (!listed.ok()) return listed.status();
  const std::vector<std::string>& names = *listed;
  bool ours = names.empty();
  for (const std::string& n : names) {
    if (n == kDataFileName || n == kBackupMarkerName) ours = true;
  }
  if (!ours) return Status::InvalidArgument(path + " is not a ringdb database (no " +
                                            kDataFileName + ")");
  // The database's own lock: an open database (here or in another process)
  // is never deleted underneath its handle.
  const std::string lock_path = path + "/" + kLockFileName;
  Result<std::unique_ptr<io::FileLock>> lock =
      io::LockFilePlain(lock_path, io::LockKind::kExclusive, /*create=*/true);
  if (!lock.ok()) return lock.status().WithContext("DestroyDB(" + path + ")");
  // Readers beside a writer hold READERS, not LOCK.
  Result<std::unique_ptr<io::FileLock>> readers =
      io::LockFilePlain(path + "/" + kReadersFileName, io::LockKind::kExclusive, /*create=*/false);
  if (!readers.ok() && !readers.status().IsNotFound()) {
    return readers.status().WithContext("DestroyDB(" + path + ")");
  }
  for (const std::string& n : names) {
    uint64_t seg;
    if (n == kDataFileName || n == std::string(kDataFileName) + ".tmp" || n == kReadersFileName ||
        n == std::string(kDataFileName) + ".backup-partial" || n == kBackupMarkerName ||
        wal::ParseSegmentFileName(n, &seg)) {
      Status s = io::UnlinkPlain(path + "/" + n);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
  }
  // The lock file goes last, while still held.
  Status s = io::UnlinkPlain(lock_path);
  if (!s.ok() && !s.IsNotFound()) return s;
  lock->reset();
  return io::RemoveDirectoryPlain(path);
}

const char* Version() { return "ringdb " RINGDB_VERSION_STRING; }

Status DBImpl::LockDirectory() {
  if (options_.read_only) return LockForReading();
  Result<std::unique_ptr<io::FileLock>> lock =
      io_->LockFile(dir_ + "/" + kLockFileName, io::LockKind::kExclusive, /*create=*/true);
  if (!lock.ok()) return lock.status();
  lock_ = std::move(lock.value());
  return Status::OK();
}

Status DBImpl::OpenOrCreate() {
  if (!ValidPageSize(options_.page_size)) {
    return Status::InvalidArgument("page_size " + std::to_string(options_.page_size) +
                                   " is not a power of two from 4096 to 65536");
  }
  if (!(options_.compact_leaf_fill >= 0.5 && options_.compact_leaf_fill <= 1.0)) {
    return Status::InvalidArgument("compact_leaf_fill " +
                                   std::to_string(options_.compact_leaf_fill) +
                                   " is not from 0.5 to 1");
  }
  if (!(options_.idle_compact_fill >= 0 && options_.idle_compact_fill <= 1.0)) {
    return Status::InvalidArgument("idle_compact_fill " +
                                   std::to_string(options_.idle_compact_fill) +
                                   " is not from 0 to 1");
  }
  io::PathKind kind = io::PathKindOf(dir_);
  bool exists = kind != io::PathKind::kMissing;
  if (exists && kind != io::PathKind::kDirectory) {
    return Status::InvalidArgument(dir_ + " is not a ringdb database (it is a file, and a "
                                   "database is a directory)");
  }
  if (!exists && (!options_.create_if_missing || options_.read_only)) {
    return Status::InvalidArgument(dir_ + " does not exist (and create_if_missing is off)");
  }
  if (!io_) {
    Result<io::BackendChoice> choice = io::NewIoBackend(options_.io_backend);
    if (!choice.ok()) return choice.status();
    io_ = std::move(choice->backend);
    if (!choice->fallback_reason.empty()) Log(choice->fallback_reason);
  }
  if (!exists) RINGDB_RETURN_IF_ERROR(io_->MakeDirectory(dir_));
  if (exists && io::PathKindOf(dir_ + "/" + kBackupMarkerName) != io::PathKind::kMissing) {
    return Status::InvalidArgument(dir_ + " is an incomplete backup (it holds " +
                                   kBackupMarkerName + "): the backup was interrupted; "
                                   "delete it and back up again");
  }
  const std::string data_path = dir_ + "/" + kDataFileName;
  bool have_data = io::PathKindOf(data_path) != io::PathKind::kMissing;
  if (!have_data) {
    Result<std::vector<std::string>> names = io::ListDirectoryPlain(dir_);
    if (!names.ok()) return names.status();
    for (const std::string& n : *names) {
      uint64_t seg;
      if (n != kLockFileName && n != kReadersFileName &&
          n != std::string(kDataFileName) + ".tmp" &&
          !wal::ParseSegmentFileName(n, &seg)) {
        return Status::InvalidArgument(dir_ + " is not a ringdb database (no " +
                                       kDataFileName + ", and it holds other files such as " +
                                       n + ")");
      }
    }
  }
  RINGDB_RETURN_IF_ERROR(LockDirectory());

  if (have_data) {
    if (options_.error_if_exists) {
      return Status::InvalidArgument(dir_ + " already exists (error_if_exists is on)");
    }
  } else {
    if (!options_.create_if_missing || options_.read_only) {
      return Status::InvalidArgument(dir_ + " holds no database (and create_if_missing is off)");
    }
    RINGDB_RETURN_IF_ERROR(CreateDatabase());
  }
  {
    // No other thread has the handle yet; the writers' state is set up
    // under write_mu_ all the same, as its annotations require.
    MutexLock lock(&write_mu_);
    RINGDB_RETURN_IF_ERROR(OpenFiles());
    if (snapshot_reader_) {
      NoteSnapshotReader();  // the writer's log is not ours to replay
    } else {
      RINGDB_RETURN_IF_ERROR(Recover());
    }
    if (!options_.read_only) RINGDB_RETURN_IF_ERROR(CheckpointLocked());
    ckpt_lsn_.store(sb_.ckpt_lsn, std::memory_order_release);
    // Everything recovered is applied: snapshots start from here.
    applied_lsn_.store(sb_.ckpt_lsn, std::memory_order_release);
  }
  opened_ = true;
  if (!options_.read_only && options_.auto_resume_interval_ms > 0) StartAutoResume();
  if ((!options_.read_only && options_.page_cleaner) || split_on()) StartPageCleaner();
  if (!options_.read_only && options_.idle_compact_ms > 0) StartIdleCompactor();
  return Status::OK();
}

// Builds an empty database in ringdb.data.tmp, checkpoints it and renames
// it into place, so a crash never leaves a half-made data file.
Status DBImpl::CreateDatabase() {
  const std::string tmp = dir_ + "/" + kDataFileName + ".tmp";
  Status gone = io_->Unlink(tmp);
  if (!gone.ok() && !gone.IsNotFound()) return gone;
  Result<io::FileId> f = io_->Open(tmp, io::OpenMode::kCreateReadWrite);
  if (!f.ok()) return f.status();
  Status s;
  {
    PageStore store(io_.get(), f.value(), options_.page_size);
    BufferPoolOptions po;
    po.pool_bytes = 64 * options_.page_size;
    po.page_size = options_.page_size;
    po.policy_name = "lru";
    po.lock_memory = false;
    po.register_buffers = false;
    std::string notice;
    Result<std::unique_ptr<BufferPool>> pool =
        BufferPool::Create(po, io_.get(), f.value(), &store, &notice);
    if (!pool.ok()) {
      s = pool.status();
    } else {
      store.set_pool(pool->get());
      Result<PageId> meta = BTree::Create(pool->get(), &store, Lsn());
      if (!meta.ok()) {
        s = meta.status();
      } else {
        Superblock sb;
        sb.page_size = options_.page_size;
        sb.btree_meta = meta->value;
        sb.log_segment = 1;
        sb.ckpt_lsn = Lsn();
        s = store.Checkpoint(&sb);
      }
    }
  }
  Status c = io_->Close(f.value());
  if (s.ok()) s = c;
  if (!s.ok()) return s.WithContext("creating " + dir_);
  const std::string data_path = dir_ + "/" + kDataFileName;
  RINGDB_RETURN_IF_ERROR(io_->Rename(tmp, data_path));
  return io_->SyncDirectory(dir_);
}

Status DBImpl::OpenFiles() {
  const std::string data_path = dir_ + "/" + kDataFileName;
  Result<io::FileId> f = io_->Open(
      data_path, options_.read_only ? io::OpenMode::kReadOnly : io::OpenMode::kReadWrite);
  if (!f.ok()) return f.status();
  data_file_ = f.value();
  Result<Superblock> sb = ReadSuperblock(io_.get(), data_file_);
  if (!sb.ok()) return sb.status();
  sb_ = sb.value();
  // A writer opening beside readers of an older checkpoint keeps their
  // pages (see db_impl.h).
  const bool hold = !options_.read_only && ReadersPresent();
  if (hold) Log("readers of an older checkpoint are open: the data file grows until they close");
  Result<std::unique_ptr<PageStore>> store = PageStore::Load(io_.get(), data_file_, sb_, hold);
  if (!store.ok()) return store.status();
  store_ = std::move(store.value());
  if (!options_.read_only) store_->set_reuse_gate([this] { return !ReadersPresent(); });

  BufferPoolOptions po;
  po.pool_bytes = options_.buffer_pool_bytes;
  po.max_pool_bytes = options_.buffer_pool_max_bytes;
  po.chunk_bytes = options_.buffer_pool_chunk_bytes;
  po.page_size = sb_.page_size;
  PlanCacheSplit(&po.pool_bytes, &po.max_pool_bytes, &po.chunk_bytes, po.page_size);
  po.policy_name = options_.eviction_policy;
  po.policy = options_.eviction_policy_object;
  po.lock_memory = options_.lock_pool_memory;
  std::string notice;
  Result<std::unique_ptr<BufferPool>> pool =
      BufferPool::Create(po, io_.get(), data_file_, store_.get(), &notice);
  if (!pool.ok()) return pool.status();
  if (!notice.empty()) Log(notice);
  pool_ = std::move(pool.value());
  store_->set_pool(pool_.get());
  pool_->SetWriteGate([this](Lsn lsn) { return GateWrite(lsn); });
  RINGDB_RETURN_IF_ERROR(StartCacheSplit());

  Result<std::unique_ptr<BTree>> tree = BTree::Open(pool_.get(), store_.get(),
                                                    PageId{sb_.btree_meta});
  if (!tree.ok()) return tree.status();
  tree_ = std::move(tree.value());
  return Status::OK();
}

namespace {

const char* ModeName(WalRecoveryMode mode) {
  switch (mode) {
    case WalRecoveryMode::kTolerateCorruptedTailRecords: return "tolerate-corrupted-tail";
    case WalRecoveryMode::kAbsoluteConsistency: return "absolute-consistency";
    case WalRecoveryMode::kPointInTimeRecovery: return "point-in-time";
    case WalRecoveryMode::kSkipAnyCorruptedRecords: return "skip-any-corrupted";
  }
  return "unknown";
}

std::string DescribeDamage(const wal::LogReader& reader, const wal::LogDamage& d) {
  std::string msg = reader.path() + " is damaged at offset " + std::to_string(d.offset) +
                    " (LSN " + std::to_string(d.lsn.value) + ", " + wal::LogTailName(reader.tail()) +
                    ")";
  if (d.followed) {
    msg += " and " + std::to_string(d.records_after) + " valid log record(s) follow from offset " +
           std::to_string(d.next_offset);
  }
  return msg;
}

}  // namespace

// One recovery, in steps: the segments from the checkpoint's on (FindChain),
// each replayed record by record (ReplaySegment, ReplayRecord), what a
// damaged log means under Options::wal_recovery_mode (AtEndOfRecords), and
// where the log goes on (Finish). Runs inside Open, alone.
class DBImpl::Recovery {
 public:
  explicit Recovery(DBImpl* db) REQUIRES(db->write_mu_)
      : db_(db), mode_(db->options_.wal_recovery_mode), lsn_(db->sb_.ckpt_lsn) {}

  Status Run() REQUIRES(db_->write_mu_) {
    RINGDB_RETURN_IF_ERROR(FindChain());
    for (size_t i = 0; i < chain_.size() && !stopped_; i++) {
      RINGDB_RETURN_IF_ERROR(ReplaySegment(i));
    }
    Finish();
    return Status::OK();
  }

 private:
  // The segments to replay: the superblock's and every later one.
  Status FindChain() REQUIRES(db_->write_mu_) {
    Result<std::vector<uint64_t>> segs = wal::ListSegments(db_->dir_);
    if (!segs.ok()) return segs.status();
    const Superblock sb = db_->sb_;
    db_->segment_ = sb.log_segment;
    for (uint64_t seg : segs.value()) {
      if (seg >= sb.log_segment) chain_.push_back(seg);
    }
    // A checkpoint deletes older segments only after its superblock is
    // durable, so the superblock's own segment exists, except right after
    // creation (seq 1), before the first open made one. If it is missing,
    // the superblock read is an older copy standing in for a damaged newer
    // one.
    if (sb.seq > 1 && (chain_.empty() || chain_.front() != sb.log_segment)) {
      return Status::Corruption(db_->dir_ + ": log segment " + std::to_string(sb.log_segment) +
                                " named by superblock seq " + std::to_string(sb.seq) +
                                " is missing (the newest superblock copy is damaged)");
    }
    // The next checkpoint numbers its segment after every existing one, so
    // that segments left unread (point-in-time recovery) are deleted with it.
    if (!chain_.empty()) db_->segment_ = chain_.back();
    return Status::OK();
  }

  // Replays chain_[i] from lsn_ (where the previous segment ended) and
  // moves lsn_ to where the next one starts.
  Status ReplaySegment(size_t i) REQUIRES(db_->write_mu_) {
    const bool last = i + 1 == chain_.size();
    const std::string path = wal::SegmentPath(db_->dir_, chain_[i]);
    Result<std::unique_ptr<wal::LogReader>> opened =
        wal::LogReader::Open(db_->io_.get(), path, lsn_);
    if (!opened.ok()) return opened.status().WithContext(db_->dir_);
    wal::LogReader& reader = **opened;
    std::string payload;
    for (;;) {
      uint8_t type = 0;
      Lsn end;
      bool eof = false;
      RINGDB_RETURN_IF_ERROR(reader.Next(&payload, &type, &end, &eof));
      if (eof) {
        bool skipped = false;
        RINGDB_RETURN_IF_ERROR(AtEndOfRecords(reader, i, &skipped));
        if (skipped) continue;
        break;
      }
      RINGDB_RETURN_IF_ERROR(ReplayRecord(path, type, end, payload));
    }
    // The next segment starts where this one's writer stopped appending:
    // its end of file, which is the end of the valid log unless damage was
    // skipped or tolerated.
    lsn_ = reader.end_of_valid_log();
    if (!last && mode_ == WalRecoveryMode::kSkipAnyCorruptedRecords) {
      lsn_ = reader.start_lsn() + reader.file_size();
    }
    return Status::OK();
  }

  // The reader of chain_[i] found no further record: its end of file, or
  // damage. Sets *skipped when the damage was skipped and reading goes on;
  // otherwise the segment ends here (and with point-in-time recovery, the
  // log: stopped_). Corruption when the mode refuses the damage.
  Status AtEndOfRecords(wal::LogReader& reader, size_t i, bool* skipped)
      REQUIRES(db_->write_mu_) {
    const wal::LogTail tail = reader.tail();
    if (tail == wal::LogTail::kEndOfFile) return Status::OK();
    const bool last = i + 1 == chain_.size();
    if (reader.end_of_valid_log() == lsn_ && tail == wal::LogTail::kBadLsn &&
        reader.failed_offset() == 0) {
      // The segment header names another start: the superblock read is
      // older than the log (its newer copy is damaged), or the log is.
      return Status::Corruption(reader.path() + " does not continue the log at LSN " +
                                std::to_string(lsn_.value) + " (superblock seq " +
                                std::to_string(db_->sb_.seq) + " is older than the log, or the "
                                "log is damaged)");
    }
    wal::LogDamage damage;
    RINGDB_RETURN_IF_ERROR(reader.Diagnose(&damage));
    if (last && tail == wal::LogTail::kZeroFill && damage.zero_to_end) {
      // Zeros from the last record to the end of the file: the blocks a
      // mapped writer reserved ahead (LogWriterOptions::map_bytes) and did
      // not reach before it stopped. The clean end of the log in every
      // mode; the open's checkpoint cuts the file back.
      CutBackAtOpen(reader);
      return Status::OK();
    }
    // A segment followed by another was closed cleanly (synced in full)
    // before the rotation: it has no torn tail.
    const bool torn = last && damage.TornTail();
    if (mode_ == WalRecoveryMode::kSkipAnyCorruptedRecords && damage.followed) {
      skipped_regions_++;
      skipped_bytes_ += damage.next_offset - damage.offset;
      db_->Log("skipping damaged log bytes: " + DescribeDamage(reader, damage));
      reader.SkipTo(damage);
      *skipped = true;
      return Status::OK();
    }
    if (mode_ == WalRecoveryMode::kPointInTimeRecovery ||
        mode_ == WalRecoveryMode::kSkipAnyCorruptedRecords) {
      if (torn) CutBackAtOpen(reader);
      if (!torn) {
        stopped_ = mode_ == WalRecoveryMode::kPointInTimeRecovery;
        db_->Log(std::string(ModeName(mode_)) + " recovery: " + DescribeDamage(reader, damage) +
                 "; recovered the log up to LSN " +
                 std::to_string(reader.end_of_valid_log().value) +
                 (stopped_ && !last ? " and ignored " + std::to_string(chain_.size() - i - 1) +
                                          " later segment(s)"
                                    : std::string()));
      }
      return Status::OK();
    }
    if (torn && mode_ == WalRecoveryMode::kTolerateCorruptedTailRecords) {
      CutBackAtOpen(reader);
      return Status::OK();
    }
    return Status::Corruption(DescribeDamage(reader, damage) +
                              (torn ? " (a torn tail; refused by wal_recovery_mode "
                                      "absolute-consistency)"
                                    : "; acknowledged writes after it would be lost") +
                              ". To salvage, open with wal_recovery_mode point-in-time "
                              "or skip-any-corrupted (shell: ringdb salvage DB "
                              "point-in-time|skip [FILE])");
  }

  // The last segment ends in a torn tail. The open's checkpoint creates
  // the next segment where the valid log ends; until its superblock is
  // durable, recovery reads this segment again, and then as one followed
  // by another, where a torn tail is damage ("acknowledged writes after it
  // would be lost"). So the checkpoint first cuts the segment back to its
  // valid end and syncs it (RepairLogLocked, as for a failed writer's
  // segment). A read-only open writes nothing.
  void CutBackAtOpen(const wal::LogReader& reader) REQUIRES(db_->write_mu_) {
    if (db_->options_.read_only || reader.end_of_valid_log() - reader.start_lsn() >=
                                       reader.file_size()) {
      return;
    }
    db_->abandoned_ =
        AbandonedLog{reader.path(), reader.start_lsn(), reader.end_of_valid_log()};
  }

  // Applies one record of segment `path`, ending at LSN `end`.
  Status ReplayRecord(const std::string& path, uint8_t type, Lsn end,
                      const std::string& payload) {
    if (type != kBatchRecord) {
      return Status::Corruption(path + ": unknown record type " + std::to_string(type) +
                                " ending at LSN " + std::to_string(end.value));
    }
    if (db_->options_.read_only) {
      return Status::InvalidArgument(db_->dir_ + " was not closed cleanly and needs recovery; "
                                     "open it once without read-only");
    }
    WriteBatch batch;
    RINGDB_RETURN_IF_ERROR(WriteBatchInternal::SetContents(&batch, payload).WithContext(path));
    size_t applied = 0;
    bool untouched = false;
    RINGDB_RETURN_IF_ERROR(
        db_->Apply(batch, end, &applied, &untouched).WithContext("replaying the log"));
    records_++;
    return Status::OK();
  }

  // The log goes on where the replayed one ended.
  void Finish() REQUIRES(db_->write_mu_) {
    db_->sb_.ckpt_lsn = lsn_;  // where the next segment starts
    db_->log_end_ = lsn_;
    db_->recovered_records_ = records_;
    if (records_ > 0) {
      db_->Log("recovered " + std::to_string(records_) + " log records in " + db_->dir_);
    }
    if (skipped_regions_ > 0) {
      db_->Log(std::string(ModeName(mode_)) + " recovery skipped " +
               std::to_string(skipped_regions_) + " damaged log region(s), " +
               std::to_string(skipped_bytes_) + " bytes");
    }
  }

  DBImpl* const db_;
  const WalRecoveryMode mode_;
  Lsn lsn_;  // where the segment being read starts
  std::vector<uint64_t> chain_;
  uint64_t records_ = 0;
  uint64_t skipped_regions_ = 0, skipped_bytes_ = 0;
  bool stopped_ = false;  // point-in-time recovery ended the log early
};

// Replays every log record after the checkpoint, segment by segment, and
// decides what a damaged log means (Options::wal_recovery_mode).
// Recovery's steps require db_->write_mu_, this handle's write_mu_ (held,
// as Recover requires); the analysis cannot see through the member.
Status DBImpl::Recover() NO_THREAD_SAFETY_ANALYSIS { return Recovery(this).Run(); }

}  // namespace ringdb
