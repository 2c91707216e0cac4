// TmpfsMount. See tmpfs_mount.h.
#include "tests/util/tmpfs_mount.h"

#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ringdb::test {

std::unique_ptr<TmpfsMount> TmpfsMount::Create(const std::string& label, const std::string& size,
                                               std::string* why) {
  if (::geteuid() != 0) {
    *why = "mounting a tmpfs needs root (running as uid " + std::to_string(::geteuid()) + ")";
    return nullptr;
  }
  std::string tmpl = "/tmp/ringdb_" + label + ".XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *why = "mkdtemp " + tmpl + ": " + std::strerror(errno);
    return nullptr;
  }
  const std::string opts = "size=" + size;
  if (::mount("tmpfs", tmpl.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    std::filesystem::remove(tmpl, ec);
    *why = "mount -t tmpfs -o " + opts + " is not permitted here: " + std::strerror(err);
    return nullptr;
  }
  return std::unique_ptr<TmpfsMount>(new TmpfsMount(tmpl));
}

TmpfsMount::~TmpfsMount() {
  if (::umount2(path_.c_str(), 0) != 0) ::umount2(path_.c_str(), MNT_DETACH);
  std::error_code ec;  // best effort
  std::filesystem::remove_all(path_, ec);
}

bool TmpfsMount::Resize(const std::string& size) {
  const std::string opts = "size=" + size;
  return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
}

}  // namespace ringdb::test
