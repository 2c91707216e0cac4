// Test helper: how much of a file the kernel's page cache holds.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ringdb::test {

// Pages of file `path` in the page cache (mincore over a read-only map of
// it), and through *total (when set) the file's pages. SIZE_MAX when the
// file cannot be opened or mapped; 0 for an empty file.
inline size_t ResidentPages(const std::string& path, size_t* total = nullptr) {
  if (total != nullptr) *total = 0;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return SIZE_MAX;
  struct stat st;
  size_t resident = SIZE_MAX;
  if (::fstat(fd, &st) == 0) {
    const size_t len = static_cast<size_t>(st.st_size);
    const size_t pages = (len + 4095) / 4096;
    if (total != nullptr) *total = pages;
    if (len == 0) {
      resident = 0;
    } else if (void* map = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0); map != MAP_FAILED) {
      std::vector<unsigned char> vec(pages);
      if (::mincore(map, len, vec.data()) == 0) {
        resident = 0;
        for (unsigned char v : vec) resident += v & 1;
      }
      ::munmap(map, len);
    }
  }
  ::close(fd);
  return resident;
}

}  // namespace ringdb::test
