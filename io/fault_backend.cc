// FaultBackend: fault injection and power-cut simulation over a real
// backend. See fault_backend.h for the model.
#include "io/fault_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "io/aligned_buffer.h"
#include "util/check.h"

namespace ringdb::io {
namespace {

size_t Index(FaultOp op) { return static_cast<size_t>(op); }

int ErrnoOf(FaultKind kind) { return kind == FaultKind::kEnospc ? ENOSPC : EIO; }

// Reads up to `len` bytes at `offset` of `path` through the page cache;
// stops early at the end of the file.
Status ReadPlain(const std::string& path, uint64_t offset, uint64_t len,
                 std::string* out) {
  out->assign(len, '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open for pre-image", path, 0);
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, out->data() + done, len - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "pre-image read", path, offset + done);
    }
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  out->resize(done);
  return Status::OK();
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string KeepPath(const std::string& path) { return path + ".fault-keep"; }

}  // namespace

FaultBackend::FaultBackend(std::unique_ptr<IoBackend> inner)
    : inner_(std::move(inner)) {
  RINGDB_CHECK(inner_ != nullptr);
}

std::string FaultBackend::Name() const {
  return "fault(" + inner_->Name() + ")";
}

Status FaultBackend::RegisterBuffer(void* base, size_t len) {
  return inner_->RegisterBuffer(base, len);
}

void FaultBackend::Arm(const Fault& fault) {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  fault_ = fault;
  since_arm_.fill(0);
  fired_.store(false);
}

void FaultBackend::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
  crashed_ = false;
}

uint64_t FaultBackend::count(FaultOp op) const {
  return counts_[Index(op)].load();
}

void FaultBackend::TrackUnsynced(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  tracking_ = on;
  if (!on) {
    shadows_.clear();
    for (const auto& [dir, changes] : dir_changes_) {
      for (const DirChange& c : changes) {
        if (c.kept) (void)::unlink(KeepPath(c.path).c_str());
      }
    }
    dir_changes_.clear();
  }
}

bool FaultBackend::NextOpFaults(FaultOp op, Action* action) {
  counts_[Index(op)].fetch_add(1);
  const uint64_t n = ++since_arm_[Index(op)];
  if (crashed_) {
    action->kind = Action::Kind::kFail;
    action->fault = FaultKind::kEio;
    return true;
  }
  if (!armed_ || fault_.op != op || fault_.nth != n) return false;
  armed_ = false;
  fired_.store(true);
  crashed_ = fault_.crash;
  action->fault = fault_.kind;
  action->bytes = fault_.bytes;
  const bool partial = op == FaultOp::kWrite &&
                       (fault_.kind == FaultKind::kShortWrite ||
                        fault_.kind == FaultKind::kTornWrite);
  action->kind = partial ? Action::Kind::kPartial : Action::Kind::kFail;
  return true;
}

Status FaultBackend::OpenFaults(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Action action;
  if (NextOpFaults(FaultOp::kOpen, &action)) {
    return ErrnoStatus(ErrnoOf(action.fault), "open (injected fault)", path, 0);
  }
  return Status::OK();
}

Result<FileId> FaultBackend::Open(const std::string& path, OpenMode mode) {
  RINGDB_RETURN_IF_ERROR(OpenFaults(path));
  const bool creates = mode == OpenMode::kCreateReadWrite && !PathExists(path);
  Result<FileId> id = inner_->Open(path, mode);
  if (id.ok() && static_cast<size_t>(id->value) < buffered_.size()) {
    buffered_[id->value].store(false);
  }
  if (id.ok() && creates) NoteCreated(path);
  return id;
}

Result<FileId> FaultBackend::OpenBuffered(const std::string& path,
                                          OpenMode mode) {
  RINGDB_RETURN_IF_ERROR(OpenFaults(path));
  const bool creates = mode == OpenMode::kCreateReadWrite && !PathExists(path);
  Result<FileId> id = inner_->OpenBuffered(path, mode);
  if (id.ok() && static_cast<size_t>(id->value) < buffered_.size()) {
    buffered_[id->value].store(true);
  }
  if (id.ok() && creates) NoteCreated(path);
  return id;
}

void FaultBackend::NoteCreated(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  NoteDirChangeLocked({DirChange::Kind::kCreated, path, "", false});
}

Status FaultBackend::DirectoryFault(std::string_view what, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Action action;
  if (!NextOpFaults(FaultOp::kDirectory, &action)) return Status::OK();
  return PathErrnoStatus(ErrnoOf(action.fault), std::string(what) + " (injected fault)", path);
}

void FaultBackend::NoteDirChangeLocked(DirChange change) {
  if (!tracking_) return;
  dir_changes_[DirOf(change.path)].push_back(std::move(change));
}

Status FaultBackend::SyncDirectory(const std::string& dir) {
  RINGDB_RETURN_IF_ERROR(DirectoryFault("fsync directory", dir));
  RINGDB_RETURN_IF_ERROR(inner_->SyncDirectory(dir));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dir_changes_.find(dir);
  if (it != dir_changes_.end()) {
    for (const DirChange& c : it->second) {
      if (c.kept) (void)::unlink(KeepPath(c.path).c_str());
    }
    dir_changes_.erase(it);
  }
  return Status::OK();
}

Status FaultBackend::Rename(const std::string& from, const std::string& to) {
  RINGDB_RETURN_IF_ERROR(DirectoryFault("rename to " + to, from));
  std::lock_guard<std::mutex> lock(mu_);
  DirChange c{DirChange::Kind::kRenamed, to, from, false};
  if (tracking_ && PathExists(to)) {
    (void)::unlink(KeepPath(to).c_str());
    c.kept = ::link(to.c_str(), KeepPath(to).c_str()) == 0;
  }
  RINGDB_RETURN_IF_ERROR(inner_->Rename(from, to));
  NoteDirChangeLocked(std::move(c));
  return Status::OK();
}

Status FaultBackend::Unlink(const std::string& path) {
  RINGDB_RETURN_IF_ERROR(DirectoryFault("unlink", path));
  std::lock_guard<std::mutex> lock(mu_);
  DirChange c{DirChange::Kind::kUnlinked, path, "", false};
  if (tracking_ && PathExists(path)) {
    (void)::unlink(KeepPath(path).c_str());
    c.kept = ::link(path.c_str(), KeepPath(path).c_str()) == 0;
  }
  RINGDB_RETURN_IF_ERROR(inner_->Unlink(path));
  NoteDirChangeLocked(std::move(c));
  return Status::OK();
}

Status FaultBackend::MakeDirectory(const std::string& dir) {
  RINGDB_RETURN_IF_ERROR(DirectoryFault("mkdir", dir));
  return inner_->MakeDirectory(dir);
}

Status FaultBackend::UndoDirChangesLocked() {
  Status result;
  auto note = [&](int err, std::string_view what, const std::string& path) {
    if (result.ok()) result = PathErrnoStatus(err, "power cut: " + std::string(what), path);
  };
  for (auto& [dir, changes] : dir_changes_) {
    for (auto c = changes.rbegin(); c != changes.rend(); ++c) {
      switch (c->kind) {
        case DirChange::Kind::kCreated:
          if (::unlink(c->path.c_str()) != 0 && errno != ENOENT) note(errno, "unlink", c->path);
          shadows_.erase(c->path);
          break;
        case DirChange::Kind::kRenamed:
          if (::rename(c->path.c_str(), c->from.c_str()) != 0 && errno != ENOENT) {
            note(errno, "undo rename", c->path);
          }
          if (c->kept && ::rename(KeepPath(c->path).c_str(), c->path.c_str()) != 0) {
            note(errno, "restore renamed-over file", c->path);
          }
          break;
        case DirChange::Kind::kUnlinked:
          if (c->kept && ::rename(KeepPath(c->path).c_str(), c->path.c_str()) != 0) {
            note(errno, "restore unlinked file", c->path);
          }
          break;
      }
    }
    (void)SyncDirectoryPlain(dir);  // best effort: the crash has already been reported
  }
  dir_changes_.clear();
  return result;
}

Status FaultBackend::Close(FileId file) { return inner_->Close(file); }

std::string FaultBackend::PathOf(FileId file) const {
  return inner_->PathOf(file);
}

Result<uint64_t> FaultBackend::FileSize(FileId file) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) {
      return ErrnoStatus(EIO, "fstat (crashed)", inner_->PathOf(file), 0);
    }
  }
  return inner_->FileSize(file);
}

Status FaultBackend::Truncate(FileId file, uint64_t size) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) {
      return ErrnoStatus(EIO, "ftruncate (crashed)", inner_->PathOf(file),
                         size);
    }
    if (tracking_) {
      Result<uint64_t> old_size = inner_->FileSize(file);
      if (!old_size.ok()) return old_size.status();
      // Save what the cut removes; also records the synced size.
      uint64_t cut = *old_size > size ? *old_size - size : 0;
      RINGDB_RETURN_IF_ERROR(SaveRange(file, std::min(size, *old_size), cut));
    }
  }
  return inner_->Truncate(file, size);
}

Status FaultBackend::PunchHole(FileId file, uint64_t offset, uint64_t len) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Action action;
    if (NextOpFaults(FaultOp::kWrite, &action)) {
      return ErrnoStatus(ErrnoOf(action.fault), "punch hole (injected fault)",
                         inner_->PathOf(file), offset);
    }
    if (tracking_) RINGDB_RETURN_IF_ERROR(SaveRange(file, offset, len));
  }
  return inner_->PunchHole(file, offset, len);
}

// Not a scheduled operation (faults are injected into writes and syncs,
// and the engine treats a failed reservation as a hint that failed); after
// a crash it fails like every I/O, and a power cut before the next sync
// takes the range back.
Status FaultBackend::Allocate(FileId file, uint64_t offset, uint64_t len) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) {
      return ErrnoStatus(EIO, "fallocate (crashed)", inner_->PathOf(file), offset);
    }
    if (tracking_) RINGDB_RETURN_IF_ERROR(SaveRange(file, offset, len));
  }
  return inner_->Allocate(file, offset, len);
}

Status FaultBackend::SaveRange(FileId file, uint64_t offset, uint64_t len) {
  const std::string path = inner_->PathOf(file);
  auto [it, inserted] = shadows_.try_emplace(path);
  Shadow& shadow = it->second;
  if (inserted) {
    Result<uint64_t> size = inner_->FileSize(file);
    if (!size.ok()) {
      shadows_.erase(it);
      return size.status();
    }
    shadow.synced_size = *size;
  }
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  auto next = shadow.saved.upper_bound(pos);
  if (next != shadow.saved.begin()) {
    auto prev = std::prev(next);
    pos = std::max(pos, prev->second);
  }
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  while (pos < end) {
    if (next != shadow.saved.end() && next->first <= pos) {
      pos = std::max(pos, next->second);
      ++next;
      continue;
    }
    uint64_t gap_end =
        next != shadow.saved.end() ? std::min(end, next->first) : end;
    gaps.emplace_back(pos, gap_end);
    pos = gap_end;
  }
  for (const auto& [start, stop] : gaps) {
    PreImage image;
    image.offset = start;
    image.len = stop - start;
    RINGDB_RETURN_IF_ERROR(ReadPlain(path, start, image.len, &image.old));
    shadow.images.push_back(std::move(image));
    shadow.saved.emplace(start, stop);
  }
  return Status::OK();
}

Status FaultBackend::WritePrefix(const IoRequest& req, uint32_t bytes) {
  bytes = std::min(bytes, req.len);
  if (bytes == 0) return Status::OK();
  const bool buffered = static_cast<size_t>(req.file.value) < buffered_.size() &&
                        buffered_[req.file.value].load();
  if (!inner_->direct() || buffered) {
    return inner_->Write(req.file, req.offset, req.buf, bytes);
  }
  // Read-modify-write of the whole blocks the prefix touches.
  const uint32_t span =
      (bytes + kDirectIoAlignment - 1) / kDirectIoAlignment * kDirectIoAlignment;
  std::string old;
  RINGDB_RETURN_IF_ERROR(
      ReadPlain(inner_->PathOf(req.file), req.offset, span, &old));
  AlignedBuffer block = NewAlignedBuffer(span);  // zeroed
  if (block == nullptr) return Status::IOError("out of memory for a torn-write block");
  std::memcpy(block.get(), old.data(), old.size());
  std::memcpy(block.get(), req.buf, bytes);
  return inner_->Write(req.file, req.offset, block.get(), span);
}

Status FaultBackend::Submit(std::span<IoRequest> requests) {
  std::vector<Action> actions(requests.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < requests.size(); ++i) {
      const IoRequest& req = requests[i];
      const bool is_write = req.op == IoRequest::Op::kWrite;
      NextOpFaults(is_write ? FaultOp::kWrite : FaultOp::kRead, &actions[i]);
      if (is_write && tracking_ && actions[i].kind != Action::Kind::kFail &&
          inner_->PathOf(req.file) != "") {
        Status s = SaveRange(req.file, req.offset, req.len);
        if (!s.ok()) {
          // Without a pre-image the write could not be undone: refuse it.
          actions[i].kind = Action::Kind::kFail;
          requests[i].status = s;
        }
      }
    }
  }
  std::vector<IoRequest> forward;
  std::vector<size_t> forward_index;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (actions[i].kind == Action::Kind::kForward) {
      forward.push_back(requests[i]);
      forward_index.push_back(i);
    }
  }
  if (!forward.empty()) {
    (void)inner_->Submit(forward);  // per-request statuses are copied below
    for (size_t j = 0; j < forward.size(); ++j) {
      requests[forward_index[j]].status = forward[j].status;
    }
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    IoRequest& req = requests[i];
    const Action& action = actions[i];
    const std::string what =
        req.op == IoRequest::Op::kWrite ? "write" : "read";
    if (action.kind == Action::Kind::kFail) {
      if (req.status.ok()) {
        req.status = ErrnoStatus(ErrnoOf(action.fault),
                                 what + " (injected fault)",
                                 inner_->PathOf(req.file), req.offset);
      }
    } else if (action.kind == Action::Kind::kPartial) {
      Status s = WritePrefix(req, action.bytes);
      const uint32_t kept = std::min(action.bytes, req.len);
      if (!s.ok()) {
        req.status = s;
      } else if (action.fault == FaultKind::kShortWrite) {
        req.status = Status::IOError(
            inner_->PathOf(req.file) + ": short write at offset " +
            std::to_string(req.offset) + ": " + std::to_string(kept) + " of " +
            std::to_string(req.len) + " bytes written (injected fault)");
      } else {
        req.status = ErrnoStatus(EIO, "torn write (injected fault, " +
                                          std::to_string(kept) +
                                          " bytes reached the file)",
                                 inner_->PathOf(req.file), req.offset);
      }
    }
  }
  for (const IoRequest& req : requests) {
    if (!req.status.ok()) return req.status;
  }
  return Status::OK();
}

Status FaultBackend::Sync(FileId file) {
  std::string path = inner_->PathOf(file);
  {
    std::lock_guard<std::mutex> lock(mu_);
    Action action;
    if (NextOpFaults(FaultOp::kSync, &action)) {
      return ErrnoStatus(ErrnoOf(action.fault), "fdatasync (injected fault)",
                         path, 0);
    }
  }
  RINGDB_RETURN_IF_ERROR(inner_->Sync(file));
  std::lock_guard<std::mutex> lock(mu_);
  shadows_.erase(path);
  return Status::OK();
}

Status FaultBackend::PowerCut(uint64_t seed, bool tear) {
  std::lock_guard<std::mutex> lock(mu_);
  std::mt19937_64 rng(seed);
  Status result;
  for (auto& [path, shadow] : shadows_) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // removed since: nothing to restore
      if (result.ok()) result = ErrnoStatus(errno, "power cut: open", path, 0);
      continue;
    }
    for (const PreImage& image : shadow.images) {
      uint64_t keep = 0;  // bytes of new data that survive (a torn page)
      const uint64_t sectors = image.old.size() / 512;
      if (tear && sectors >= 2 && (rng() & 1) != 0) {
        keep = 512 * (1 + rng() % (sectors - 1));
      }
      uint64_t done = keep;
      while (done < image.old.size()) {
        ssize_t n = ::pwrite(fd, image.old.data() + done,
                             image.old.size() - done,
                             static_cast<off_t>(image.offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          if (result.ok()) {
            result = ErrnoStatus(n < 0 ? errno : EIO, "power cut: restore",
                                 path, image.offset + done);
          }
          break;
        }
        done += static_cast<uint64_t>(n);
      }
    }
    if (::ftruncate(fd, static_cast<off_t>(shadow.synced_size)) != 0 &&
        result.ok()) {
      result = ErrnoStatus(errno, "power cut: ftruncate", path,
                           shadow.synced_size);
    }
    if (::fdatasync(fd) != 0 && result.ok()) {
      result = ErrnoStatus(errno, "power cut: fdatasync", path, 0);
    }
    ::close(fd);
  }
  shadows_.clear();
  Status dirs = UndoDirChangesLocked();
  if (result.ok()) result = dirs;
  armed_ = false;
  crashed_ = false;
  return result;
}

}  // namespace ringdb::io
