// Plain directory and lock-file operations. See dir_ops.h.
#include "io/dir_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ringdb::io {

Status PathErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string msg = path;
  msg += ": ";
  msg += what;
  msg += ": ";
  msg += std::strerror(err);
  if (err == EROFS) msg += " (open the database read-only to read it here)";
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg);
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

Status SyncDirectoryPlain(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PathErrnoStatus(errno, "open directory", dir);
  Status s;
  if (::fsync(fd) != 0) s = PathErrnoStatus(errno, "fsync directory", dir);
  ::close(fd);
  return s;
}

Status RenamePlain(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return PathErrnoStatus(errno, "rename to " + to, from);
  }
  return Status::OK();
}

Status UnlinkPlain(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return PathErrnoStatus(errno, "unlink", path);
  return Status::OK();
}

Status MakeDirectoryPlain(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return Status::OK();
  int err = errno;
  struct stat st;
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::OK();
  }
  if (err == ENOENT) {
    return Status::IOError(dir + ": mkdir: its parent directory does not exist");
  }
  return PathErrnoStatus(err, "mkdir", dir);
}

Status RemoveDirectoryPlain(const std::string& dir) {
  if (::rmdir(dir.c_str()) != 0) return PathErrnoStatus(errno, "rmdir", dir);
  return Status::OK();
}

PathKind PathKindOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return PathKind::kMissing;
  if (S_ISDIR(st.st_mode)) return PathKind::kDirectory;
  if (S_ISREG(st.st_mode)) return PathKind::kFile;
  return PathKind::kOther;
}

Result<std::vector<std::string>> ListDirectoryPlain(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());  // opendir uses O_CLOEXEC
  if (d == nullptr) return PathErrnoStatus(errno, "list directory", dir);
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return PathErrnoStatus(err, "list directory", dir);
  return out;
}

Result<std::unique_ptr<FileLock>> LockFilePlain(const std::string& path, LockKind kind,
                                                bool create) {
  int flags = (kind == LockKind::kExclusive ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags | (create ? O_CREAT : 0), 0644);
  if (fd < 0 && kind == LockKind::kShared && create && errno != ENOENT) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // e.g. a read-only place
  }
  if (fd < 0) {
    const int err = errno;
    Status st = PathErrnoStatus(err, "open lock file", path);
    if (kind == LockKind::kExclusive && (err == EACCES || err == EPERM)) {
      return Status::IOError(st.message() + " (no write permission here: open the database "
                                            "read-only to read it)");
    }
    return st;
  }
  if (::flock(fd, (kind == LockKind::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      const std::string holders = LockHolders(path);
      if (holders == "this process") {
        return Status::Busy(path + " is locked by this process: the database is open through "
                                   "another DB handle here");
      }
      return Status::Busy(path + " is locked" + (holders.empty() ? "" : " by " + holders) +
                          ": the database is open elsewhere (in another process, or through "
                          "another DB handle in this one)");
    }
    return PathErrnoStatus(err, "flock", path);
  }
  return std::make_unique<FileLock>(fd, path);
}

std::string LockHolders(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  FILE* f = std::fopen("/proc/locks", "re");
  if (f == nullptr) return "";
  std::vector<long> pids;
  char line[256];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:02:131 0 EOF"; waiters read "1: -> FLOCK ...".
    char kind[16], mode[16], rw[16];
    long pid;
    unsigned maj, min;
    unsigned long long ino;
    if (std::sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", kind, mode, rw, &pid, &maj,
                    &min, &ino) != 7) {
      continue;
    }
    // The inode only: on overlayfs the lock sits on the upper file, whose
    // device differs from what stat() shows.
    if (std::strcmp(kind, "FLOCK") != 0 || ino != st.st_ino || pid <= 0) continue;
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
  }
  std::fclose(f);
  std::string out;
  for (long pid : pids) {
    if (!out.empty()) out += ", ";
    if (pid == ::getpid()) {
      out += "this process";
      continue;
    }
    out += "process " + std::to_string(pid);
    std::string comm;
    if (FILE* c = std::fopen(("/proc/" + std::to_string(pid) + "/comm").c_str(), "re")) {
      char name[64];
      if (std::fgets(name, sizeof(name), c) != nullptr) comm = name;
      std::fclose(c);
    }
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (!comm.empty()) out += " (" + comm + ")";
  }
  return out;
}

}  // namespace ringdb::io
