#include "sysinfo.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

namespace ringdb_bench {
namespace {

// The number after "<label>" on the first line that starts with it, times
// `unit`; 0 when absent.
uint64_t FieldOf(const std::string& file, const std::string& label, uint64_t unit) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, label.size(), label) == 0) {
      return std::strtoull(line.c_str() + label.size(), nullptr, 10) * unit;
    }
  }
  return 0;
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

ProcSample SampleProc() {
  ProcSample s;
  {
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    if (statm >> size >> resident) {
      s.rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    }
  }
  s.hwm_bytes = FieldOf("/proc/self/status", "VmHWM:", 1024);
  s.rss_anon_bytes = FieldOf("/proc/self/status", "RssAnon:", 1024);
  s.page_cache_bytes = FieldOf("/proc/meminfo", "Cached:", 1024);
  std::ifstream io("/proc/self/io");
  std::string line;
  while (std::getline(io, line)) {
    s.io_available = true;
    if (line.rfind("read_bytes:", 0) == 0) {
      s.dev_read_bytes = std::strtoull(line.c_str() + 11, nullptr, 10);
    } else if (line.rfind("write_bytes:", 0) == 0) {
      s.dev_write_bytes = std::strtoull(line.c_str() + 12, nullptr, 10);
    }
  }
  return s;
}

bool ResetPeakRss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  bool ok = std::fputs("5", f) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  return ok;
}

MachineInfo GetMachineInfo() {
  MachineInfo m;
  m.nproc = static_cast<int>(std::thread::hardware_concurrency());
  m.mem_total_bytes = FieldOf("/proc/meminfo", "MemTotal:", 1024);
  struct utsname u;
  if (uname(&u) == 0) {
    m.kernel = std::string(u.sysname) + " " + u.release;
    m.hostname = u.nodename;
  }
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) m.cpu_model = Trim(line.substr(colon + 1));
      break;
    }
  }
  return m;
}

int64_t FreeBytes(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path);
  std::error_code ec;
  while (!p.empty() && !std::filesystem::exists(p, ec)) {
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  struct statvfs st;
  if (statvfs(p.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

uint64_t DirectoryBytes(const std::string& dir) { return DiskUsageOf(dir).file_bytes; }

DiskUsage DiskUsageOf(const std::string& dir) {
  std::error_code ec;
  DiskUsage usage;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    // A file removed meanwhile (RocksDB deletes obsolete files) is skipped.
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    usage.file_bytes += static_cast<uint64_t>(st.st_size);
    usage.allocated_bytes += static_cast<uint64_t>(st.st_blocks) * 512;  // 512-byte units
  }
  return usage;
}

uint64_t PageCacheBytesOf(const std::string& dir) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::error_code ec;
  uint64_t total = 0;
  std::vector<unsigned char> resident;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      const size_t len = static_cast<size_t>(st.st_size);
      void* m = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
      if (m != MAP_FAILED) {
        resident.assign((len + page - 1) / page, 0);
        if (::mincore(m, len, resident.data()) == 0) {
          for (unsigned char r : resident) total += (r & 1) ? page : 0;
        }
        ::munmap(m, len);
      }
    }
    ::close(fd);
  }
  return total;
}

std::string GitCommit(const std::string& source_dir) {
  int rc = 0;
  std::string out =
      RunCommand("git -C " + ShellQuote(source_dir) + " rev-parse --short HEAD 2>/dev/null", &rc);
  out = Trim(out);
  return rc == 0 && !out.empty() ? out : "unknown";
}

}  // namespace ringdb_bench
