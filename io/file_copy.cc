// Kernel-to-kernel file copies with fallbacks. See file_copy.h.
#include "io/file_copy.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "io/dir_ops.h"

namespace ringdb::io {
namespace {

// True for the errors that mean "this method cannot copy between these
// files" (so the next method should try), as opposed to a real failure.
bool Unsupported(int err) {
  return err == ENOSYS || err == EXDEV || err == EINVAL || err == EOPNOTSUPP ||
         err == ENOTSUP;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Copies with `method` from the current offsets; *done counts bytes.
// Returns the errno that stopped it (0 when all `length` bytes went, or the
// source ended).
int CopyWith(CopyMethod method, int in, int out, uint64_t length, uint64_t* done) {
  std::vector<char> buf;
  while (*done < length) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length - *done, 1u << 30));
    ssize_t n = 0;
    switch (method) {
      case CopyMethod::kCopyFileRange:
        n = ::copy_file_range(in, nullptr, out, nullptr, want, 0);
        break;
      case CopyMethod::kSendfile:
        n = ::sendfile(out, in, nullptr, want);
        break;
      case CopyMethod::kReadWrite: {
        buf.resize(1 << 20);
        n = ::read(in, buf.data(), std::min(want, buf.size()));
        if (n > 0) {
          ssize_t off = 0;
          while (off < n) {
            ssize_t w = ::write(out, buf.data() + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return w < 0 ? errno : EIO;
            off += w;
          }
        }
        break;
      }
      default:
        return EINVAL;  // not a method
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;  // the source is shorter: done
    *done += static_cast<uint64_t>(n);
  }
  return 0;
}

}  // namespace

const char* CopyMethodName(CopyMethod m) {
  switch (m) {
    case CopyMethod::kCopyFileRange: return "copy_file_range";
    case CopyMethod::kSendfile: return "sendfile";
    case CopyMethod::kReadWrite: return "read/write";
  }
  return "?";
}

Status CopyFilePrefix(const std::string& from, const std::string& to, uint64_t length,
                      CopyMethod first, CopyResult* result) {
  *result = CopyResult();
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return PathErrnoStatus(errno, "open for copying", from);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (out.get() < 0) return PathErrnoStatus(errno, "create", to);
  for (int m = static_cast<int>(first); m <= static_cast<int>(CopyMethod::kReadWrite); m++) {
    CopyMethod method = static_cast<CopyMethod>(m);
    uint64_t done = result->bytes;
    int err = CopyWith(method, in.get(), out.get(), length, &done);
    if (done > result->bytes) result->method = method;  // it did (some of) the work
    result->bytes = done;
    if (err == 0) {
      if (result->bytes == 0) result->method = method;
      if (::fdatasync(out.get()) != 0) return PathErrnoStatus(errno, "fdatasync", to);
      return Status::OK();
    }
    // An unsupported method falls back to the next one, which goes on
    // where it stopped: every method advances both files' offsets.
    if (!Unsupported(err)) return PathErrnoStatus(err, "copying into " + to, from);
  }
  return Status::IOError(from + ": no copy method works between it and " + to);
}

}  // namespace ringdb::io
